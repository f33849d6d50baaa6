/**
 * A real agent process for a test, started directly (`node --import tsx agent/src/main.ts
 * --config <file>`, not through the bin launcher) so that `kill -9` hits the agent itself. Its
 * state dir (spool, sequence numbers) survives restarts of the same Agent object.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeConfig } from './collector.js';
import { AGENT_MAIN, NODE_TS_ARGS, repoRoot } from './env.js';
import { describeExit, type Exit, type ManagedProcess } from './process.js';
import type { TestScope } from './scope.js';

export interface AgentOptions {
  name: string;
  secret: string;
  mqttUrl: string;
  location?: string;
  /** Watched capture directories (no tcpdump: capture.enabled is false). */
  captures?: { name: string; directory: string }[];
  /** intervals.healthSeconds. Default 1. */
  healthSeconds?: number;
  /** intervals.availabilitySeconds. Default 60. */
  availabilitySeconds?: number;
  /** MQTT protocol version. Default 4 (3.1.1). */
  protocolVersion?: 4 | 5;
  collectorUrl?: string;
  /** More configuration, merged over the defaults (objects key by key), e.g. `{ tasks: { … } }`. */
  extraConfig?: Record<string, unknown>;
}

export class Agent {
  readonly stateDir: string;
  readonly configFile: string;
  private proc: ManagedProcess | undefined;
  private starts = 0;

  constructor(
    private readonly scope: TestScope,
    readonly opts: AgentOptions,
  ) {
    const home = join(scope.dir, `agent-${opts.name}`);
    this.stateDir = join(home, 'state');
    this.configFile = join(home, 'agent.yaml');
    mkdirSync(this.stateDir, { recursive: true });
    const config = mergeConfig(
      {
        name: opts.name,
        location: opts.location ?? 'lab',
        ...(opts.collectorUrl ? { collectorUrl: opts.collectorUrl } : {}),
        mqtt: { url: opts.mqttUrl, password: opts.secret, protocolVersion: opts.protocolVersion ?? 4, keepaliveSeconds: 5 },
        stateDir: this.stateDir,
        capture: { enabled: false },
        captures: opts.captures ?? [],
        intervals: { healthSeconds: opts.healthSeconds ?? 1, availabilitySeconds: opts.availabilitySeconds ?? 60, scanSeconds: 1 },
        log: { level: 'debug' },
      },
      opts.extraConfig ?? {},
    );
    writeFileSync(this.configFile, JSON.stringify(config, null, 2));
  }

  get process(): ManagedProcess {
    if (!this.proc) throw new Error(`agent ${this.opts.name} was never started`);
    return this.proc;
  }

  get running(): boolean {
    return this.proc?.running ?? false;
  }

  start(): ManagedProcess {
    if (this.proc?.running) throw new Error(`agent ${this.opts.name} is already running`);
    this.starts += 1;
    this.proc = this.scope.spawn({
      name: `agent-${this.opts.name}${this.starts === 1 ? '' : `-${this.starts}`}`,
      command: process.execPath,
      args: [...NODE_TS_ARGS, AGENT_MAIN, '--config', this.configFile],
      cwd: repoRoot,
    });
    return this.proc;
  }

  /** kill -9: no clean disconnect, so the broker publishes the last will. */
  kill9(): Promise<Exit> {
    return this.process.kill9();
  }

  /**
   * SIGTERM and expect a clean exit. Waits for the agent to have finished starting first: the agent
   * installs its signal handlers only then (agent/src/main.ts), so an earlier SIGTERM kills it
   * outright — a start-up window this test does not mean to probe.
   */
  async stop(): Promise<void> {
    if (this.process.running) await this.process.waitForLine(/"msg":"agent started"/, 60_000);
    const exit = await this.process.stop('SIGTERM');
    if (exit.code !== 0) throw new Error(`agent ${this.opts.name} did not exit cleanly (${describeExit(exit)}):\n${this.process.tail(30)}`);
  }
}
