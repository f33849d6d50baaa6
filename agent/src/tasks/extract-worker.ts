/**
 * Worker-thread entry of a task's extract (extractor.ts): runs the PCAP library's `extract`, off
 * the agent's event loop, and reports progress while it reads. The thread lives on for the next
 * job; the parent sends it one job at a time (the next only after this one's last answer).
 *
 * In: an `ExtractJob` message. Out: `{ type: 'progress' }` messages (at most every
 * `progressEveryMs`, and after each file), then `{ type: 'done', stats, fileBytes, sha256 }` (the
 * output file's size and SHA-256, hashed here too) or
 * `{ type: 'failed', message, aborted }`. Cancelling: the parent sets `cancel[0]` to 1 (the
 * extract reads synchronously, so no message could reach this thread); the next progress tick
 * sees it and aborts the library's signal, which removes the output.
 */
import { createHash } from 'node:crypto';
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { extract, type ExtractProgress, type ExtractStats } from '@pcapmesh/shared/pcap/extract';
import type { ExtractLimits } from '@pcapmesh/shared/pcap/extract-limit';
import type { Timestamp } from '@pcapmesh/shared/wire';

export interface ExtractJob {
  inputs: string[];
  output: string;
  /** Filter expression; empty = every packet. */
  filter: string;
  from: Timestamp;
  to: Timestamp;
  limits: ExtractLimits;
  progressEveryMs: number;
  /** Int32Array over a SharedArrayBuffer: [0] = 1 asks the extract to stop. */
  cancel: Int32Array;
}

export type ExtractReply =
  | { type: 'progress'; progress: ExtractProgress }
  | { type: 'done'; stats: ExtractStats; fileBytes: number; sha256: string }
  | { type: 'failed'; message: string; aborted: boolean };

if (parentPort) {
  const port = parentPort;
  port.on('message', (job: ExtractJob) => {
    const controller = new AbortController();
    const checkCancel = (): void => {
      if (Atomics.load(job.cancel, 0) === 1 && !controller.signal.aborted) controller.abort(new Error('extract cancelled'));
    };
    checkCancel(); // cancelled while this thread was starting: the extract rejects at once
    extract({
      // Ring retention may have deleted a selected file meanwhile: it holds nothing any more.
      inputs: job.inputs.filter((path) => existsSync(path)),
      output: job.output,
      ...(job.filter.trim() !== '' ? { filter: job.filter } : {}),
      from: job.from,
      to: job.to,
      useIndex: true,
      // The sensor's CPUs are for capturing: one thread (this one) reads the files.
      workers: 0,
      limits: job.limits,
      progressEveryMs: job.progressEveryMs,
      signal: controller.signal,
      onProgress: (progress) => {
        checkCancel();
        port.postMessage({ type: 'progress', progress } satisfies ExtractReply);
      },
    }).then(
      (stats) => port.postMessage({ type: 'done', stats, ...hashFile(job.output) } satisfies ExtractReply),
      (err: unknown) => port.postMessage({ type: 'failed', message: (err as Error).message, aborted: controller.signal.aborted } satisfies ExtractReply),
    );
  });
}

/** Size and SHA-256 of a file, read in 4 MiB pieces. */
export function hashFile(path: string): { fileBytes: number; sha256: string } {
  const hash = createHash('sha256');
  const buf = new Uint8Array(4 * 1024 * 1024);
  const fd = openSync(path, 'r');
  let fileBytes = 0;
  try {
    for (let n; (n = readSync(fd, buf, 0, buf.length, fileBytes)) > 0; fileBytes += n) hash.update(buf.subarray(0, n));
  } finally {
    closeSync(fd);
  }
  return { fileBytes, sha256: hash.digest('hex') };
}
