/**
 * Starts a worker thread on an ES module, whether the program runs compiled (dist/, or the
 * esbuild bundle) or from its TypeScript sources through tsx.
 *
 * The caller computes the URL of the compiled module beside itself,
 * `new URL('./x-worker.js', import.meta.url)`, so bundlers that keep that expression (the
 * `pcapmesh-pcap` bundle puts each worker entry beside its chunks) still find it. When that `.js`
 * file does not exist but its `.ts` twin does, the caller runs from source: the thread then starts
 * with a bootstrap that registers tsx in it first (loader hooks registered by `--import tsx` do not
 * reach worker threads on Node 20). Other options (workerData, resourceLimits…) pass through.
 *
 * @example
 * const worker = startModuleWorker(new URL('./extract-worker.js', import.meta.url));
 * worker.postMessage(task);
 * @throws Error naming both paths when neither the module nor its `.ts` source exists.
 */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Worker, type WorkerOptions } from 'node:worker_threads';

export function startModuleWorker(url: URL, options: Omit<WorkerOptions, 'eval'> = {}): Worker {
  if (url.protocol !== 'file:') throw new Error(`worker module must be a file: URL, got ${url.href}`);
  if (existsSync(url)) return new Worker(url, options);
  const source = new URL(url.href.replace(/\.js$/, '.ts'));
  if (source.href === url.href || !existsSync(source)) {
    throw new Error(`worker module not found: ${fileURLToPath(url)} (nor its TypeScript source)`);
  }
  const tsx = import.meta.resolve('tsx/esm/api');
  const boot = `import(${JSON.stringify(tsx)}).then((api) => { api.register(); return import(${JSON.stringify(source.href)}); })`;
  return new Worker(boot, { ...options, eval: true });
}
