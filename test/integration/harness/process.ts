/**
 * A child process of a test: its output goes to a log file (kept under test-artifacts/) and to an
 * in-memory tail, lines can be awaited, and it can be stopped, killed or frozen. Each child leads its
 * own process group so that cleanup also reaches whatever it started (the standalone's agent).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface SpawnSpec {
  /** Short label used for the log file name and messages ("collector", "agent-alpha"). */
  name: string;
  command: string;
  args: readonly string[];
  cwd: string;
  /** Added to (or, with undefined, removed from) the test process' environment. */
  env?: Record<string, string | undefined>;
  logFile: string;
}

export interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

const MAX_TAIL_LINES = 4000;

export class ManagedProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Settles when the process has exited (never rejects). */
  readonly exited: Promise<Exit>;
  private readonly lines: string[] = [];
  private readonly waiters = new Set<{ re: RegExp; resolve: (line: string) => void }>();
  private readonly log: WriteStream;
  private exit: Exit | null = null;

  constructor(spec: SpawnSpec) {
    this.name = spec.name;
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const [k, v] of Object.entries(spec.env ?? {})) {
      if (v === undefined) delete env[k];
      else env[k] = v;
    }
    this.log = createWriteStream(spec.logFile, { flags: 'a' });
    this.log.write(`# ${new Date().toISOString()} ${spec.command} ${spec.args.join(' ')} (cwd ${spec.cwd})\n`);
    this.child = spawn(spec.command, spec.args, { cwd: spec.cwd, env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    this.exited = new Promise<Exit>((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
      this.child.once('error', (err) => {
        this.onLine(`[spawn error] ${err.message}`);
        this.exit = { code: -1, signal: null };
        resolve(this.exit);
      });
    });
    for (const [stream, tag] of [
      [this.child.stdout, ''],
      [this.child.stderr, '[stderr] '],
    ] as const) {
      if (stream) createInterface({ input: stream }).on('line', (line) => this.onLine(tag + line));
    }
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error(`${this.name} has no pid (it failed to start)`);
    return this.child.pid;
  }

  get running(): boolean {
    return this.exit === null;
  }

  /** Everything the process printed so far (stdout and stderr, stderr lines tagged). */
  output(): string {
    return this.lines.join('\n');
  }

  /** The last `n` lines, for failure reports. */
  tail(n = 40): string {
    return this.lines.slice(-n).join('\n');
  }

  /**
   * Resolves with the first line (already printed or still to come) matching `re`; rejects when the
   * process exits first or the deadline passes.
   */
  waitForLine(re: RegExp, timeoutMs: number): Promise<string> {
    const seen = this.lines.find((l) => re.test(l));
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const waiter = {
        re,
        resolve: (line: string) => {
          cleanup();
          resolve(line);
        },
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`${this.name}: no line matching ${re} within ${timeoutMs} ms; last output:\n${this.tail(20)}`));
      }, timeoutMs);
      void this.exited.then((exit) => {
        cleanup();
        reject(new Error(`${this.name} exited (${describeExit(exit)}) before printing a line matching ${re}; last output:\n${this.tail(20)}`));
      });
      const cleanup = () => {
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
    });
  }

  /** Sends a signal to the process itself (not its group); no-op once it has exited. */
  signal(sig: NodeJS.Signals): void {
    if (this.running) process.kill(this.pid, sig);
  }

  /** kill -9 of the process itself, then waits for it to be gone. */
  async kill9(): Promise<Exit> {
    this.signal('SIGKILL');
    return this.exited;
  }

  /**
   * SIGTERM (or `sig`), then SIGKILL of the whole group after `graceMs`. Resolves with how it ended.
   */
  async stop(sig: NodeJS.Signals = 'SIGTERM', graceMs = 15_000): Promise<Exit> {
    if (!this.running) return this.exited;
    this.signal(sig);
    const timer = setTimeout(() => this.killGroup(), graceMs);
    const exit = await this.exited;
    clearTimeout(timer);
    return exit;
  }

  /** SIGKILL to every process of the group (the child and anything it started). Safe to call twice. */
  killGroup(): void {
    if (this.child.pid === undefined) return; // never started
    try {
      process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      // the group is already gone
    }
  }

  /** Closes the log file once the process has exited. */
  async closeLog(): Promise<void> {
    await this.exited;
    this.log.end();
    await once(this.log, 'close').catch(() => undefined);
  }

  private onLine(line: string): void {
    this.log.write(line + '\n');
    this.lines.push(line);
    if (this.lines.length > MAX_TAIL_LINES) this.lines.splice(0, this.lines.length - MAX_TAIL_LINES);
    for (const w of this.waiters) if (w.re.test(line)) w.resolve(line);
  }
}

export function describeExit(exit: Exit): string {
  return exit.signal !== null ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}
