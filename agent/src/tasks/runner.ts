/**
 * TaskRunner: executes the tasks the collector sends (docs/jobs.md), one state machine per task.
 *
 *   command ─▶ accepted ─▶ waiting (window end + time for its files to close) ─▶ queue
 *   queue ─(at most maxConcurrent at once)─▶ scanning (extract in a worker) ─▶ uploading ─▶ done
 *   any of them ─▶ failed | cancelled | skipped (no capture file overlaps the window)
 *
 * Contract:
 * - Idempotent by (taskId, attempt): the same attempt again re-publishes the task's current status
 *   (a new upload token in it replaces the held one); a lower attempt is ignored; a higher attempt
 *   ends whatever the old one was doing and starts again (keeping a finished extract when window,
 *   filter and limits are unchanged).
 * - Every state change is saved (TaskStore: temp + rename, not fsynced) before it is published,
 *   and published through the spool (QoS 1). After a restart: accepted/waiting tasks wait again, an
 *   interrupted extract runs again from scratch, a finished one is uploaded from the collector's
 *   acknowledged offset.
 * - While scanning and uploading a status with progress goes out at least every `progressMs`;
 *   a queued task re-reports `accepted` every `queuedReportMs`, so the collector's no-progress
 *   clock (jobs.taskNoProgressSeconds) sees it alive behind a long task.
 * - Cancel aborts extract and upload, removes the task's files and reports `cancelled`.
 * - A command whose task id is not a plain name (store.ts `isTaskId`: no `/`, no leading dot) is
 *   refused and logged: it would name files outside the state directory.
 * - The result file is removed once uploaded; ended tasks are forgotten (record and files) after
 *   `pruneAfterMs`.
 * - `stop()` aborts running work without changing the saved states: the next start resumes it.
 */
import { existsSync, statSync } from 'node:fs';
import type { Logger } from 'pino';
import type { ExtractProgress } from '@pcapmesh/shared/pcap/extract';
import { parseFilter } from '@pcapmesh/shared/pcap/filter/parser';
import { compareTimestamps } from '@pcapmesh/shared/pcap/timestamp';
import type { Body, CancelCommand, TaskCommand, Timestamp } from '@pcapmesh/shared/wire';
import { CaptureWatch } from './capture-watch.js';
import { closedAt, listCaptures, overlapping, type CaptureSource } from './captures.js';
import type { Extractor } from './extractor.js';
import { ENDED_STATES, isTaskId, type TaskRecord, type TaskStore } from './store.js';
import { UploadError, type Uploader } from './upload.js';

export interface StatusSink {
  taskStatus(body: Body<'task-status'>): void;
}

export interface TaskRunnerOptions {
  store: TaskStore;
  sources: readonly CaptureSource[];
  extractor: Extractor;
  uploader: Uploader;
  sink: StatusSink;
  logger: Logger;
  /** Tasks scanning or uploading at once (the rest stay accepted, queued). */
  maxConcurrent: number;
  /** Longest wait after the window's end for its files to close (rotation + index settle). */
  closeDelayMs: number;
  /** A source whose newest file has not changed for this long is closed (default 5 s). */
  quietMs?: number;
  /** Progress status period while scanning or uploading (default 1 s). */
  progressMs?: number;
  /** Queued tasks re-report `accepted` this often (default 30 s). */
  queuedReportMs?: number;
  /** Ended tasks are forgotten after this long (default one day). */
  pruneAfterMs?: number;
  now?: () => number;
}

interface Task {
  record: TaskRecord;
  /** Aborts the run in progress; its reason says why (cancel, replaced, stop). */
  controller: AbortController | null;
  running: Promise<void> | null;
  timer: NodeJS.Timeout | null;
}

const DAY_MS = 86_400_000;

/** Why a run was aborted. */
class Interruption extends Error {
  constructor(
    readonly kind: 'cancel' | 'replace' | 'stop',
    message: string,
  ) {
    super(message);
  }
}

export class TaskRunner {
  private readonly tasks = new Map<string, Task>();
  private readonly queue: Task[] = [];
  /** Cancels for tasks not held (yet), most recent last; bounded. */
  private readonly cancelledUnknown = new Set<string>();
  private active = 0;
  private stopped = false;
  private pruneTimer: NodeJS.Timeout | null = null;
  private queuedTimer: NodeJS.Timeout | null = null;
  private readonly now: () => number;
  /** What waiting tasks check every second: kept up to date incrementally, not listed each time. */
  private readonly captures = new CaptureWatch();

  constructor(private readonly opts: TaskRunnerOptions) {
    this.now = opts.now ?? Date.now;
  }

  /** Loads saved tasks and resumes the unfinished ones; prunes old ones (then every hour). */
  start(): void {
    const { records, bad } = this.opts.store.load();
    for (const b of bad) this.opts.logger.warn({ file: b.file, reason: b.reason }, 'tasks: unreadable task state set aside');
    for (const record of records) {
      const task: Task = { record, controller: null, running: null, timer: null };
      this.tasks.set(record.command.taskId, task);
      if (ENDED_STATES.has(record.status)) continue;
      this.log(task).info({ status: record.status }, 'tasks: resuming after restart');
      if (record.status === 'scanning') this.opts.store.removeFiles(record.command.taskId);
      this.schedule(task);
    }
    this.prune();
    this.pruneTimer = setInterval(() => this.guard('pruning', () => this.prune()), 3_600_000);
    this.pruneTimer.unref();
    this.queuedTimer = setInterval(() => {
      for (const task of this.queue) this.publish(task);
    }, this.opts.queuedReportMs ?? 30_000);
    this.queuedTimer.unref();
  }

  /** Ends running work (states stay as saved, so a restart resumes) and every timer. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pruneTimer) clearInterval(this.pruneTimer);
    if (this.queuedTimer) clearInterval(this.queuedTimer);
    for (const task of this.tasks.values()) {
      if (task.timer) clearTimeout(task.timer);
      task.controller?.abort(new Interruption('stop', 'agent stopping'));
    }
    await Promise.all([...this.tasks.values()].map((t) => t.running));
  }

  /** The saved record of a task (tests, diagnostics). */
  record(taskId: string): TaskRecord | undefined {
    return this.tasks.get(taskId)?.record;
  }

  handleTask(command: TaskCommand): void {
    if (this.stopped) return;
    const id = command.taskId;
    if (!this.plainId(id, 'task')) return;
    const known = this.tasks.get(id);
    if (known) {
      const held = known.record.command.attempt;
      if (command.attempt < held) {
        this.log(known).debug({ attempt: command.attempt, held }, 'tasks: command of an older attempt ignored');
        return;
      }
      if (command.attempt === held) {
        if (!ENDED_STATES.has(known.record.status) && command.upload.token !== known.record.command.upload.token) {
          this.save(known, { command: { ...known.record.command, upload: command.upload } });
        }
        this.publish(known);
        return;
      }
      this.log(known).info({ attempt: command.attempt, held, status: known.record.status }, 'tasks: a new attempt replaces the held one');
      this.replace(known, command).catch((err: unknown) => this.log(known).error({ err }, 'tasks: could not start the new attempt'));
      return;
    }
    if (this.cancelledUnknown.has(id)) {
      this.cancelledUnknown.delete(id);
      const task = this.create(command, { status: 'cancelled', error: 'cancelled before the task arrived' });
      this.publish(task);
      return;
    }
    this.accept(this.create(command, { status: 'accepted' }));
  }

  handleCancel(command: CancelCommand): void {
    if (!this.plainId(command.taskId, 'cancel')) return;
    const task = this.tasks.get(command.taskId);
    const reason = command.reason ? `cancelled: ${command.reason}` : 'cancelled by the collector';
    if (!task) {
      this.cancelledUnknown.add(command.taskId);
      if (this.cancelledUnknown.size > 1000) this.cancelledUnknown.delete(this.cancelledUnknown.values().next().value!);
      this.opts.logger.info({ task: command.taskId }, 'tasks: cancel for a task not held (remembered)');
      return;
    }
    if (ENDED_STATES.has(task.record.status)) {
      this.publish(task);
      return;
    }
    this.log(task).info({ reason }, 'tasks: cancelling');
    void this.interrupt(task, new Interruption('cancel', reason)).then(() =>
      this.guard(
        'recording the cancel',
        () => {
          // The run may have ended on its own meanwhile (an upload whose last acknowledgement was
          // already on its way is done): an ended task stays as it ended.
          if (ENDED_STATES.has(task.record.status)) {
            this.publish(task);
            return;
          }
          this.opts.store.removeFiles(command.taskId);
          this.save(task, { status: 'cancelled', error: reason, progress: undefined, waitUntil: undefined, transient: undefined });
          this.publish(task);
        },
        task,
      ),
    );
  }

  /** A task id that is not a plain name would name files outside the state directory: such a command is refused (logged, not acted on). */
  private plainId(id: string, kind: 'task' | 'cancel'): boolean {
    if (isTaskId(id)) return true;
    this.opts.logger.warn({ task: id.slice(0, 80) }, `tasks: ${kind} command refused: its task id is not a plain name`);
    return false;
  }

  private create(command: TaskCommand, init: Partial<TaskRecord> & Pick<TaskRecord, 'status'>): Task {
    const task: Task = { record: { command, updatedAt: this.now(), ...init }, controller: null, running: null, timer: null };
    this.tasks.set(command.taskId, task);
    this.opts.store.save(task.record);
    return task;
  }

  /** A new task: checks what can be checked at once, reports accepted, then waits or queues. */
  private accept(task: Task): void {
    const { window, filter } = task.record.command;
    let problem: string | null = null;
    if (compareTimestamps(window.from, window.to) >= 0) problem = 'the window is empty: from must be before to';
    else if (filter.trim() !== '') {
      try {
        parseFilter(filter);
      } catch (err) {
        problem = `bad filter: ${(err as Error).message}`;
      }
    }
    this.publish(task);
    if (problem) return this.fail(task, problem, false);
    this.schedule(task);
  }

  private async replace(task: Task, command: TaskCommand): Promise<void> {
    await this.interrupt(task, new Interruption('replace', `attempt ${command.attempt} replaces attempt ${task.record.command.attempt}`));
    const old = task.record;
    const same =
      JSON.stringify([old.command.window, old.command.filter, old.command.limits]) === JSON.stringify([command.window, command.filter, command.limits]);
    const path = this.opts.store.resultPath(command.taskId);
    const keep = same && old.result !== undefined && existsSync(path) && statSync(path).size === old.result.fileBytes;
    if (!keep) this.opts.store.removeFiles(command.taskId);
    task.record = { command, status: 'accepted', updatedAt: this.now(), ...(keep ? { result: old.result } : {}) };
    this.opts.store.save(task.record);
    this.accept(task);
  }

  /** Stops whatever the task is doing (timer, queue place, run) and waits for the run to end. */
  private async interrupt(task: Task, why: Interruption): Promise<void> {
    if (task.timer) clearTimeout(task.timer);
    task.timer = null;
    const queued = this.queue.indexOf(task);
    if (queued >= 0) this.queue.splice(queued, 1);
    task.controller?.abort(why);
    await task.running;
  }

  /** Waits for the window's files to close, then queues the task (or at once when they are). */
  private schedule(task: Task): void {
    if (this.stopped) return;
    const { window } = task.record.command;
    const now = this.now();
    const toMs = timestampMs(window.to);
    const deadline = toMs + this.opts.closeDelayMs;
    const ready =
      now >= deadline || (now >= toMs && closedAt(this.captures.files(this.opts.sources), this.opts.sources, window.to, this.opts.quietMs ?? 5_000, now));
    if (ready) {
      // Queued: `accepted` again (a resumed upload stays `uploading`); upload() reports `uploading` when it starts.
      const status = task.record.status === 'uploading' ? 'uploading' : 'accepted';
      if (task.record.status !== status || task.record.waitUntil) this.save(task, { status, waitUntil: undefined });
      this.queue.push(task);
      this.pump();
      return;
    }
    if (task.record.status !== 'waiting') {
      this.save(task, { status: 'waiting', waitUntil: msTimestamp(deadline) });
      this.publish(task);
    }
    // Before the window's end nothing can be ready; after it, look again every second. At most an
    // hour at a time: setTimeout cannot wait longer than ~24.8 days (it would fire at once).
    const delay = Math.min(3_600_000, Math.max(1_000, Math.min(toMs - now, deadline - now)));
    task.timer = setTimeout(() => {
      task.timer = null;
      this.guard('waiting', () => this.schedule(task), task);
    }, delay);
  }

  private pump(): void {
    while (!this.stopped && this.active < this.opts.maxConcurrent && this.queue.length > 0) {
      const task = this.queue.shift()!;
      this.active++;
      task.controller = new AbortController();
      task.running = this.run(task, task.controller.signal)
        .catch((err: unknown) => this.log(task).error({ err }, 'tasks: could not record the task state'))
        .finally(() => {
          this.active--;
          task.controller = null;
          task.running = null;
          this.pump();
        });
    }
  }

  private async run(task: Task, signal: AbortSignal): Promise<void> {
    const id = task.record.command.taskId;
    let phase = 'extract';
    try {
      const path = this.opts.store.resultPath(id);
      const result = task.record.result;
      if (!result || !existsSync(path) || statSync(path).size !== result.fileBytes) {
        if (!(await this.extract(task, signal))) return;
      }
      phase = 'upload';
      await this.upload(task, signal);
    } catch (err) {
      if (err instanceof Interruption || signal.reason instanceof Interruption) {
        this.log(task).info({ why: (signal.reason as Interruption).kind }, 'tasks: run interrupted');
        return;
      }
      if (err instanceof UploadError) {
        this.fail(task, `upload failed: ${err.message}`, err.transient);
        return;
      }
      // An I/O error (disk full, unreadable file): worth another attempt, from a fresh extract.
      this.opts.store.removeFiles(id);
      this.fail(task, `${phase} failed: ${(err as Error).message}`, true);
    }
  }

  /** Selects files and extracts; false when the task ended here (skipped). */
  private async extract(task: Task, signal: AbortSignal): Promise<boolean> {
    const { command } = task.record;
    const files = overlapping(listCaptures(this.opts.sources), command.window.from, command.window.to);
    if (files.length === 0) {
      this.save(task, { status: 'skipped', error: 'no capture file overlaps the window', progress: undefined, result: undefined });
      this.publish(task);
      this.log(task).info('tasks: skipped, nothing to read');
      return false;
    }
    this.opts.store.removeFiles(command.taskId);
    const bytesTotal = files.reduce((n, f) => n + f.bytes, 0);
    this.save(task, {
      status: 'scanning',
      waitUntil: undefined,
      result: undefined,
      progress: { filesScanned: 0, filesTotal: files.length, packets: 0, bytes: 0, bytesScanned: 0, bytesTotal },
    });
    this.publish(task);
    this.log(task).info({ files: files.length, bytes: bytesTotal }, 'tasks: scanning');
    const onProgress = (p: ExtractProgress): void => {
      task.record.progress = {
        filesScanned: p.filesDone,
        filesTotal: p.filesTotal,
        packets: p.packets,
        bytes: p.bytes,
        bytesScanned: p.position,
        bytesTotal: p.bytesTotal,
      };
    };
    const limits = {
      ...(command.limits.maxPackets > 0 ? { maxPackets: command.limits.maxPackets } : {}),
      ...(command.limits.maxBytes > 0 ? { maxBytes: command.limits.maxBytes } : {}),
    };
    const outcome = await this.heartbeat(task, () =>
      this.opts.extractor.extract(
        {
          inputs: files.map((f) => f.path),
          output: this.opts.store.resultPath(command.taskId),
          filter: command.filter,
          from: command.window.from,
          to: command.window.to,
          limits,
        },
        { signal, onProgress },
      ),
    );
    const { stats } = outcome;
    const result = {
      packets: stats.packets,
      bytes: stats.bytes,
      fileBytes: outcome.fileBytes,
      sha256: outcome.sha256,
      ...(stats.truncated ? { truncated: stats.truncated } : {}),
    };
    this.save(task, { status: 'uploading', result, progress: { ...task.record.progress!, uploaded: 0, uploadTotal: outcome.fileBytes } });
    this.publish(task);
    this.log(task).info(
      { packets: stats.packets, bytes: stats.bytes, fileBytes: outcome.fileBytes, truncated: stats.truncated, problems: stats.problems.length },
      'tasks: extract finished, uploading',
    );
    return true;
  }

  private async upload(task: Task, signal: AbortSignal): Promise<void> {
    const { command } = task.record;
    const result = task.record.result!;
    if (task.record.status !== 'uploading') {
      this.save(task, { status: 'uploading' });
      this.publish(task);
    }
    const progress = task.record.progress ?? { filesScanned: 0, filesTotal: 0, packets: result.packets, bytes: result.bytes };
    task.record.progress = { ...progress, uploaded: progress.uploaded ?? 0, uploadTotal: result.fileBytes };
    await this.heartbeat(task, () =>
      this.opts.uploader.upload(
        this.opts.store.resultPath(command.taskId),
        {
          size: result.fileBytes,
          sha256: result.sha256,
          packets: result.packets,
          bytes: result.bytes,
          ...(result.truncated ? { truncated: result.truncated } : {}),
        },
        command.upload,
        { signal, onProgress: (received) => (task.record.progress = { ...task.record.progress!, uploaded: received }) },
      ),
    );
    this.save(task, { status: 'done' });
    this.opts.store.removeFiles(command.taskId);
    this.publish(task);
    this.log(task).info({ fileBytes: result.fileBytes, sha256: result.sha256 }, 'tasks: done');
  }

  /** Runs `work`, publishing the task's status (with its latest progress) every progressMs meanwhile. */
  private async heartbeat<T>(task: Task, work: () => Promise<T>): Promise<T> {
    const timer = setInterval(() => this.publish(task), this.opts.progressMs ?? 1_000);
    try {
      return await work();
    } finally {
      clearInterval(timer);
    }
  }

  private fail(task: Task, error: string, transient: boolean): void {
    this.save(task, { status: 'failed', error, transient, waitUntil: undefined });
    this.publish(task);
    this.log(task).warn({ error, transient }, 'tasks: failed');
  }

  private save(task: Task, change: Partial<TaskRecord>): void {
    const next: TaskRecord = { ...task.record, ...change, updatedAt: this.now() };
    for (const key of Object.keys(next) as (keyof TaskRecord)[]) if (next[key] === undefined) delete next[key];
    task.record = next;
    this.opts.store.save(next);
  }

  /** Runs `fn`, logging instead of throwing: timers and promise callbacks must not crash the agent. */
  private guard(what: string, fn: () => void, task?: Task): void {
    try {
      fn();
    } catch (err) {
      (task ? this.log(task) : this.opts.logger).error({ err }, `tasks: ${what} failed`);
    }
  }

  private publish(task: Task): void {
    this.guard('publishing a status', () => this.send(task), task);
  }

  private send(task: Task): void {
    const r = task.record;
    this.opts.sink.taskStatus({
      taskId: r.command.taskId,
      attempt: r.command.attempt,
      status: r.status,
      ...(r.waitUntil && r.status === 'waiting' ? { waitUntil: r.waitUntil } : {}),
      ...(r.progress && (r.status === 'scanning' || r.status === 'uploading' || r.status === 'done') ? { progress: r.progress } : {}),
      ...(r.result && (r.status === 'uploading' || r.status === 'done') ? { result: r.result } : {}),
      ...(r.error !== undefined && (r.status === 'failed' || r.status === 'cancelled' || r.status === 'skipped') ? { error: r.error.slice(0, 2048) } : {}),
      ...(r.transient !== undefined && r.status === 'failed' ? { transient: r.transient } : {}),
    });
  }

  /** Forgets ended tasks older than pruneAfterMs, and files that belong to no task. */
  private prune(): void {
    const limit = this.opts.pruneAfterMs ?? DAY_MS;
    const now = this.now();
    for (const [id, task] of this.tasks) {
      if (ENDED_STATES.has(task.record.status) && now - task.record.updatedAt >= limit) {
        this.opts.store.remove(id);
        this.tasks.delete(id);
      }
    }
    for (const name of this.opts.store.sweepOrphans(new Set(this.tasks.keys()), limit, now)) {
      this.opts.logger.info({ file: name }, 'tasks: removed a file of no known task');
    }
  }

  private log(task: Task): Logger {
    return this.opts.logger.child({ task: task.record.command.taskId, job: task.record.command.jobId, attempt: task.record.command.attempt });
  }
}

function timestampMs(t: Timestamp): number {
  return t.sec * 1000 + Math.floor(t.nsec / 1e6);
}

function msTimestamp(ms: number): Timestamp {
  return { sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1e6 };
}
