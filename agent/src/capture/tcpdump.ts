/**
 * Runs and supervises one tcpdump ring capture:
 *
 *   tcpdump -i IF -n -s SNAPLEN -w DIR/IF-%Y%m%d%H%M%S.pcap -G ROTATE -Z USER --time-stamp-precision=nano
 *
 * (tcpdump 4.99: -G rotates every ROTATE seconds, naming files by strftime — run with TZ=UTC so
 * names sort in UTC; -Z USER (config capture.user, default pcapmesh) drops root once the device
 * is open — DIR is chowned to that user when the agent runs as root (capture-user.ts); nanosecond
 * pcap keeps the kernel's precision.)
 *
 * tcpdump gets a minimal environment — PATH, TZ=UTC, LANG=C — and nothing of the agent's: the
 * MQTT secret (PCAPMESH_AGENT_MQTT__PASSWORD) and any other variable stay out of its process.
 *
 * Contract:
 * - Permission is checked by trying: a tcpdump that exits (e.g. "You don't have permission to
 *   capture on that device") is restarted with backoff (1 s doubling to 60 s; reset after a run of
 *   a minute), and its last stderr line is the `error` in health captures[].
 * - Counters: every `statsIntervalMs` (once tcpdump is listening) it is sent SIGUSR1 and prints "N packets captured, …
 *   N packets dropped by kernel"; the same figures are printed at exit. Packets and drops add up
 *   across restarts.
 * - `stop()` sends SIGTERM, and SIGKILL after `stopTimeoutMs`; it resolves once tcpdump has exited.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Logger } from 'pino';
import type { HealthMessage } from '@pcapmesh/shared/wire';
import { prepareCaptureDirectory, type CaptureUser } from './capture-user.js';
import { ringPattern } from './retention.js';

export interface TcpdumpOptions {
  interface: string;
  directory: string;
  /** 0 = whole packets (262144). */
  snaplen: number;
  rotateSeconds: number;
  tcpdumpPath: string;
  /** The user tcpdump drops to after opening the device (-Z); chowns DIR to it when given ids and run as root. */
  user: string | CaptureUser;
  logger: Logger;
  statsIntervalMs?: number;
  stopTimeoutMs?: number;
}

type CaptureState = HealthMessage['captures'][number];

const MIN_BACKOFF_MS = 1_000;
const MAX_BACKOFF_MS = 60_000;
const STABLE_RUN_MS = 60_000;

/** tcpdump's statistics line(s): "N packets captured", "N packets dropped by kernel". */
export function parseStats(line: string): { captured?: number; dropped?: number } {
  const captured = /(\d+) packets? captured/.exec(line);
  const dropped = /(\d+) packets? dropped by kernel/.exec(line);
  return {
    ...(captured ? { captured: Number(captured[1]) } : {}),
    ...(dropped ? { dropped: Number(dropped[1]) } : {}),
  };
}

/** The whole environment tcpdump is started with. */
export function tcpdumpEnv(): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', TZ: 'UTC', LANG: 'C' };
}

export function tcpdumpArgs(o: Pick<TcpdumpOptions, 'interface' | 'directory' | 'snaplen' | 'rotateSeconds' | 'user'>): string[] {
  return [
    '-i',
    o.interface,
    '-n',
    '-s',
    String(o.snaplen),
    '-w',
    join(o.directory, ringPattern(o.interface)),
    '-G',
    String(o.rotateSeconds),
    '-Z',
    typeof o.user === 'string' ? o.user : o.user.name,
    '--time-stamp-precision=nano',
  ];
}

export class TcpdumpCapture {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private restartTimer: NodeJS.Timeout | null = null;
  private statsTimer: NodeJS.Timeout | null = null;
  private attempts = 0;
  private stopping = false;
  private startedAt = 0;
  /** Packets/drops of earlier runs, and of the current run so far. */
  private base = { packets: 0, drops: 0 };
  private run = { packets: 0, drops: 0 };
  /** Messages of the current run (not statistics), the last few kept for the exit error. */
  private stderrLines: string[] = [];
  /** The current run has printed "listening on" (its signal handlers are in place). */
  private listening = false;
  private error: string | undefined;
  readonly counters = { starts: 0, exits: 0 };

  constructor(private readonly opts: TcpdumpOptions) {}

  start(): void {
    this.stopping = false;
    this.launch();
    // Only once tcpdump said "listening on": before that SIGUSR1 is not handled yet and kills it.
    this.statsTimer = setInterval(() => {
      if (this.listening) this.child?.kill('SIGUSR1');
    }, this.opts.statsIntervalMs ?? 10_000);
    this.statsTimer.unref();
  }

  /** State for health captures[]. */
  state(): CaptureState {
    return {
      interface: this.opts.interface,
      running: this.child !== null,
      ...(this.child?.pid ? { pid: this.child.pid } : {}),
      packets: this.base.packets + this.run.packets,
      drops: this.base.drops + this.run.drops,
      ...(this.error ? { error: this.error.slice(0, 1024) } : {}),
    };
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.restartTimer) clearTimeout(this.restartTimer);
    if (this.statsTimer) clearInterval(this.statsTimer);
    const child = this.child;
    if (!child) return;
    child.kill('SIGTERM');
    const killer = setTimeout(() => child.kill('SIGKILL'), this.opts.stopTimeoutMs ?? 3_000);
    await this.exited;
    clearTimeout(killer);
  }

  private launch(): void {
    try {
      mkdirSync(this.opts.directory, { recursive: true });
      if (typeof this.opts.user !== 'string') prepareCaptureDirectory(this.opts.directory, this.opts.user);
    } catch (err) {
      this.error = `cannot create ${this.opts.directory}: ${(err as Error).message}`;
      this.opts.logger.error({ interface: this.opts.interface, err }, 'capture: directory unusable');
      this.scheduleRestart();
      return;
    }
    this.spawnOnce();
  }

  private spawnOnce(): void {
    const { logger, tcpdumpPath } = this.opts;
    const args = tcpdumpArgs(this.opts);
    const child = spawn(tcpdumpPath, args, { env: tcpdumpEnv(), stdio: ['ignore', 'ignore', 'pipe'] });
    this.child = child;
    this.run = { packets: 0, drops: 0 };
    this.stderrLines = [];
    this.listening = false;
    this.startedAt = Date.now();
    this.counters.starts++;
    logger.info({ interface: this.opts.interface, cmd: [tcpdumpPath, ...args].join(' ') }, 'capture: tcpdump starting');
    createInterface({ input: child.stderr! }).on('line', (line) => this.onStderr(line));
    this.exited = new Promise((resolve) => {
      child.on('error', (err) => {
        // spawn failure (ENOENT): no 'exit' follows on some paths; 'close' does.
        this.stderrLines.push(`cannot run ${tcpdumpPath}: ${err.message}`);
      });
      child.on('close', (code, signal) => {
        this.onExit(code, signal);
        resolve();
      });
    });
  }

  private onStderr(line: string): void {
    const stats = parseStats(line);
    if (stats.captured !== undefined) this.run.packets = stats.captured;
    if (stats.dropped !== undefined) this.run.drops = stats.dropped;
    if (stats.captured !== undefined || stats.dropped !== undefined || /received by filter/.test(line) || line.trim() === '') return;
    if (/listening on/.test(line)) {
      this.listening = true;
      this.error = undefined;
      this.opts.logger.info({ interface: this.opts.interface, pid: this.child?.pid }, 'capture: tcpdump running');
      return;
    }
    this.stderrLines = [...this.stderrLines.slice(-2), line.trim()];
  }

  private onExit(code: number | null, signal: NodeJS.Signals | null): void {
    this.counters.exits++;
    this.base.packets += this.run.packets;
    this.base.drops += this.run.drops;
    this.run = { packets: 0, drops: 0 };
    this.child = null;
    this.listening = false;
    if (this.stopping) {
      this.opts.logger.info({ interface: this.opts.interface, packets: this.base.packets, drops: this.base.drops }, 'capture: tcpdump stopped');
      return;
    }
    const stderr = this.stderrLines.join(' ');
    this.error = `tcpdump exited (${signal ?? `code ${code}`}): ${stderr || 'no message'}`;
    this.opts.logger.error({ interface: this.opts.interface, code, signal, stderr }, 'capture: tcpdump exited');
    if (Date.now() - this.startedAt > STABLE_RUN_MS) this.attempts = 0;
    this.scheduleRestart();
  }

  private scheduleRestart(): void {
    if (this.stopping) return;
    const delay = Math.min(MAX_BACKOFF_MS, MIN_BACKOFF_MS * 2 ** this.attempts++);
    this.restartTimer = setTimeout(() => {
      this.restartTimer = null;
      if (!this.stopping) this.launch();
    }, delay);
  }
}
