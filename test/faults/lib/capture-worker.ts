/**
 * Worker thread of test/faults/captures.test.ts: runs info, index, extract, merge and analyze of
 * the PCAP library in-process on mutated captures, one case after another, and reports each
 * operation's outcome to the parent. Runs in a thread so the parent can stop a hang (no progress
 * report within the deadline) and bound memory (resourceLimits) without losing the case that did it.
 *
 * workerData: { dir, cases: { file, label }[], partner } — `partner` is a valid capture merged with each case.
 * Messages: { kind: 'start', i } before a case, { kind: 'done', i, results } after it.
 */
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { analyzeFiles, buildIndex, captureInfo, extract, isCaptureFormatError, mergeCaptures } from '@pcapmesh/shared/pcap';

export type Op = 'info' | 'index' | 'extract' | 'merge' | 'analyze';
export const OPS: readonly Op[] = ['info', 'index', 'extract', 'merge', 'analyze'];

export interface OpResult {
  op: Op;
  /** ok: a result; refused: a CaptureFormatError (the library's clear error); crash: any other throw. */
  outcome: 'ok' | 'refused' | 'crash';
  message?: string;
  ms: number;
}

export interface WorkerInput {
  dir: string;
  cases: { file: string; label: string }[];
  partner: string;
}

function classify(err: unknown): Pick<OpResult, 'outcome' | 'message'> {
  if (isCaptureFormatError(err)) return { outcome: 'refused', message: err.message };
  return { outcome: 'crash', message: err instanceof Error ? `${err.name}: ${err.message}\n${err.stack ?? ''}` : String(err) };
}

async function runOp(op: Op, file: string, out: string, partner: string): Promise<OpResult> {
  const started = performance.now();
  try {
    if (op === 'info') captureInfo(file);
    else if (op === 'index') buildIndex(file, { persist: false, blockBytes: 4096 });
    else if (op === 'extract') await extract({ inputs: [file], output: out, filter: 'tcp or udp port 53', useIndex: false, workers: 0 });
    else if (op === 'merge') mergeCaptures([file, partner], out, { dedup: true });
    else analyzeFiles([file]);
    return { op, outcome: 'ok', ms: performance.now() - started };
  } catch (err) {
    return { op, ...classify(err), ms: performance.now() - started };
  }
}

const input = workerData as WorkerInput;
const port = parentPort!;
for (const [i, c] of input.cases.entries()) {
  port.postMessage({ kind: 'start', i });
  const results: OpResult[] = [];
  for (const op of OPS) results.push(await runOp(op, c.file, join(input.dir, `out-${i % 4}.pcap`), input.partner));
  port.postMessage({ kind: 'done', i, results });
}
