/**
 * A small pool of extract worker threads (CPUs − 1 by default, none on ≤ 2 CPUs) that scans files in
 * parallel; in-process when `workers` is 0 (small jobs: no thread start-up cost).
 */
import { availableParallelism } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '../util/worker.js';
import { scanFile, type ScanResult, type ScanTask, type ScanTick } from './extract-scan.js';

export interface PoolOptions {
  workers: number;
  signal?: AbortSignal;
  /** Called as each file finishes, in completion order, with the task's index. */
  onResult?: (result: ScanResult, index: number) => void;
  /** In-process scans only: called while task `index` is being read (see scanFile's onTick). */
  onTick?: (index: number, tick: ScanTick) => void;
  /** Asked after each result: true = start no further task (those left out get no result). */
  enough?: () => boolean;
}

/** A scan worker: extract-worker.js beside this module (in dist/ or the CLI bundle), or its source. */
function startWorker(): Worker {
  return startModuleWorker(new URL('./extract-worker.js', import.meta.url));
}

/**
 * Worker threads used when the caller does not say: none on a machine with two CPUs or fewer.
 * Measured on the 2-vCPU bench machine (1 GB, 16 files, `bench/extract-scan.ts`): in-thread
 * 1.26–1.59 s wall, two workers 1.65–2.42 s with twice the CPU time — the two vCPUs do not scan
 * faster side by side, and the parts still have to be merged. With more CPUs, one is left for the
 * merge and the process's own work.
 */
export function defaultWorkerCount(): number {
  const cpus = availableParallelism();
  return cpus > 2 ? cpus - 1 : 0;
}

/**
 * Runs the tasks; results come back in task order (undefined for tasks left out once `enough()`
 * said so). Rejects with the signal's reason on abort.
 */
export async function runScans(tasks: ScanTask[], opts: PoolOptions): Promise<(ScanResult | undefined)[]> {
  const results: (ScanResult | undefined)[] = new Array<ScanResult | undefined>(tasks.length);
  const signal = opts.signal;
  if (opts.workers <= 0 || tasks.length <= 1) {
    for (let i = 0; i < tasks.length; i++) {
      signal?.throwIfAborted();
      const onTick = opts.onTick;
      results[i] = scanFile(tasks[i]!, () => signal?.aborted ?? false, onTick ? (tick) => onTick(i, tick) : undefined);
      signal?.throwIfAborted();
      opts.onResult?.(results[i]!, i);
      if (opts.enough?.()) break;
    }
    signal?.throwIfAborted();
    return results;
  }
  const workers: Worker[] = [];
  let next = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      let running = 0;
      const onAbort = (): void => reject(signal?.reason ?? new Error('extract aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      let stop = false;
      const feed = (w: Worker): void => {
        if (next >= tasks.length || stop) {
          if (running === 0) {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          }
          return;
        }
        const id = next++;
        running++;
        w.postMessage({ id, task: tasks[id] });
      };
      for (let i = 0; i < Math.min(opts.workers, tasks.length); i++) {
        const w = startWorker();
        workers.push(w);
        w.on('message', (msg: { id: number; result?: ScanResult; error?: string }) => {
          running--;
          if (msg.error !== undefined || !msg.result) {
            reject(new Error(`extract worker failed: ${msg.error}`));
            return;
          }
          results[msg.id] = msg.result;
          opts.onResult?.(msg.result, msg.id);
          stop ||= opts.enough?.() === true;
          feed(w);
        });
        w.on('error', (error) => reject(new Error(`extract worker crashed: ${error.message}`, { cause: error })));
        feed(w);
      }
    });
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
  return results;
}
