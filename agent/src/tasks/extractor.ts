/**
 * Runs a task's extract in a worker thread (extract-worker.ts), so health and availability keep
 * flowing while it reads gigabytes. Threads are started lazily and kept for the next task (loading
 * the PCAP library into a fresh thread costs 0.25–0.5 s, ten times a small indexed extract): at most
 * one per extract running at once, an idle one holds no reference on the event loop (`unref`).
 *
 * Contract of `WorkerExtractor.extract`:
 * - resolves with the library's ExtractStats once `job.output` is complete;
 * - calls `onProgress` as the worker reports (after each file, and every `progressEveryMs` while
 *   a file is read);
 * - when `signal` aborts: asks the worker to stop, and terminates it if it has not ended within
 *   `graceMs` (a thread busy writing the output sees no request); the output is removed either
 *   way and the promise rejects with the signal's reason. A worker that stopped when asked is kept
 *   for the next task; one terminated is not;
 * - a worker that crashes rejects with an error naming the cause (and is not kept).
 *
 * `close()` terminates the idle threads (the agent's stop); an extract started after it starts a
 * fresh thread again.
 */
import { rmSync } from 'node:fs';
import type { ExtractProgress, ExtractStats } from '@pcapmesh/shared/pcap/extract';
import type { Worker } from 'node:worker_threads';
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
  /** Releases what the extractor keeps between extracts (threads); optional. */
  close?(): Promise<void>;
}

export class WorkerExtractor implements Extractor {
  /** Threads that finished an extract and wait for the next one. */
  private readonly idle: Worker[] = [];
  /** Threads started so far (the rest of the extracts reused one). */
  threadsStarted = 0;

  constructor(private readonly options: { progressEveryMs?: number; graceMs?: number } = {}) {}

  private start(): Worker {
    const worker = startModuleWorker(new URL('./extract-worker.js', import.meta.url));
    this.threadsStarted += 1;
    // An idle thread that dies (out of memory, terminated) must not be handed a job.
    worker.on('exit', () => {
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
    });
    return worker;
  }

  async close(): Promise<void> {
    await Promise.all(this.idle.splice(0).map((w) => w.terminate()));
  }

  extract(job: ExtractRequest, opts: { signal: AbortSignal; onProgress: (p: ExtractProgress) => void }): Promise<ExtractOutcome> {
    const { signal } = opts;
    if (signal.aborted) return Promise.reject(signal.reason as Error);
    const cancel = new Int32Array(new SharedArrayBuffer(4));
    const worker = this.idle.pop() ?? this.start();
    worker.ref();
    return new Promise<ExtractOutcome>((resolve, reject) => {
      let settled = false;
      let killer: NodeJS.Timeout | undefined;
      /** `keep`: the worker answered and waits for another job; else it is terminated. */
      const finish = (fn: () => void, keep = false): void => {
        if (settled) return;
        settled = true;
        signal.removeEventListener('abort', onAbort);
        clearTimeout(killer);
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (keep) {
          worker.unref();
          this.idle.push(worker);
        } else {
          void worker.terminate();
        }
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
      const onMessage = (reply: ExtractReply): void => {
        if (reply.type === 'progress') {
          if (!settled) opts.onProgress(reply.progress);
        } else if (reply.type === 'done') {
          finish(
            () =>
              signal.aborted
                ? (rmSync(job.output, { force: true }), reject(signal.reason as Error))
                : resolve({ stats: reply.stats, fileBytes: reply.fileBytes, sha256: reply.sha256 }),
            true,
          );
        } else {
          finish(() => reject(signal.aborted ? (signal.reason as Error) : new Error(reply.message)), true);
        }
      };
      const onError = (err: Error): void => finish(() => reject(new Error(`extract worker crashed: ${err.message}`, { cause: err })));
      const onExit = (code: number): void => finish(() => reject(new Error(`extract worker exited (code ${code}) before it finished`)));
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage({ ...job, cancel, progressEveryMs: this.options.progressEveryMs ?? 250 } satisfies ExtractJob);
    });
  }
}
