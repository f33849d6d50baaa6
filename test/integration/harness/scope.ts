/**
 * One integration test's world: a temporary directory, the child processes it starts, and cleanups
 * that run whatever happens (processes killed, databases dropped, files removed). When the test
 * fails, the tail of every child's output is printed so the CI log explains the failure; full logs
 * stay in test-artifacts/integration/<test>/.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { artifactsRoot } from './env.js';
import { ManagedProcess, type SpawnSpec } from './process.js';

export class TestScope {
  /** Scratch directory, removed at the end. */
  readonly dir: string;
  /** Log directory of this test, kept. */
  readonly logDir: string;
  /** Every child started through this scope. */
  readonly processes: ManagedProcess[] = [];
  private readonly cleanups: (() => Promise<void> | void)[] = [];

  constructor(
    readonly t: TestContext,
    slug: string,
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'pcapmesh-it-'));
    this.logDir = join(artifactsRoot, slug);
    rmSync(this.logDir, { recursive: true, force: true });
    mkdirSync(this.logDir, { recursive: true });
  }

  /** Starts a child process whose output is logged to `<logDir>/<name>.log`; it is killed at cleanup. */
  spawn(spec: Omit<SpawnSpec, 'logFile'>): ManagedProcess {
    const proc = new ManagedProcess({ ...spec, logFile: join(this.logDir, `${spec.name}.log`) });
    this.processes.push(proc);
    return proc;
  }

  /** Registers a cleanup; cleanups run last-registered first. */
  defer(fn: () => Promise<void> | void): void {
    this.cleanups.push(fn);
  }

  /** The tail of every child's output, for a failure report. */
  report(lines = 40): string {
    return this.processes.map((p) => `--- ${p.name} (pid ${p.child.pid ?? '-'}), last ${lines} lines:\n${p.tail(lines)}`).join('\n');
  }

  async close(): Promise<void> {
    const errors: unknown[] = [];
    for (const p of this.processes) p.killGroup();
    await Promise.all(this.processes.map((p) => p.closeLog()));
    for (const fn of this.cleanups.reverse()) {
      try {
        await fn();
      } catch (err) {
        errors.push(err);
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
    if (errors.length > 0) throw new AggregateError(errors, 'integration test cleanup failed');
  }
}

const live = new Set<ManagedProcess[]>();
// Last resort when the runner is interrupted: no child may outlive the test file.
process.once('exit', () => {
  for (const list of live) for (const p of list) p.killGroup();
});

function slugOf(name: string): string {
  const slug = name
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-|-$/g, '');
  // Keep the end too: it names the backend ("…-pglite").
  return slug.length <= 80 ? slug : `${slug.slice(0, 59)}--${slug.slice(-19)}`;
}

/**
 * Declares a node:test test that runs `body` inside a fresh TestScope.
 * @example
 *   integrationTest('kill -9 of the agent [pglite]', async (scope) => { ... });
 */
export function integrationTest(name: string, body: (scope: TestScope) => Promise<void>, options: { timeoutMs?: number } = {}): void {
  test(name, { timeout: options.timeoutMs ?? 600_000 }, async (t) => {
    const scope = new TestScope(t, slugOf(name));
    const processes = scope.processes;
    live.add(processes);
    let failure: { err: unknown } | undefined;
    try {
      await body(scope);
    } catch (err) {
      failure = { err };
      console.error(`\n[${name}] failed; child output follows (full logs: ${scope.logDir})\n${scope.report()}\n`);
    }
    live.delete(processes);
    try {
      await scope.close();
    } catch (cleanupErr) {
      // The test's own error is the one to report; a cleanup that failed after it is printed beside it.
      if (!failure) throw cleanupErr;
      console.error(`[${name}] cleanup failed too:`, cleanupErr);
    }
    if (failure) throw failure.err;
  });
}
