/**
 * A job's way to its end, shared by the service (status ingest, cancel) and the scheduler (ticks,
 * deadlines, restart):
 *
 *   running ──every task final, ≥ 1 done──▶ merging ──results.merge──▶ complete | partial
 *      │                                        └──merge failed──▶ failed
 *      └──every task final, none done──▶ failed        (reason names each sensor and why)
 *
 * Also the task-level retry rule: a failure that may pass (transient, or no progress) is re-sent
 * as attempt + 1 while attempt + 1 < jobs.taskMaxAttempts; otherwise the task fails for good.
 *
 * Every transition is a guarded UPDATE (storage), so two paths racing for the same job or task
 * change it once; events are emitted after the change is stored.
 */
import type { Logger } from 'pino';
import type { Db } from '../../storage/db.js';
import { applyTaskStatus, listTasks, OPEN_TASK_STATES, reopenForRetry, type TaskRow } from '../../storage/job-tasks.repo.js';
import {
  acquireMergeLease,
  endJob,
  findJob,
  releaseMergeLease,
  renewMergeLease,
  startMerge,
  type JobRow,
  type JobStatusText,
} from '../../storage/jobs.repo.js';
import type { DomainEvents } from '../events.js';
import type { TaskDispatcher } from './dispatcher.js';
import { jobStatusEvent } from './job-views.js';
import type { JobResults } from './jobs.ports.js';

export interface LifecycleSettings {
  taskMaxAttempts: number;
  /** results.expiryDays: a finished job's results are deleted this long after it ended. */
  expiryDays: number;
  /** jobs.mergeLeaseSeconds: life of a merge lease, renewed every third of it while the merge runs. */
  mergeLeaseSeconds: number;
}

export interface LifecycleDeps {
  db: Db;
  dispatcher: TaskDispatcher;
  results: JobResults;
  events: DomainEvents;
  log: Logger;
  now: () => Date;
  settings: LifecycleSettings;
  /** This collector process in merge leases (unique among the collectors on the database). */
  holder: string;
}

const PROGRESS_INTERVAL_MS = 1000;

export class JobLifecycle {
  /** Jobs this process is merging (a tick must not start a second merge of the same job). */
  private readonly merging = new Set<string>();
  /** Last progress event per job and per task (ms), for the once-a-second throttle. */
  private readonly lastProgress = new Map<string, number>();

  constructor(private readonly deps: LifecycleDeps) {}

  /** Emits `job.status` for the job as stored now (nothing when it is gone). */
  async emitJob(jobId: string, event: 'submitted' | 'progress' | JobStatusText): Promise<void> {
    const row = await findJob(this.deps.db, jobId);
    if (row === null) return;
    if (event !== 'progress') this.lastProgress.delete(jobId);
    this.deps.events.emit('job.status', jobStatusEvent(row, event, this.deps.now()));
  }

  /** A task moved: `task.progress` (state changes always, mere progress ≤ 1/s), and the job's progress ≤ 1/s. */
  async taskMoved(task: TaskRow, stateChanged: boolean): Promise<void> {
    const now = this.deps.now();
    if (stateChanged || this.due(`task:${task.id}`, now)) {
      this.deps.events.emit('task.progress', {
        type: 'task.progress',
        job: task.jobId,
        task: task.id,
        sensor: task.sensorName,
        status: task.status,
        attempt: task.attempt,
        reason: task.reason,
        progress: task.progress as never,
        at: now.toISOString(),
      });
    }
    if (OPEN_TASK_STATES.includes(task.status) || !stateChanged) {
      if (this.due(task.jobId, now)) await this.emitJob(task.jobId, 'progress');
    }
    if (!OPEN_TASK_STATES.includes(task.status)) this.lastProgress.delete(`task:${task.id}`);
  }

  private due(key: string, now: Date): boolean {
    const last = this.lastProgress.get(key);
    if (last !== undefined && now.getTime() - last < PROGRESS_INTERVAL_MS) return false;
    this.lastProgress.set(key, now.getTime());
    return true;
  }

  /**
   * A task of `job` failed at `task.attempt`. Retried as attempt + 1 when `mayRetry` and attempts
   * remain, else marked failed with `reason`. Returns what happened.
   */
  async failOrRetry(job: JobRow, task: TaskRow, reason: string, mayRetry: boolean): Promise<'retried' | 'failed' | 'unchanged'> {
    const { db, log, settings } = this.deps;
    const now = this.deps.now();
    const ids = { job: job.id, task: task.id, sensor: task.sensorName, attempt: task.attempt };
    if (mayRetry && task.attempt + 1 < settings.taskMaxAttempts && (await reopenForRetry(db, task.id, task.attempt, now))) {
      log.info({ ...ids, reason }, 'task failed; re-sending as a new attempt');
      await this.deps.dispatcher.send(job, task, task.attempt + 1);
      const fresh = (await listTasks(db, job.id)).find((t) => t.id === task.id);
      if (fresh) await this.taskMoved(fresh, true);
      return 'retried';
    }
    // A retryable failure that ran out of attempts says so; one that is never retried just names its cause.
    const said = mayRetry ? `${reason} (attempt ${task.attempt + 1} of ${settings.taskMaxAttempts})` : reason;
    const failed = await applyTaskStatus(db, { id: task.id, attempt: task.attempt, from: OPEN_TASK_STATES, to: 'failed', at: now, reason: said }, true);
    if (failed === null) return 'unchanged';
    log.warn({ ...ids, reason }, 'task failed');
    await this.taskMoved(failed, true);
    return 'failed';
  }

  /**
   * Ends a running job whose tasks are all final: merge when any is done, else failed. Also
   * re-runs the merge of a job found `merging` (restart). Returns false when there is nothing to do.
   *
   * Exactly one collector merges a job: the merge runs only under the job's merge lease in the
   * database (jobs.repo acquireMergeLease), renewed every third of jobs.mergeLeaseSeconds while it
   * runs and released when it ends. A job another collector holds the lease of is left to it (false);
   * a crashed holder's lease expires and the next tick of any collector takes the merge over.
   */
  async finishIfDone(jobId: string): Promise<boolean> {
    const { db } = this.deps;
    if (this.merging.has(jobId)) return false;
    // Both reads at once (separate connections on PostgreSQL): this is the path from the last task's
    // end to the job's result, and each round trip on it is waited for.
    const [job, tasks] = await Promise.all([findJob(db, jobId), listTasks(db, jobId)]);
    if (job === null || (job.status !== 'running' && job.status !== 'merging' && job.status !== 'pending')) return false;
    if (tasks.some((t) => OPEN_TASK_STATES.includes(t.status))) return false;
    const reason = failureReason(tasks);
    const done = tasks.filter((t) => t.status === 'done').length;
    if (done === 0) {
      return this.end(job, 'failed', reason ?? 'no task produced a result');
    }
    const final: JobStatusText = reason === null ? 'complete' : 'partial';
    const { holder, settings } = this.deps;
    // running → merging with the lease taken in one statement; a job found merging (restart, or
    // another collector's lease expired) takes the lease alone.
    let announced: Promise<void> = Promise.resolve();
    if (job.status !== 'merging') {
      if (!(await startMerge(db, jobId, holder, settings.mergeLeaseSeconds, this.deps.now()))) return false;
      // The `merging` event reads the job back; the merge need not wait for it, the job's end does (event order).
      announced = this.emitJob(jobId, 'merging').catch((err: unknown) => this.deps.log.warn({ job: jobId, err }, 'emitting merging failed'));
    } else if (!(await acquireMergeLease(db, jobId, holder, settings.mergeLeaseSeconds))) {
      this.deps.log.debug({ job: jobId, holder }, 'another collector holds the merge lease');
      return false;
    }
    this.merging.add(jobId);
    const renew = setInterval(() => void this.renewLease(jobId), (settings.mergeLeaseSeconds * 1000) / 3);
    let released = false;
    try {
      const merged = await this.deps.results.merge(jobId, final, holder);
      this.deps.log.info(
        { job: jobId, status: final, packets: merged.packets, fileBytes: merged.fileBytes, duplicatesRemoved: merged.duplicatesRemoved },
        'job merged',
      );
      await announced;
      released = await this.end(job, final, reason, ['merging'], holder);
    } catch (err) {
      this.deps.log.error({ job: jobId, err }, 'merge failed');
      await announced;
      released = await this.end(job, 'failed', `merge failed: ${err instanceof Error ? err.message : String(err)}`, ['merging'], holder);
    } finally {
      clearInterval(renew);
      // end() gave the lease up with the job's final state; when it did not end the job (cancelled meanwhile, or it threw), here.
      if (!released) {
        await releaseMergeLease(db, jobId, holder).catch((err: unknown) => this.deps.log.warn({ job: jobId, err }, 'releasing the merge lease failed'));
      }
      this.merging.delete(jobId);
    }
    return true;
  }

  /** Extends this collector's merge lease of `jobId`; a lease found lost is logged (the result will not be stored). */
  private async renewLease(jobId: string): Promise<void> {
    const { db, holder, settings, log } = this.deps;
    try {
      if (!(await renewMergeLease(db, jobId, holder, settings.mergeLeaseSeconds))) log.warn({ job: jobId, holder }, 'merge lease lost to another collector');
    } catch (err) {
      log.warn({ job: jobId, holder, err }, 'renewing the merge lease failed');
    }
  }

  /** When the results of a job that ends at `at` expire (results.expiryDays later). */
  expiresAt(at: Date): Date {
    return new Date(at.getTime() + this.deps.settings.expiryDays * 86_400_000);
  }

  /**
   * Moves an open job to a final state and sets its results' expiry in one statement, then emits;
   * with `holder`, that holder's merge lease is given up in the same statement. False (nothing
   * changed) when the job was not in one of `from`.
   */
  async end(
    job: Pick<JobRow, 'id'>,
    to: JobStatusText,
    reason: string | null,
    from: JobStatusText[] = ['pending', 'running', 'merging'],
    holder?: string,
  ): Promise<boolean> {
    const now = this.deps.now();
    const changed = await endJob(this.deps.db, job.id, {
      from,
      to,
      reason,
      at: now,
      expiresAt: this.expiresAt(now),
      ...(holder !== undefined ? { holder } : {}),
    });
    if (!changed) return false;
    this.deps.log.info({ job: job.id, status: to, reason }, 'job ended');
    await this.emitJob(job.id, to);
    return true;
  }
}

/** "edge-2 failed: no progress for 120 s; edge-3 skipped: no availability overlaps the window", or null when all are done. */
export function failureReason(tasks: Pick<TaskRow, 'sensorName' | 'status' | 'reason'>[]): string | null {
  const parts = tasks.filter((t) => t.status !== 'done').map((t) => `${t.sensorName} ${t.status}${t.reason ? `: ${t.reason}` : ''}`);
  return parts.length === 0 ? null : parts.join('; ');
}
