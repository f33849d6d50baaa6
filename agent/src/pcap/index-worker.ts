/**
 * Worker-thread entry of the indexer (indexer.ts): builds one capture's sidecar index at a time,
 * off the agent's event loop, and, when the job carries traffic settings, the file's per-minute
 * traffic summary in the same read (traffic/summary.ts).
 *
 * In: `IndexJob`. Out: `{ type: 'started' }` just before the build (not for a file that vanished
 * or changed since it was queued), then `{ type: 'done', outcome }`. Never throws: every failure
 * is an outcome.
 *
 * Modes: `index` builds the sidecar (a fresh one found instead is kept, and then the traffic, if
 * wanted, is read in a pass of its own); `traffic` only reads the traffic (files too small for an
 * index, files whose sidecar exists but whose summary was never published).
 */
import { existsSync, rmSync, statSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { decodePacket, newDecodedPacket } from '@pcapmesh/shared/pcap/decode';
import { openCapture } from '@pcapmesh/shared/pcap/reader';
import { openIndex, sidecarPath } from '@pcapmesh/shared/pcap/sidecar/index';
import { TrafficAccumulator, type FileTraffic, type TrafficSettings } from '../traffic/summary.js';

export interface IndexJob {
  id: number;
  path: string;
  /** Size and mtime when queued: a file that differs now is being written again and is left alone. */
  size: number;
  mtimeMs: number;
  /** `index` (default): build the sidecar; `traffic`: only read the traffic summary. */
  mode?: 'index' | 'traffic';
  /** Summarise the file's traffic in the same read (required for mode `traffic`). */
  traffic?: TrafficSettings;
}

export interface WorkerOutcome {
  /**
   * built / rebuilt (from a stale or corrupt sidecar) / fresh (someone else indexed it meanwhile);
   * summarised (a `traffic` job read the file); vanished (deleted before or during the read);
   * changed (modified since queued); failed.
   */
  status: 'built' | 'rebuilt' | 'fresh' | 'summarised' | 'vanished' | 'changed' | 'failed';
  /** The file's traffic, when the job asked for it and the file was read to its end. */
  traffic?: FileTraffic;
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
    if (job.mode === 'traffic') {
      if (!job.traffic) return { status: 'failed', error: 'a traffic job without traffic settings' };
      const traffic = readTraffic(job.path, job.traffic);
      const finishedAt = preciseNow();
      if (!existsSync(job.path)) return { status: 'vanished', reason: 'deleted while reading its traffic', startedAt, finishedAt };
      return { status: 'summarised', traffic, startedAt, finishedAt };
    }
    const acc = job.traffic ? new TrafficAccumulator(job.traffic) : null;
    const r = openIndex(job.path, acc ? { observe: acc.observe } : {});
    // A sidecar someone else wrote meanwhile was loaded, not built: the traffic needs its own read.
    const traffic = job.traffic ? (r.status === 'fresh' ? readTraffic(job.path, job.traffic) : acc!.finish()) : undefined;
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
      ...(traffic ? { traffic } : {}),
      startedAt,
      finishedAt,
    };
  } catch (error) {
    if (gone(error) || !existsSync(job.path)) return { status: 'vanished', reason: 'deleted while indexing' };
    return { status: 'failed', error: (error as Error).message, startedAt, finishedAt: preciseNow() };
  }
}

/** A traffic-only read of the whole capture (same reader and decode as the index build). */
export function readTraffic(path: string, settings: TrafficSettings): FileTraffic {
  const acc = new TrafficAccumulator(settings);
  const reader = openCapture(path);
  const decoded = newDecodedPacket();
  try {
    for (let p = reader.next(); p; p = reader.next()) acc.observe(p, decodePacket(p, decoded));
  } finally {
    reader.close();
  }
  return acc.finish();
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
