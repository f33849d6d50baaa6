/**
 * Dry-run estimates (`commands/{name}/estimate` → `sensors/{name}/estimates/{requestId}`): how much
 * a task with this window and filter would read and match, from file listings and sidecar indexes
 * only — never reading packets.
 *
 * - files / bytesInWindow: capture files whose packet span overlaps the window, and their sizes.
 * - indexedFiles: those with a fresh sidecar.
 * - matchUpperBound: over the indexed files, the packets and captured bytes the index selects
 *   (sidecar/plan.ts estimateIndex: posting lists where it decides, whole blocks where it cannot):
 *   exact where the index decides, an upper bound otherwise. A file whose link types the index
 *   cannot judge counts whole. Null when no overlapping file is indexed.
 * - matchExact: true when every overlapping file is indexed and every answer was exact (then the
 *   bound is the number of packets an extract writes, before any limit).
 * - bytesToRead: unindexed files whole plus the indexed files' read plans (records and blocks).
 * - A filter that does not parse (or an empty window) is answered with `error` and zeros.
 *
 * The listing runs on the caller's thread (cached spans, see captures.ts). The indexes are read on
 * it too when their sidecars total at most `inlineBelowBytes` (default 512 KiB: ~50–100 ms of
 * decoding), else in a short-lived worker thread (estimate-worker.ts), so a large window does not
 * stall the agent and a small one does not pay for starting a thread.
 */
import { statSync } from 'node:fs';
import type { Body, EstimateCommand, Timestamp } from '@pcapmesh/shared/wire';
import { DECODED_LINK_TYPES } from '@pcapmesh/shared/pcap/decode';
import type { FilterNode } from '@pcapmesh/shared/pcap/filter/ast';
import { parseFilter } from '@pcapmesh/shared/pcap/filter/parser';
import { compileCandidates, estimateIndex, loadIndex, sidecarPath } from '@pcapmesh/shared/pcap/sidecar/index';
import { compareTimestamps } from '@pcapmesh/shared/pcap/timestamp';
import { startModuleWorker } from '@pcapmesh/shared/util/worker';
import { listCaptures, overlapping, type CaptureSource } from './captures.js';

export type EstimateAnswer = Omit<Body<'estimate'>, 'requestId'>;

export interface EstimateInput {
  files: { path: string; bytes: number }[];
  from: Timestamp;
  to: Timestamp;
  filter: string;
}

const EMPTY: EstimateAnswer = { files: 0, bytesInWindow: 0, indexedFiles: 0, matchUpperBound: null, bytesToRead: 0 };

/** The estimate over already selected files (synchronous: reads sidecars only). */
export function estimateFiles(input: EstimateInput): EstimateAnswer {
  let filter: FilterNode = { kind: 'all' };
  if (input.filter.trim() !== '') {
    try {
      filter = parseFilter(input.filter);
    } catch (err) {
      return { ...EMPTY, error: `bad filter: ${(err as Error).message}` };
    }
  }
  const select = compileCandidates(filter);
  const everything = compileCandidates({ kind: 'all' });
  const answer: EstimateAnswer = { ...EMPTY, files: input.files.length };
  let bound: { packets: number; bytes: number } | null = null;
  let exact = true;
  for (const file of input.files) {
    answer.bytesInWindow += file.bytes;
    const loaded = loadIndex(file.path);
    if (loaded.status !== 'fresh') {
      answer.bytesToRead += file.bytes;
      exact = false;
      continue;
    }
    answer.indexedFiles++;
    bound ??= { packets: 0, bytes: 0 };
    const index = loaded.index;
    // Link types the decoder (hence the index) does not understand: every packet of the window may match.
    const judged = index.linkTypes.every((lt) => DECODED_LINK_TYPES.has(lt));
    const e = estimateIndex(index, judged ? select : everything, input.from, input.to);
    bound.packets += e.packets;
    bound.bytes += e.bytes;
    answer.bytesToRead += judged ? e.bytesToRead : file.bytes;
    exact &&= judged && e.exact;
  }
  answer.matchUpperBound = bound;
  if (bound !== null) answer.matchExact = exact;
  return answer;
}

/** Answers estimate commands: lists on this thread, reads indexes here or in a short-lived worker. */
export class Estimator {
  /** Estimates answered on the caller's thread and in a worker (tests, diagnostics). */
  readonly counters = { inline: 0, worker: 0 };

  constructor(
    private readonly sources: readonly CaptureSource[],
    private readonly options: { inlineBelowBytes?: number } = {},
  ) {}

  async estimate(command: Pick<EstimateCommand, 'window' | 'filter'>): Promise<EstimateAnswer> {
    const { from, to } = command.window;
    if (compareTimestamps(from, to) >= 0) return { ...EMPTY, error: 'the window is empty: from must be before to' };
    const files = overlapping(listCaptures(this.sources), from, to).map((f) => ({ path: f.path, bytes: f.bytes }));
    const input: EstimateInput = { files, from, to, filter: command.filter };
    if (sidecarBytes(files) <= (this.options.inlineBelowBytes ?? 512 * 1024)) {
      this.counters.inline++;
      return estimateFiles(input);
    }
    this.counters.worker++;
    const worker = startModuleWorker(new URL('./estimate-worker.js', import.meta.url), { workerData: input });
    try {
      return await new Promise<EstimateAnswer>((resolve, reject) => {
        worker.once('message', (answer: EstimateAnswer) => resolve(answer));
        worker.once('error', (err) => reject(new Error(`estimate worker crashed: ${err.message}`, { cause: err })));
        worker.once('exit', (code) => reject(new Error(`estimate worker exited (code ${code}) without an answer`)));
      });
    } finally {
      void worker.terminate();
    }
  }
}

function sidecarBytes(files: { path: string }[]): number {
  let total = 0;
  for (const f of files) {
    try {
      total += statSync(sidecarPath(f.path)).size;
    } catch {
      // no sidecar: the file counts whole, nothing to decode
    }
  }
  return total;
}
