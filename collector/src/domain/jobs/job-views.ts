/**
 * Rows → the views of jobs.types.ts and the events of shared/src/wire/events.ts. Pure.
 */
import type { JobStatusEvent } from '@pcapmesh/shared/wire';
import type { JobWithTally } from '../../storage/jobs.repo.js';
import type { TaskRow } from '../../storage/job-tasks.repo.js';
import { iso } from '../time.js';
import type { JobFilterInput, JobPlan, JobTargets, JobView, TaskView } from './jobs.types.js';
import { resultFileName } from './results.service.js';
import { windowView } from './window.js';

export function jobWindow(row: Pick<JobWithTally, 'windowNs'>): { from: bigint; to: bigint } {
  return { from: BigInt(row.windowNs.from), to: BigInt(row.windowNs.to) };
}

export function jobView(row: JobWithTally): JobView {
  const t = row.tally;
  const result =
    row.resultSha256 !== null && row.resultFileBytes !== null
      ? {
          fileBytes: row.resultFileBytes,
          sha256: row.resultSha256,
          packets: row.resultPackets ?? 0,
          bytes: row.resultBytes ?? 0,
          duplicatesRemoved: row.duplicatesRemoved ?? 0,
          fileName: resultFileName(row, row.resultPath?.endsWith('.pcapng') === true ? 'pcapng' : 'pcap'),
        }
      : null;
  return {
    id: row.id,
    name: row.name,
    owner: row.owner,
    ownerId: row.ownerId,
    status: row.status,
    reason: row.statusReason,
    window: windowView(jobWindow(row)),
    filter: row.filter as JobFilterInput,
    expression: row.filterExpression,
    targets: row.targets as JobTargets,
    limits: row.limits,
    createdAt: row.createdAt.toISOString(),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    deadlineAt: row.deadlineAt.toISOString(),
    tasks: { total: t.total, pending: t.pending, running: t.running, done: t.done, failed: t.failed, cancelled: t.cancelled, skipped: t.skipped },
    packets: result?.packets ?? t.packets,
    bytes: result?.bytes ?? t.bytes,
    result,
    expiresAt: iso(row.expiresAt),
    expired: row.expiredAt !== null,
  };
}

export function taskView(row: TaskRow): TaskView {
  const done = row.status === 'done' && row.uploadComplete && row.uploadSha256 !== null;
  return {
    id: row.id,
    job: row.jobId,
    sensor: row.sensorName,
    status: row.status,
    reason: row.reason,
    attempt: row.attempt,
    dispatchedAt: iso(row.dispatchedAt),
    startedAt: iso(row.startedAt),
    finishedAt: iso(row.finishedAt),
    waitUntil: iso(row.waitUntil),
    lastProgressAt: iso(row.lastProgressAt),
    progress: row.progress === null ? null : (row.progress as TaskView['progress']),
    result: done
      ? {
          packets: row.resultPackets ?? 0,
          bytes: row.resultBytes ?? 0,
          fileBytes: row.uploadSize ?? 0,
          sha256: row.uploadSha256!,
          truncated: row.truncated,
        }
      : null,
    upload: { size: row.uploadSize, received: row.uploadReceived, complete: row.uploadComplete },
  };
}

export function planOf(row: JobWithTally): JobPlan {
  return row.plan as JobPlan;
}

/** The `events/jobs/{id}/status` event for a job as it is now. */
export function jobStatusEvent(row: JobWithTally, event: JobStatusEvent['event'], at: Date): JobStatusEvent {
  const view = jobView(row);
  const out: JobStatusEvent = {
    type: 'job.status',
    job: row.id,
    event,
    status: row.status,
    owner: row.owner,
    ownerId: row.ownerId,
    name: row.name,
    window: { from: view.window.from, to: view.window.to },
    tasks: { total: view.tasks.total, done: view.tasks.done, failed: view.tasks.failed + view.tasks.skipped, running: view.tasks.running + view.tasks.pending },
    packets: view.packets,
    bytes: view.bytes,
    at: at.toISOString(),
  };
  if (view.result !== null && (row.status === 'complete' || row.status === 'partial')) {
    out.result = { fileBytes: view.result.fileBytes, sha256: view.result.sha256, packets: view.result.packets };
  }
  if (row.statusReason !== null && (row.status === 'partial' || row.status === 'failed' || row.status === 'cancelled')) out.reason = row.statusReason;
  return out;
}
