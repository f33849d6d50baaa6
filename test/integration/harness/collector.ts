/**
 * A real collector process for a test: `node --import tsx collector/src/cli/main.ts collector
 * --config <file>` with ports of its own, a data dir in the test's scratch space, a fixed API token,
 * and the chosen storage backend and broker. Ready means its ready line (`{"event":"ready",…}`) on
 * stdout, with the configured ports, and `GET /api/v1/health` answering.
 * It can be stopped and started again on the same data dir and ports (the outage test).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Api } from './api.js';
import type { Backend } from './backends.js';
import { COLLECTOR_MAIN, NODE_TS_ARGS, repoRoot } from './env.js';
import { freePort } from './ports.js';
import { describeExit, type Exit, type ManagedProcess } from './process.js';
import type { TestScope } from './scope.js';

export interface ExternalBroker {
  url: string;
  username: string;
  password: string;
}

export interface CollectorOptions {
  backend: Backend;
  /** Run as a client of this broker instead of the embedded one. */
  externalBroker?: ExternalBroker;
  /**
   * ingest.healthIntervalSeconds (heartbeat timeout 3×). Default 60: a loaded test machine can delay
   * an agent's 1 s health reports by seconds, and only tests about the heartbeat want it short.
   */
  healthIntervalSeconds?: number;
  /** Label for logs when a test runs more than one collector. */
  label?: string;
  /** More configuration, merged over the defaults (objects key by key), e.g. `{ jobs: { … }, http: { publicUrl } }`. */
  extraConfig?: Record<string, unknown>;
}

/** The JSON line `pcapmesh collector` prints on stdout once it serves (cli/ready.ts). */
export const READY_LINE = /^\{"event":"ready"/;

let instances = 0;

export class Collector {
  readonly dataDir: string;
  readonly configFile: string;
  readonly apiToken = randomBytes(24).toString('hex');
  readonly api: Api;
  private proc: ManagedProcess | undefined;
  private starts = 0;

  private constructor(
    private readonly scope: TestScope,
    private readonly opts: CollectorOptions,
    readonly httpPort: number,
    /** Embedded broker port (unused with an external broker). */
    readonly mqttPort: number,
    private readonly label: string,
  ) {
    this.dataDir = join(scope.dir, label, 'data');
    this.configFile = join(scope.dir, label, 'collector.yaml');
    mkdirSync(this.dataDir, { recursive: true });
    // JSON is YAML: no YAML writer needed.
    writeFileSync(this.configFile, JSON.stringify(this.configObject(), null, 2));
    this.api = new Api(`http://127.0.0.1:${httpPort}`, this.apiToken);
  }

  static async create(scope: TestScope, opts: CollectorOptions): Promise<Collector> {
    const label = opts.label ?? `collector${instances++ === 0 ? '' : instances}`;
    return new Collector(scope, opts, await freePort(), await freePort(), label);
  }

  /** The URL agents connect to: the embedded broker, or the external one. */
  get mqttUrl(): string {
    return this.opts.externalBroker?.url ?? `mqtt://127.0.0.1:${this.mqttPort}`;
  }

  get process(): ManagedProcess {
    if (!this.proc) throw new Error(`${this.label} was never started`);
    return this.proc;
  }

  /** Merges more configuration over what is set and rewrites the config file (takes effect at the next start). */
  configure(extra: Record<string, unknown>): void {
    this.opts.extraConfig = mergeConfig(this.opts.extraConfig ?? {}, extra);
    writeFileSync(this.configFile, JSON.stringify(this.configObject(), null, 2));
  }

  private configObject(): Record<string, unknown> {
    const { backend, externalBroker } = this.opts;
    return mergeConfig(
      {
        dataDir: this.dataDir,
        http: { host: '127.0.0.1', port: this.httpPort, apiToken: this.apiToken },
        mqtt: externalBroker
          ? { url: externalBroker.url, username: externalBroker.username, password: externalBroker.password }
          : { host: '127.0.0.1', port: this.mqttPort },
        database: backend.config.database,
        redis: backend.config.redis,
        ingest: { healthIntervalSeconds: this.opts.healthIntervalSeconds ?? 60 },
        log: { level: 'debug' },
      },
      this.opts.extraConfig ?? {},
    );
  }

  /** Runs a `pcapmesh` subcommand with this collector's config; resolves with its exit and output. */
  async cli(args: readonly string[], timeoutMs = 180_000): Promise<{ exit: Exit; output: string }> {
    const proc = this.scope.spawn({
      name: `${this.label}-cli-${args.slice(0, 2).join('-')}`,
      command: process.execPath,
      args: [...NODE_TS_ARGS, COLLECTOR_MAIN, ...args, '--config', this.configFile],
      cwd: repoRoot,
    });
    const timer = setTimeout(() => proc.killGroup(), timeoutMs);
    const exit = await proc.exited;
    clearTimeout(timer);
    return { exit, output: proc.output() };
  }

  /**
   * Registers a sensor with `pcapmesh sensor add NAME --location LOC` and returns the secret it
   * prints. With PGlite the collector must not be running (the data dir is locked).
   */
  async addSensor(name: string, location = 'lab'): Promise<string> {
    const { exit, output } = await this.cli(['sensor', 'add', name, '--location', location]);
    if (exit.code !== 0) throw new Error(`pcapmesh sensor add ${name} failed (${describeExit(exit)}):\n${output}`);
    const secret = parseSecret(output);
    if (secret === null) throw new Error(`pcapmesh sensor add ${name}: no secret found in its output:\n${output}`);
    return secret;
  }

  /** Starts the process and waits until the API answers. */
  async start(timeoutMs = 180_000): Promise<void> {
    if (this.proc?.running) throw new Error(`${this.label} is already running`);
    this.starts += 1;
    const proc = this.scope.spawn({
      name: this.starts === 1 ? this.label : `${this.label}-${this.starts}`,
      command: process.execPath,
      args: [...NODE_TS_ARGS, COLLECTOR_MAIN, 'collector', '--config', this.configFile],
      cwd: repoRoot,
    });
    this.proc = proc;
    const line = await proc.waitForLine(READY_LINE, timeoutMs);
    const ready = JSON.parse(line) as { http: string; mqtt: number | null };
    if (ready.http !== this.api.baseUrl) throw new Error(`${this.label} ready on ${ready.http}, configured ${this.api.baseUrl}`);
    if (!this.opts.externalBroker && ready.mqtt !== this.mqttPort) {
      throw new Error(`${this.label} broker ready on port ${ready.mqtt}, configured ${this.mqttPort}`);
    }
    await this.api.get('/health', { auth: false });
  }

  /** Stops it with SIGTERM and expects a clean exit (code 0). */
  async stop(): Promise<void> {
    const exit = await this.process.stop('SIGTERM');
    if (exit.code !== 0) throw new Error(`${this.label} did not exit cleanly on SIGTERM (${describeExit(exit)}):\n${this.process.tail(30)}`);
  }
}

/** `base` with `extra` merged over it: plain objects key by key, anything else replaced. */
export function mergeConfig(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [key, value] of Object.entries(extra)) {
    const old = out[key];
    const plain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    out[key] = plain(old) && plain(value) ? mergeConfig(old, value) : value;
  }
  return out;
}

/**
 * The secret in `pcapmesh sensor add` output: its `secret: …` line (stdout). Log lines on stderr
 * never carry it (they are redacted), so only a whole line of that form counts.
 */
export function parseSecret(output: string): string | null {
  return /^secret:\s*(\S+)\s*$/m.exec(output)?.[1] ?? null;
}
