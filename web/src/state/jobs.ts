/**
 * Jobs on the client: the live job events (a small fan-out of the live feed's `job.status`,
 * `task.progress` and `hello` frames to the pages that watch jobs) and the arithmetic of progress.
 *
 * Contract:
 * - `createJobFeed().emit(m)` passes job frames and `hello` to every subscriber, ignores the rest;
 *   a subscriber that throws never stops the others (the error is reported to `onError`);
 * - `subscribe()` under a Solid owner unsubscribes on cleanup;
 * - `taskFraction` / `jobFraction` are 0..1; a final state is 1, a job merging is 0.97 (its tasks
 *   have all ended, the merged file is not there yet).
 */
import { getOwner, onCleanup } from 'solid-js';
import type { JobStatus, JobStatusEvent, JobView, LiveMessage, TaskProgressEvent, TaskStatus, TaskView } from '../api/types.js';

export type JobFeedMessage = { type: 'hello'; time: string } | JobStatusEvent | TaskProgressEvent;

export interface JobFeed {
  emit(message: LiveMessage): void;
  subscribe(listener: (message: JobFeedMessage) => void): () => void;
}

export function createJobFeed(onError: (err: unknown) => void = (err) => console.error('job feed listener failed', err)): JobFeed {
  const listeners = new Set<(message: JobFeedMessage) => void>();
  return {
    emit(message) {
      if (message.type !== 'hello' && message.type !== 'job.status' && message.type !== 'task.progress') return;
      for (const l of [...listeners]) {
        try {
          l(message);
        } catch (err) {
          onError(err);
        }
      }
    },
    subscribe(listener) {
      listeners.add(listener);
      const off = () => void listeners.delete(listener);
      if (getOwner()) onCleanup(off);
      return off;
    },
  };
}

export const JOB_FINAL: readonly JobStatus[] = ['complete', 'partial', 'failed', 'cancelled'];
export const JOB_OPEN: readonly JobStatus[] = ['pending', 'running', 'merging'];
export const TASK_FINAL: readonly TaskStatus[] = ['done', 'failed', 'cancelled', 'skipped'];

const clamp01 = (n: number) => (Number.isFinite(n) ? Math.min(1, Math.max(0, n)) : 0);

/**
 * How far a task is: final → 1; scanning → up to 0.8 by the bytes (else files) scanned; uploading →
 * 0.8 to 1 by the bytes acknowledged; earlier states → 0.
 */
export function taskFraction(task: Pick<TaskView, 'status' | 'progress'>): number {
  if (TASK_FINAL.includes(task.status)) return 1;
  const p = task.progress;
  if (task.status === 'scanning' && p) {
    const f = p.bytesTotal ? (p.bytesScanned ?? 0) / p.bytesTotal : p.filesTotal ? p.filesScanned / p.filesTotal : 0;
    return clamp01(f) * 0.8;
  }
  if (task.status === 'uploading') {
    const f = p?.uploadTotal ? (p.uploaded ?? 0) / p.uploadTotal : 0;
    return 0.8 + clamp01(f) * 0.2;
  }
  return 0;
}

/**
 * How far a job is: final → 1; merging → 0.97; otherwise the mean of its tasks' fractions when
 * they are known (`tasks`), else the share of tasks ended, scaled to 0.95.
 */
export function jobFraction(job: Pick<JobView, 'status' | 'tasks'>, tasks?: readonly Pick<TaskView, 'status' | 'progress'>[]): number {
  if (JOB_FINAL.includes(job.status)) return 1;
  if (job.status === 'merging') return 0.97;
  if (tasks && tasks.length > 0) return (tasks.reduce((sum, t) => sum + taskFraction(t), 0) / tasks.length) * 0.95;
  const t = job.tasks;
  if (t.total === 0) return 0;
  return clamp01((t.done + t.failed + t.cancelled + t.skipped) / t.total) * 0.95;
}

/** The job with a `job.status` event applied (status, counts, totals, result hash when it ended). */
export function applyJobEvent(job: JobView, e: JobStatusEvent): JobView {
  const result =
    e.result && job.result === null
      ? { fileBytes: e.result.fileBytes, sha256: e.result.sha256, packets: e.result.packets, bytes: e.bytes, duplicatesRemoved: 0, fileName: '' }
      : job.result;
  return {
    ...job,
    status: e.status,
    reason: e.reason ?? job.reason,
    packets: e.packets,
    bytes: e.bytes,
    tasks: { ...job.tasks, total: e.tasks.total, done: e.tasks.done, failed: e.tasks.failed, running: e.tasks.running },
    result,
  };
}

/** The task with a `task.progress` event applied. */
export function applyTaskEvent(task: TaskView, e: TaskProgressEvent): TaskView {
  return { ...task, status: e.status, attempt: e.attempt, reason: e.reason, progress: e.progress ?? task.progress, lastProgressAt: e.at };
}

/**
 * True when the signed-in user owns a job whose `ownerId` is given: the principal ids are compared
 * (`user:{id}` / `token:{id}`, the session's from GET /me), never names — a user or token deleted
 * and re-created under the same name is another principal and owns none of the old jobs. False
 * while the session's id is not known yet, and for a job whose owner is gone (null).
 */
export function ownsJob(user: { id?: string } | null | undefined, ownerId: string | null): boolean {
  return !!user && user.id !== undefined && typeof ownerId === 'string' && ownerId === user.id;
}

/** Cancel and delete: admins any job, analysts their own (by principal id), viewers none. */
export function mayChangeJob(user: { id?: string; role: string } | null | undefined, ownerId: string | null): boolean {
  if (!user) return false;
  return user.role === 'admin' || (user.role === 'analyst' && ownsJob(user, ownerId));
}

/** "1.2 MB" (powers of 1000). */
export function formatBytes(n: number): string {
  if (!Number.isFinite(n) || n < 1000) return `${Math.max(0, Math.round(n || 0))} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let i = -1;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${v >= 100 ? Math.round(v) : v.toFixed(1)} ${units[i]}`;
}
