/**
 * Runs a task's extract in a worker thread of its own (extract-worker.ts), so health and
 * availability keep flowing while it reads gigabytes.
 *
 * Contract of `WorkerExtractor.extract`:
 * - resolves with the library's ExtractStats once `job.output` is complete;
 * - calls `onProgress` as the worker reports (after each file, and every `progressEveryMs` while
 *   a file is read);
 * - when `signal` aborts: asks the worker to stop, and terminates it if it has not ended within
 *   `graceMs` (a thread busy writing the output sees no request); the output is removed either
 *   way and the promise rejects with the signal's reason;
 * - a worker that crashes rejects with an error naming the cause.
 */
import { rmSync } from 'node:fs';
import type { ExtractProgress, ExtractStats } from '@pcapmesh/shared/pcap/extract';
import { startModuleWorker } from '@pcapmesh/shared/util/worker';
import type { ExtractJob, ExtractReply } from './extract-worker.js';

export type ExtractRequest = Omit<ExtractJob, 'cancel' | 'progressEveryMs'>;

/** What an extract produced: the library's stats and the output file's size and SHA-256. */
export interface ExtractOutcome {
  stats: ExtractStats;
  fileBytes: number;
  sha256: string;
}

/** The extract step as the runner sees it. */
export interface Extractor {
  extract(job: ExtractRequest, opts: { signal: AbortSignal; onProgress: (p: ExtractProgress) => void }): Promise<ExtractOutcome>;
}

export class WorkerExtractor implements Extractor {
  constructor(private readonly options: { progressEveryMs?: number; graceMs?: number } = {}) {}

  extract(job: ExtractRequest, opts: { signal: AbortSignal; onProgress: (p: ExtractProgress) => void }): Promise<ExtractOutcome> {
    const { signal } = opts;
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    const worker = startModuleWorker(new URL('./extract-worker.js', import.meta.url));
    return new Promise<ExtractOutcome>((resolve, reject) => {
      let settled = false;
      let killer: NodeJS.Timeout | undefined;
      const finish = (fn: () => void): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        clearTimeout(killer);
        void worker.terminate();
        fn();
      };
      const onAbort = (): void => {
        Atomics.store(cancel, 0, 1);
        killer = setTimeout(() => {
          finish(() => {
            rmSync(job.output, { force: true });
            reject(signal.reason as Error);
          });
        }, this.options.graceMs ?? 2_000);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      worker.on('message', (reply: ExtractReply) => {
        if (reply.type === 'progress') {
          if (!settled) opts.onProgress(reply.progress);
        } else if (reply.type === 'done') {
          finish(() => (signal.aborted ? (rmSync(job.output, { force: true }), reject(signal.reason as Error)) : resolve({ stats: reply.stats, fileBytes: reply.fileBytes, sha256: reply.sha256 })));
        } else {
          finish(() => reject(signal.aborted ? (signal.reason as Error) : new Error(reply.message)));
        }
      });
      worker.on('error', (err) => finish(() => reject(new Error(`extract worker crashed: ${err.message}`, { cause: err }))));
      worker.on('exit', (code) => finish(() => reject(new Error(`extract worker exited (code ${code}) before it finished`))));
      worker.postMessage({ ...job, cancel, progressEveryMs: this.options.progressEveryMs ?? 250 } satisfies ExtractJob);
    });
  }
}
