/**
 * Estimate: how many packets and bytes an extract with this window and filter would write, from
 * the sidecar indexes alone (no packet is read). Exact where the indexes decide (posting lists,
 * blocks wholly inside the window), an upper bound otherwise — the answer says which. Files
 * without a fresh index are listed apart (their share is unknown without reading them).
 *
 * @example
 * const e = estimateCaptures({ inputs: ['/var/capture'], filter: 'host 10.0.0.1', from, to });
 * console.log(e.exact ? 'exactly' : 'at most', e.packets, 'packets');
 */
import { DECODED_LINK_TYPES } from './decode.js';
import { expandInputs } from './extract-inputs.js';
import { resolveFilter, type ExtractOptions } from './extract.js';
import { compileCandidates } from './sidecar/candidates.js';
import { loadIndex, loadIndexHeader } from './sidecar/index.js';
import { estimateIndex } from './sidecar/plan.js';
import { captureTimeRange } from './time-range.js';
import { compareTimestamps } from './timestamp.js';
import type { Timestamp } from './types.js';

export interface EstimateOptions {
  inputs: string[];
  filter?: ExtractOptions['filter'];
  from?: Timestamp;
  to?: Timestamp;
}

export interface CaptureEstimate {
  /** Files whose packet span meets the window, and their bytes. */
  files: number;
  bytesInWindow: number;
  /** Of those, files with a fresh index (the others are in `unindexed`). */
  indexedFiles: number;
  /** Matching packets and captured bytes in the indexed files. */
  packets: number;
  bytes: number;
  /** True when the count is exact for every indexed file; false: an upper bound. */
  exact: boolean;
  /** Bytes an extract would read (indexed files' read plans, unindexed files whole). */
  bytesToRead: number;
  /** Files in the window without a usable index, and why (missing, stale, corrupt, older format). */
  unindexed: Array<{ path: string; reason: string }>;
  /** Inputs that could not be read at all. */
  problems: Array<{ path: string; reason: string }>;
}

/**
 * Estimates an extract from the indexes. @throws the filter parser's positioned error, or an
 * Error naming an input that cannot be read or an empty window.
 */
export function estimateCaptures(opts: EstimateOptions): CaptureEstimate {
  const filter = resolveFilter(opts.filter);
  const from = opts.from ?? null;
  const to = opts.to ?? null;
  if (from && to && compareTimestamps(from, to) >= 0) throw new Error('estimate: the window is empty (--from must be before --to)');
  const select = compileCandidates(filter);
  const everything = compileCandidates({ kind: 'all' });
  const out: CaptureEstimate = {
    files: 0,
    bytesInWindow: 0,
    indexedFiles: 0,
    packets: 0,
    bytes: 0,
    exact: true,
    bytesToRead: 0,
    unindexed: [],
    problems: [],
  };
  const misses = (first: Timestamp | null, last: Timestamp | null): boolean =>
    (to !== null && first !== null && compareTimestamps(first, to) >= 0) || (from !== null && last !== null && compareTimestamps(last, from) < 0);
  for (const path of expandInputs(opts.inputs)) {
    // The header alone first (its own checksum): files out of the window cost one small read.
    const header = loadIndexHeader(path);
    if (header.status === 'fresh' && misses(header.header.first, header.header.last)) continue;
    const loaded = loadIndex(path);
    if (loaded.status === 'fresh') {
      const index = loaded.index;
      if (misses(index.first, index.last)) continue;
      out.files++;
      out.indexedFiles++;
      out.bytesInWindow += index.data.capture.size;
      const judged = index.linkTypes.every((lt) => DECODED_LINK_TYPES.has(lt));
      const e = estimateIndex(index, judged ? select : everything, from, to);
      out.packets += e.packets;
      out.bytes += e.bytes;
      out.exact &&= judged && e.exact;
      out.bytesToRead += judged ? e.bytesToRead : index.data.capture.size;
      continue;
    }
    let range: ReturnType<typeof captureTimeRange>;
    try {
      range = captureTimeRange(path);
    } catch (error) {
      out.problems.push({ path, reason: (error as Error).message });
      continue;
    }
    if (misses(range.first, range.last)) continue;
    out.files++;
    out.bytesInWindow += range.bytes;
    out.bytesToRead += range.bytes;
    out.unindexed.push({ path, reason: loaded.reason });
  }
  return out;
}
