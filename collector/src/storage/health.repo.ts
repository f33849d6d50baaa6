/** SQL of `health_samples` (partitioned by day on sampled_at). */
import type { Queryable } from './db.js';
import type { CaptureProcess, Disk, InterfaceCounters } from './wire-types.js';

export interface HealthSampleInput {
  sensorId: number;
  sampledAt: Date;
  seq: number;
  cpuUsage: number;
  cpuCores: number;
  memoryTotal: number;
  memoryUsed: number;
  memoryAvailable: number;
  load: [number, number, number];
  uptimeSeconds: number;
  diskUsedPercent: number | null;
  disks: Disk[];
  interfaces: InterfaceCounters[];
  captures: CaptureProcess[];
  clockOffsetMs: number | null;
  spoolDropped: number | null;
}

/** Stores a sample; false when (sensor, sampled_at, seq) is already stored (a replay). */
export async function insertHealthSample(q: Queryable, s: HealthSampleInput): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO health_samples (sensor_id, sampled_at, seq, cpu_usage, cpu_cores, memory_total, memory_used, memory_available,
                                 load1, load5, load15, uptime_seconds, disk_used_percent, disks, interfaces, captures,
                                 clock_offset_ms, spool_dropped)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14::jsonb, $15::jsonb, $16::jsonb, $17, $18)
     ON CONFLICT DO NOTHING RETURNING 1`,
    [
      s.sensorId,
      s.sampledAt,
      s.seq,
      s.cpuUsage,
      s.cpuCores,
      s.memoryTotal,
      s.memoryUsed,
      s.memoryAvailable,
      s.load[0],
      s.load[1],
      s.load[2],
      s.uptimeSeconds,
      s.diskUsedPercent,
      JSON.stringify(s.disks),
      JSON.stringify(s.interfaces),
      JSON.stringify(s.captures),
      s.clockOffsetMs,
      s.spoolDropped,
    ],
  );
  return rows.length === 1;
}

export interface HealthBucketRow {
  at: Date;
  cpu: number;
  memoryUsed: number;
  memoryTotal: number;
  load1: number;
  diskUsedPercent: number | null;
  samples: number;
}

/**
 * Samples of one sensor in [from, to), averaged per bucket of `bucketSeconds` (the disk column
 * takes the bucket's maximum); `at` is the mean time of the bucket's samples, so a bucket of one
 * sample keeps its exact time.
 */
export async function healthBuckets(q: Queryable, sensorId: number, from: Date, to: Date, bucketSeconds: number): Promise<HealthBucketRow[]> {
  return q.query<HealthBucketRow>(
    `SELECT to_timestamp(avg(extract(epoch FROM sampled_at))::float8) AS at,
            avg(cpu_usage)::float8 AS cpu, round(avg(memory_used))::int8 AS "memoryUsed",
            round(avg(memory_total))::int8 AS "memoryTotal", avg(load1)::float8 AS load1,
            max(disk_used_percent)::float8 AS "diskUsedPercent", count(*)::int AS samples
       FROM health_samples
      WHERE sensor_id = $1 AND sampled_at >= $2 AND sampled_at < $3
      GROUP BY floor(extract(epoch FROM sampled_at) / $4::float8)
      ORDER BY 1`,
    [sensorId, from, to, bucketSeconds],
  );
}

export interface LatestHealthRow {
  sensorId: number;
  at: Date;
  cpu: number;
  memoryUsed: number;
  memoryTotal: number;
  load1: number;
}

/**
 * The newest sample (by sampled_at, then seq) of each of `sensorIds`, in one query: a lateral
 * LIMIT 1 per sensor walks the (sensor_id, sampled_at, seq) primary key of each day partition
 * backwards, so it reads one index entry per partition, not a sensor's whole history. Sensors
 * without a sample are absent from the result.
 */
export async function latestHealthSamples(q: Queryable, sensorIds: readonly number[]): Promise<LatestHealthRow[]> {
  if (sensorIds.length === 0) return [];
  // real columns come back as their shortest float4 text ('33.3'), not widened to float8 (33.29999923…).
  return q.query<LatestHealthRow>(
    `SELECT ids.id AS "sensorId", h.sampled_at AS at, h.cpu_usage AS cpu, h.memory_used AS "memoryUsed",
            h.memory_total AS "memoryTotal", h.load1
       FROM unnest($1::bigint[]) AS ids(id)
       CROSS JOIN LATERAL (
         SELECT sampled_at, cpu_usage, memory_used, memory_total, load1
           FROM health_samples
          WHERE sensor_id = ids.id
          ORDER BY sampled_at DESC, seq DESC
          LIMIT 1
       ) h`,
    [sensorIds],
  );
}

/**
 * Stores many samples in ONE multi-row statement; returns, per input (same order), whether it was
 * stored now — false for a sample already stored (a replay) and for a repeat of an earlier input
 * of the same call (same sensor, sampled_at and seq).
 */
export async function insertHealthSamples(q: Queryable, samples: readonly HealthSampleInput[]): Promise<boolean[]> {
  if (samples.length === 0) return [];
  const key = (sensorId: number, at: number, seq: number) => `${sensorId}|${at}|${seq}`;
  const rows = samples.map((s) => ({
    sensor_id: s.sensorId,
    sampled_at: s.sampledAt.toISOString(),
    seq: s.seq,
    cpu_usage: s.cpuUsage,
    cpu_cores: s.cpuCores,
    memory_total: s.memoryTotal,
    memory_used: s.memoryUsed,
    memory_available: s.memoryAvailable,
    load1: s.load[0],
    load5: s.load[1],
    load15: s.load[2],
    uptime_seconds: s.uptimeSeconds,
    disk_used_percent: s.diskUsedPercent,
    disks: s.disks,
    interfaces: s.interfaces,
    captures: s.captures,
    clock_offset_ms: s.clockOffsetMs,
    spool_dropped: s.spoolDropped,
  }));
  const stored = await q.query<{ sensorId: number; sampledAt: Date; seq: number }>(
    `INSERT INTO health_samples (sensor_id, sampled_at, seq, cpu_usage, cpu_cores, memory_total, memory_used, memory_available,
                                 load1, load5, load15, uptime_seconds, disk_used_percent, disks, interfaces, captures,
                                 clock_offset_ms, spool_dropped)
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS h(sensor_id int8, sampled_at timestamptz, seq int8, cpu_usage real, cpu_cores int4,
            memory_total int8, memory_used int8, memory_available int8, load1 real, load5 real, load15 real, uptime_seconds float8,
            disk_used_percent real, disks jsonb, interfaces jsonb, captures jsonb, clock_offset_ms float8, spool_dropped int8)
     ON CONFLICT DO NOTHING
     RETURNING sensor_id AS "sensorId", sampled_at AS "sampledAt", seq`,
    [JSON.stringify(rows)],
  );
  const fresh = new Set(stored.map((r) => key(r.sensorId, new Date(r.sampledAt).getTime(), r.seq)));
  return samples.map((s) => fresh.delete(key(s.sensorId, s.sampledAt.getTime(), s.seq)));
}
