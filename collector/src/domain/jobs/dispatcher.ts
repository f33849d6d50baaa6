/**
 * Sends tasks and cancellations to sensors (docs/jobs.md "Wire").
 *
 * Contract of `send(job, task, attempt)`:
 * - records the dispatch first (the task is `pending` at `attempt`, the no-progress clock restarts;
 *   a task that is final or already at a newer attempt is left alone and `false` returned);
 * - then publishes `commands/{sensor}/tasks` (QoS 1) with a fresh upload token that expires
 *   jobs.uploadTokenMinutes after the window's end or now, whichever is later;
 * - a failed publish is logged and leaves the task recorded as dispatched: it is re-sent when the
 *   sensor comes online or when the no-progress timeout passes. Agents are idempotent by
 *   (taskId, attempt), so sending twice is harmless.
 */
import type { Logger } from 'pino';
import type { Db } from '../../storage/db.js';
import { markDispatched, type TaskRow } from '../../storage/job-tasks.repo.js';
import type { JobRow } from '../../storage/jobs.repo.js';
import type { CommandSender, TaskTokenIssuer } from './jobs.ports.js';
import { timestampOfNs } from './window.js';

export interface DispatcherDeps {
  db: Db;
  commands: CommandSender;
  tokens: TaskTokenIssuer;
  /** Base URL agents reach the API at (http.publicUrl). */
  publicUrl: () => string;
  uploadTokenMinutes: number;
  log: Logger;
  now: () => Date;
}

export type DispatchJob = Pick<JobRow, 'id' | 'windowTo' | 'windowNs' | 'filterExpression' | 'limits'>;

export class TaskDispatcher {
  constructor(private readonly deps: DispatcherDeps) {}

  /** Records and publishes the task at `attempt`; false when the task may not be (re-)sent. */
  async send(job: DispatchJob, task: Pick<TaskRow, 'id' | 'sensorName'>, attempt: number): Promise<boolean> {
    const { db, commands, tokens, log } = this.deps;
    const now = this.deps.now();
    const recorded = await markDispatched(db, task.id, attempt, now);
    if (recorded === null) return false;
    const base = Math.max(job.windowTo.getTime(), now.getTime());
    const expiresAt = new Date(base + this.deps.uploadTokenMinutes * 60_000);
    const token = await tokens.issue({ taskId: task.id, jobId: job.id, sensor: task.sensorName }, expiresAt);
    const ids = { job: job.id, task: task.id, sensor: task.sensorName, attempt };
    try {
      await commands.send(task.sensorName, 'tasks', {
        taskId: task.id,
        jobId: job.id,
        attempt,
        window: { from: timestampOfNs(BigInt(job.windowNs.from)), to: timestampOfNs(BigInt(job.windowNs.to)) },
        filter: job.filterExpression,
        limits: { maxBytes: job.limits.maxBytes, maxPackets: job.limits.maxPackets },
        upload: { url: `${this.deps.publicUrl()}/api/v1/tasks/${encodeURIComponent(task.id)}/upload`, token },
      });
      log.info(ids, 'task dispatched');
    } catch (err) {
      log.warn({ ...ids, err }, 'publishing a task command failed: re-sent when the sensor is online or the task stalls');
    }
    return true;
  }

  /** Tells the sensor to stop the task. Failures are logged (an agent whose task is gone reports nothing more). */
  async cancel(task: Pick<TaskRow, 'id' | 'jobId' | 'sensorName'>, reason: string): Promise<void> {
    try {
      await this.deps.commands.send(task.sensorName, 'cancel', { taskId: task.id, reason });
    } catch (err) {
      this.deps.log.warn({ job: task.jobId, task: task.id, sensor: task.sensorName, err }, 'publishing a cancel command failed');
    }
  }
}
