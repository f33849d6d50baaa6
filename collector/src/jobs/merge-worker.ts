/**
 * The merge of a job's results, run in a worker thread (ResultsService keeps it for the next merge:
 * loading the PCAP library into a fresh thread costs ~0.4 s) so the synchronous PCAP library never
 * blocks the collector's event loop.
 *
 * Given the task result files, it
 *   1. merges them in time order with duplicates across sensors removed (mergeCaptures, dedup
 *      window DEFAULT_DEDUP_WINDOW_NS) into `{job}/merged.tmp`, fsynced;
 *   2. renames that to `merged.pcap` or `merged.pcapng` (by the format the merge chose) and removes
 *      the other name if an earlier merge left it — so a half-written merge is never under a name
 *      that is served, and running it again after a kill simply starts over;
 *   3. hashes the merged file and analyses it (analyzeFiles), the report naming the download name.
 * In: one `MergeWorkerInput` message per merge (the next only after the answer). Out: one
 * `{ ok: MergeWorkerResult }` or `{ error }` message per input; the thread then waits for the next.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { parentPort } from 'node:worker_threads';
import { analyzeFiles, DEFAULT_DEDUP_WINDOW_NS, mergeCaptures, type AnalysisReport, type CaptureProblem } from '@pcapmesh/shared/pcap';

export interface MergeWorkerInput {
  /** Absolute paths of the task results, in sensor order. */
  inputs: string[];
  /** Absolute path of the job's directory. */
  jobDir: string;
  /** Download names by extension (the analysis names the merged file by it). */
  fileNames: { pcap: string; pcapng: string };
}

export interface MergeWorkerResult {
  /** Relative to jobDir: merged.pcap or merged.pcapng. */
  file: 'merged.pcap' | 'merged.pcapng';
  format: 'pcap' | 'nsecpcap' | 'pcapng';
  packets: number;
  bytes: number;
  duplicates: number;
  fileBytes: number;
  sha256: string;
  analysis: AnalysisReport;
  problems: CaptureProblem[];
}

export type MergeWorkerMessage = { ok: MergeWorkerResult } | { error: string };

const TEMP = 'merged.tmp';

export function runMerge(input: MergeWorkerInput): MergeWorkerResult {
  const temp = join(input.jobDir, TEMP);
  rmSync(temp, { force: true });
  const stats = mergeCaptures(input.inputs, temp, { dedup: true, dedupWindowNs: DEFAULT_DEDUP_WINDOW_NS, format: 'auto' });
  syncPath(temp);
  const ext = stats.format === 'pcapng' ? 'pcapng' : 'pcap';
  const file = `merged.${ext}` as const;
  const final = join(input.jobDir, file);
  rmSync(join(input.jobDir, ext === 'pcap' ? 'merged.pcapng' : 'merged.pcap'), { force: true });
  renameSync(temp, final);
  syncPath(dirname(final));
  const { sha256, size } = hashSync(final);
  const analysis = analyzeFiles([final]);
  analysis.files = [input.fileNames[ext]];
  return {
    file,
    format: stats.format,
    packets: stats.packets,
    bytes: stats.bytes,
    duplicates: stats.duplicates,
    fileBytes: size,
    sha256,
    analysis,
    problems: stats.problems,
  };
}

function syncPath(path: string): void {
  const fd = openSync(path, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function hashSync(path: string): { sha256: string; size: number } {
  const hash = createHash('sha256');
  const buf = Buffer.allocUnsafe(4 << 20);
  const fd = openSync(path, 'r');
  let size = 0;
  try {
    for (let n = readSync(fd, buf, 0, buf.length, null); n > 0; n = readSync(fd, buf, 0, buf.length, null)) {
      hash.update(buf.subarray(0, n));
      size += n;
    }
  } finally {
    closeSync(fd);
  }
  return { sha256: hash.digest('hex'), size };
}

if (parentPort) {
  const port = parentPort;
  port.on('message', (input: MergeWorkerInput) => {
    let message: MergeWorkerMessage;
    try {
      message = { ok: runMerge(input) };
    } catch (err) {
      message = { error: err instanceof Error ? err.message : String(err) };
    }
    port.postMessage(message);
  });
}
