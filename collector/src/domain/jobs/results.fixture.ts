/**
 * Test fixture for uploads and results: a job with one task per sensor inserted straight into the
 * tables of sql/0006_jobs.sql (the jobs service's own planning is not what these tests are about),
 * and helpers to cut a file into upload chunks.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { Queryable } from '../../storage/db.js';

export interface FixtureJob {
  jobId: string;
  tasks: { taskId: string; jobId: string; sensor: string }[];
}

/** Inserts a running job over [from, to) with a task per sensor (`{sensor}-{job8}` ids), tasks `uploading`. */
export async function insertJob(
  q: Queryable,
  opts: { sensors: string[]; owner?: string; name?: string | null; from?: Date; to?: Date; expression?: string },
): Promise<FixtureJob> {
  const jobId = randomUUID();
  const from = opts.from ?? new Date('2026-03-01T10:00:00Z');
  const to = opts.to ?? new Date('2026-03-01T10:05:00Z');
  const ns = (d: Date) => `${BigInt(d.getTime()) * 1_000_000n}`;
  await q.query(
    `INSERT INTO jobs (id, name, owner, status, window_from, window_to, window_ns, filter, filter_expression, targets, limits, deadline_at, started_at)
     VALUES ($1, $2, $3, 'running', $4, $5, $6::jsonb, $7::jsonb, $8, $9::jsonb, $10::jsonb, $11, now())`,
    [
      jobId,
      opts.name === undefined ? 'incident 42' : opts.name,
      opts.owner ?? 'analyst1',
      from,
      to,
      JSON.stringify({ from: ns(from), to: ns(to) }),
      JSON.stringify({ expression: opts.expression ?? 'tcp' }),
      opts.expression ?? 'tcp',
      JSON.stringify({ sensors: opts.sensors }),
      JSON.stringify({ maxBytes: 1 << 30, maxPackets: 1_000_000, timeoutSeconds: 3600 }),
      new Date(Date.now() + 3_600_000),
    ],
  );
  const tasks = opts.sensors.map((sensor) => ({ taskId: `${sensor}-${jobId.slice(0, 8)}`, jobId, sensor }));
  for (const t of tasks) {
    await q.query(`INSERT INTO job_tasks (id, job_id, sensor_name, status, dispatched_at) VALUES ($1, $2, $3, 'uploading', now())`, [
      t.taskId,
      jobId,
      t.sensor,
    ]);
  }
  return { jobId, tasks };
}

export const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

/** The chunks of `file` of `size` bytes each, from `offset`, with their ranges and hashes. */
export function chunksOf(file: Uint8Array, size: number, offset = 0): { start: number; end: number; bytes: Uint8Array; sha256: string }[] {
  const out = [];
  for (let start = offset; start < file.length; start += size) {
    const bytes = file.subarray(start, Math.min(file.length, start + size));
    out.push({ start, end: start + bytes.length - 1, bytes, sha256: sha256(bytes) });
  }
  return out;
}

/** A body stream of `bytes` in pieces of `piece` bytes (what a request body looks like to the service). */
export async function* streamOf(bytes: Uint8Array, piece = 4096): AsyncIterable<Uint8Array> {
  for (let i = 0; i < bytes.length; i += piece) yield bytes.subarray(i, i + piece);
}
