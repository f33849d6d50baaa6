/**
 * Worker-thread entry of an estimate (estimate.ts): `workerData` is an EstimateInput; posts one
 * EstimateAnswer (an error in it, never a throw) and ends.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { estimateFiles, type EstimateAnswer, type EstimateInput } from './estimate.js';

if (parentPort) {
  let answer: EstimateAnswer;
  try {
    answer = estimateFiles(workerData as EstimateInput);
  } catch (err) {
    answer = { files: 0, bytesInWindow: 0, indexedFiles: 0, matchUpperBound: null, bytesToRead: 0, error: `estimate failed: ${(err as Error).message}` };
  }
  parentPort.postMessage(answer);
}
