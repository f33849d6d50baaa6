/**
 * Worker-thread entry of the indexer (indexer.ts): builds one capture's sidecar index at a time,
 * off the agent's event loop.
 *
 * In: `IndexJob`. Out: `{ type: 'started' }` just before the build (not for a file that vanished
 * or changed since it was queued), then `{ type: 'done', outcome }`. Never throws: every failure
 * is an outcome.
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { openIndex, sidecarPath } from '@pcapmesh/shared/pcap/sidecar/index';

export interface IndexJob {
  id: number;
  path: string;
  /** Size and mtime when queued: a file that differs now is being written again and is left alone. */
  size: number;
  mtimeMs: number;
}

export interface WorkerOutcome {
  /**
   * built / rebuilt (from a stale or corrupt sidecar) / fresh (someone else indexed it meanwhile);
   * vanished (deleted before or during the build); changed (modified since queued); failed.
   */
  status: 'built' | 'rebuilt' | 'fresh' | 'vanished' | 'changed' | 'failed';
  /** Why a sidecar was rebuilt, or why the file is left alone. */
  reason?: string;
  /** The index was built but could not be written (read-only directory). */
  persistError?: string;
  /** The capture could not be indexed (unreadable, not a capture). */
  error?: string;
  /** Epoch milliseconds (sub-millisecond precision) around the build, measured in the worker. */
  startedAt?: number;
  finishedAt?: number;
}

export type IndexReply = { id: number; type: 'started'; at: number } | { id: number; type: 'done'; outcome: WorkerOutcome };

/** The same clock in every thread: epoch milliseconds with sub-millisecond precision. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

export function indexOne(job: IndexJob, started: (at: number) => void): WorkerOutcome {
  try {
    const stat = statSync(job.path);
    if (stat.size !== job.size || stat.mtimeMs !== job.mtimeMs) return { status: 'changed', reason: 'modified since it was queued' };
  } catch (error) {
    return gone(error) ? { status: 'vanished', reason: 'deleted before indexing' } : { status: 'failed', error: (error as Error).message };
  }
  const startedAt = preciseNow();
  started(startedAt);
  try {
    const r = openIndex(job.path);
    const finishedAt = preciseNow();
    if (!existsSync(job.path)) {
      // Deleted while it was read (ring retention): its fresh sidecar would be an orphan.
      rmSync(sidecarPath(job.path), { force: true });
      return { status: 'vanished', reason: 'deleted while indexing', startedAt, finishedAt };
    }
    return {
      status: r.status,
      ...(r.reason !== undefined ? { reason: r.reason } : {}),
      ...(r.persistError !== undefined ? { persistError: r.persistError } : {}),
      startedAt,
      finishedAt,
    };
  } catch (error) {
    if (gone(error) || !existsSync(job.path)) return { status: 'vanished', reason: 'deleted while indexing' };
    return { status: 'failed', error: (error as Error).message, startedAt, finishedAt: preciseNow() };
  }
}

function gone(error: unknown): boolean {
  return (error as NodeJS.ErrnoException).code === 'ENOENT';
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (job: IndexJob) => {
    const outcome = indexOne(job, (at) => port.postMessage({ id: job.id, type: 'started', at } satisfies IndexReply));
    port.postMessage({ id: job.id, type: 'done', outcome } satisfies IndexReply);
  });
}
