/**
 * `pcapmesh collector` as a user runs it, for benches: its own config file and data directory,
 * ports on loopback, waits for the `ready` line; CPU seconds and RSS read from /proc; stop and start
 * again on the same ports and data (a restart).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { freePort, repoRoot } from '@pcapmesh/shared/util/testing';

export interface CollectorProcessOptions {
  dir: string;
  /** database.url; undefined = PGlite in the data directory (the default). */
  databaseUrl?: string | undefined;
  /** Merged into the `mqtt` section. */
  mqtt?: Record<string, unknown>;
  /** Further top-level config sections (e.g. `ingest`). */
  sections?: Record<string, unknown>;
  /** Extra node options for the collector process (e.g. `--cpu-prof`). */
  nodeArgs?: string[];
}

export class CollectorProcess {
  private child: ChildProcess | null = null;
  readonly token = randomBytes(24).toString('hex');

  private constructor(
    private readonly configFile: string,
    readonly httpPort: number,
    readonly mqttPort: number,
    private readonly nodeArgs: string[] = [],
  ) {}

  static async create(opts: CollectorProcessOptions): Promise<CollectorProcess> {
    const [httpPort, mqttPort] = [await freePort(), await freePort()];
    const dataDir = join(opts.dir, 'data');
    mkdirSync(dataDir, { recursive: true });
    const proc = new CollectorProcess(join(opts.dir, 'collector.json'), httpPort, mqttPort, opts.nodeArgs);
    writeFileSync(
      proc.configFile,
      JSON.stringify({
        dataDir,
        http: { host: '127.0.0.1', port: httpPort, apiToken: proc.token },
        mqtt: { host: '127.0.0.1', port: mqttPort, ...opts.mqtt },
        ...(opts.databaseUrl ? { database: { url: opts.databaseUrl } } : {}),
        ...opts.sections,
        log: { level: 'warn' },
      }),
    );
    return proc;
  }

  get http(): string {
    return `http://127.0.0.1:${this.httpPort}/api/v1`;
  }

  get mqttUrl(): string {
    return `mqtt://127.0.0.1:${this.mqttPort}`;
  }

  get pid(): number {
    if (this.child?.pid === undefined) throw new Error('collector not running');
    return this.child.pid;
  }

  /** Starts the process; resolves at its ready line (rejects with its last stderr lines). */
  async start(): Promise<void> {
    const child = spawn(
      process.execPath,
      [...this.nodeArgs, '--conditions=pcapmesh-src', '--import', 'tsx', join(repoRoot, 'collector/src/cli/main.ts'), 'collector', '--config', this.configFile],
      { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.child = child;
    const errors: string[] = [];
    createInterface({ input: child.stderr! }).on('line', (l) => {
      if (errors.push(l) > 50) errors.shift();
      if (/"level":(5|6)0/.test(l)) process.stderr.write(`collector: ${l.slice(0, 400)}\n`);
    });
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`collector not ready in 300 s:\n${errors.join('\n')}`)), 300_000);
      lines.on('line', (l) => {
        if (l.startsWith('{"event":"ready"')) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`collector exited ${code}:\n${errors.join('\n')}`));
      });
    });
  }

  /** CPU seconds (user + system) of the running process so far. */
  cpuSeconds(): number {
    return statCpuSeconds(`/proc/${this.pid}/stat`);
  }

  /** CPU seconds of the process's main thread alone (its event loop; worker threads, GC helpers and the libuv pool excluded). */
  mainThreadCpuSeconds(): number {
    return statCpuSeconds(`/proc/${this.pid}/task/${this.pid}/stat`);
  }

  /** Resident memory of the running process, MiB. */
  rssMiB(): number {
    const line = readFileSync(`/proc/${this.pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
    return line ? Number(line[1]) / 1024 : 0;
  }

  /** The open-files limit the process runs with (soft). */
  maxOpenFiles(): string {
    return readFileSync(`/proc/${this.pid}/limits`, 'utf8').match(/^Max open files\s+(\S+)/m)?.[1] ?? 'unknown';
  }

  async call<T>(method: string, path: string, body?: unknown): Promise<T> {
    const res = await fetch(`${this.http}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      signal: AbortSignal.timeout(60_000),
    });
    const text = await res.text();
    if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${text.slice(0, 300)}`);
    return (text ? JSON.parse(text) : null) as T;
  }

  /** SIGTERM and wait for the exit (a clean stop: the broker closes every connection). */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await exited;
    this.child = null;
  }
}

/** utime + stime of a /proc stat file, in seconds (clock ticks of USER_HZ 100). */
function statCpuSeconds(file: string): number {
  const fields = readFileSync(file, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}
