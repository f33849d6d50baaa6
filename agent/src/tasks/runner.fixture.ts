/**
 * Test harness for the task runner: a real capture directory (the library's generator), a real
 * task store, the real worker extractor and HTTP uploader against UploadServer, and a sink that
 * records every status the runner publishes.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { Body, TaskCommand, Timestamp } from '@pcapmesh/shared/wire';
import { WorkerExtractor } from './extractor.js';
import { TaskRunner, type TaskRunnerOptions } from './runner.js';
import { TaskStore } from './store.js';
import { HttpUploader } from './upload.js';
import { UploadServer } from './upload-server.fixture.js';

export type Status = Body<'task-status'> & { at: number };

export class RunnerHarness {
  readonly dir = mkdtempSync(join(tmpdir(), 'agent-tasks-'));
  readonly captures = join(this.dir, 'pcap');
  readonly stateDir = join(this.dir, 'state', 'tasks');
  readonly server = new UploadServer();
  readonly statuses: Status[] = [];
  runner: TaskRunner | null = null;
  private seq = 0;

  async start(): Promise<this> {
    await this.server.start();
    return this;
  }

  /** A runner over the harness's directories (a fresh one each call: a restarted agent). */
  startRunner(overrides: Partial<TaskRunnerOptions> = {}): TaskRunner {
    this.runner = new TaskRunner({
      store: new TaskStore(this.stateDir),
      sources: [{ name: 'local', directory: this.captures }],
      extractor: new WorkerExtractor({ progressEveryMs: 100 }),
      uploader: new HttpUploader({ chunkBytes: 1024 * 1024, baseBackoffMs: 20, maxBackoffMs: 100 }),
      sink: { taskStatus: (body) => this.statuses.push({ ...body, at: Date.now() }) },
      logger: pino({ level: process.env.TEST_LOG ?? 'silent' }),
      maxConcurrent: 1,
      closeDelayMs: 10_000,
      quietMs: 500,
      ...overrides,
    });
    this.runner.start();
    return this.runner;
  }

  command(taskId: string, window: { from: Timestamp; to: Timestamp }, extra: Partial<TaskCommand> = {}): TaskCommand {
    return {
      v: 1,
      sentAt: Date.now(),
      seq: ++this.seq,
      taskId,
      jobId: 'job-1',
      attempt: 0,
      window,
      filter: '',
      limits: { maxBytes: 0, maxPackets: 0 },
      upload: { url: this.server.url(taskId), token: `token-${taskId}` },
      ...extra,
    };
  }

  of(taskId: string): Status[] {
    return this.statuses.filter((s) => s.taskId === taskId);
  }

  states(taskId: string): string[] {
    const out: string[] = [];
    for (const s of this.of(taskId)) if (out.at(-1) !== s.status) out.push(s.status);
    return out;
  }

  last(taskId: string): Status | undefined {
    return this.of(taskId).at(-1);
  }

  /** Files the runner keeps beside its records (results, extract parts). */
  leftovers(): string[] {
    return readdirSync(this.stateDir).filter((n) => !n.endsWith('.json'));
  }

  async until(what: string, check: () => boolean, ms = 180_000): Promise<void> {
    const end = Date.now() + ms;
    while (!check()) {
      if (Date.now() > end)
        throw new Error(
          `timed out waiting for ${what}; statuses: ${JSON.stringify(this.statuses.slice(-5).map((s) => [s.taskId, s.status, s.error, s.progress]))}; requests: ${this.server.log.slice(-10).join(', ')}`,
        );
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async close(): Promise<void> {
    await this.runner?.stop();
    await this.server.stop();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

export function ts(sec: number): Timestamp {
  return { sec: Math.floor(sec), nsec: Math.round((sec - Math.floor(sec)) * 1e9) };
}
