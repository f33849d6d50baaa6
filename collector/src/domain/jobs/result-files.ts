/**
 * The results directory's layout (docs/jobs.md "Results directory") and the file helpers the
 * upload, results and manifest code share:
 *
 *   {results.directory}/{job}/tasks/{task}.part      an upload in progress
 *   {results.directory}/{job}/tasks/{task}.pcap      a sensor's verified result
 *   {results.directory}/{job}/merged.pcap|pcapng     the merged capture (written as merged.tmp, renamed)
 *
 * Paths stored in the database are relative to the results directory. Job ids are UUIDs and task
 * ids match the task id pattern, so no id can leave the directory; `jobDir`/`taskFile` refuse others.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';

const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TASK_ID = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** Name of the merged file's temporary twin: never served, replaced on the next merge. */
export const MERGED_TEMP = 'merged.tmp';

function checkJob(jobId: string): void {
  if (!JOB_ID.test(jobId)) throw new Error(`not a job id: ${JSON.stringify(jobId)}`);
}

function checkTask(taskId: string): void {
  if (!TASK_ID.test(taskId) || taskId.includes('..')) throw new Error(`not a task id: ${JSON.stringify(taskId)}`);
}

/** `{job}`, relative. */
export function jobDir(jobId: string): string {
  checkJob(jobId);
  return jobId;
}

/** `{job}/tasks/{task}.part|.pcap`, relative. */
export function taskFile(jobId: string, taskId: string, kind: 'part' | 'pcap'): string {
  checkJob(jobId);
  checkTask(taskId);
  return join(jobId, 'tasks', `${taskId}.${kind}`);
}

/** `{job}/merged.{ext}` or the temporary name, relative. */
export function mergedFile(jobId: string, ext: 'pcap' | 'pcapng' | 'tmp'): string {
  checkJob(jobId);
  return join(jobId, ext === 'tmp' ? MERGED_TEMP : `merged.${ext}`);
}

/** SHA-256 (lowercase hex) and size of a file, streamed. */
export async function hashFile(path: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const chunk of createReadStream(path, { highWaterMark: 1024 * 1024 }) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    size += chunk.length;
  }
  return { sha256: hash.digest('hex'), size };
}

/** fsyncs a file's bytes (before it is renamed into place and recorded). */
export async function syncFile(path: string): Promise<void> {
  const fh = await open(path, 'r+');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** fsyncs a directory, so a file created or renamed in it survives a power loss. */
export async function syncDir(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

/** True for the errors of a full disk or an exhausted disk quota. */
export function isDiskFull(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}
