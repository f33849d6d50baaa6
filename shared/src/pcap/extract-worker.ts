/**
 * Worker-thread entry of extract: receives ScanTasks, answers ScanResults (see extract-scan.ts).
 * Message in: { id, task }; out: { id, result } or { id, error }.
 */
import { parentPort } from 'node:worker_threads';
import { scanFile, type ScanTask } from './extract-scan.js';

if (!parentPort) throw new Error('extract-worker.ts must run in a worker thread');
const port = parentPort;

port.on('message', (msg: { id: number; task: ScanTask }) => {
  try {
    port.postMessage({ id: msg.id, result: scanFile(msg.task) });
  } catch (error) {
    port.postMessage({ id: msg.id, error: `${msg.task.path}: ${(error as Error).message}` });
  }
});
