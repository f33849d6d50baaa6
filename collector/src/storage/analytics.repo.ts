/**
 * SQL of the analytics (domain/analytics): counter deltas from health samples, status transitions,
 * jobs and downloads per day, and bytes per location per bucket from the network view.
 *
 * Every read is bounded by a [from, to) window on the table's partition key, so only the window's
 * day partitions are read.
 */
import type { Queryable } from './db.js';

export interface CounterDeltaRow {
  sensorId: number;
  packets: number;
  drops: number;
}

/**
 * Per sensor, the packets and drops counted in [from, to): the sum over each capture process
 * (captures[].packets/drops) or each interface (interfaces[].rxPackets/rxDropped) of the increase
 * between consecutive samples. A counter that went down was reset (process or host restart): the
 * new value is what was counted since. The first sample of the window is the baseline.
 */
export async function counterDeltas(q: Queryable, kind: 'capture' | 'interface', from: Date, to: Date): Promise<CounterDeltaRow[]> {
  const [array, key, packets, drops] = kind === 'capture' ? ['captures', 'interface', 'packets', 'drops'] : ['interfaces', 'name', 'rxPackets', 'rxDropped'];
  return q.query<CounterDeltaRow>(
    `WITH c AS (
       SELECT h.sensor_id, e->>'${key}' AS unit, h.sampled_at, h.seq,
              (e->>'${packets}')::float8 AS packets, COALESCE((e->>'${drops}')::float8, 0) AS drops
         FROM health_samples h CROSS JOIN LATERAL jsonb_array_elements(h.${array}) AS e
        WHERE h.sampled_at >= $1 AND h.sampled_at < $2 AND e ? '${packets}'),
     d AS (
       SELECT sensor_id,
              CASE WHEN lag(packets) OVER w IS NULL THEN 0 WHEN packets >= lag(packets) OVER w THEN packets - lag(packets) OVER w ELSE packets END AS dp,
              CASE WHEN lag(drops) OVER w IS NULL THEN 0 WHEN drops >= lag(drops) OVER w THEN drops - lag(drops) OVER w ELSE drops END AS dd
         FROM c WINDOW w AS (PARTITION BY sensor_id, unit ORDER BY sampled_at, seq))
     SELECT sensor_id AS "sensorId", sum(dp)::int8 AS packets, sum(dd)::int8 AS drops FROM d GROUP BY sensor_id`,
    [from, to],
  );
}

export interface TransitionRow {
  sensorId: number;
  status: string;
  at: Date;
}

/** Each sensor's status at `from` (its last transition before it), and every transition in [from, to), in order. */
export async function statusTimeline(q: Queryable, from: Date, to: Date): Promise<{ before: TransitionRow[]; during: TransitionRow[] }> {
  const before = await q.query<TransitionRow>(
    `SELECT DISTINCT ON (sensor_id) sensor_id AS "sensorId", to_status AS status, at
       FROM sensor_status_history WHERE at < $1 ORDER BY sensor_id, at DESC, id DESC`,
    [from],
  );
  const during = await q.query<TransitionRow>(
    `SELECT sensor_id AS "sensorId", to_status AS status, at FROM sensor_status_history
      WHERE at >= $1 AND at < $2 ORDER BY sensor_id, at, id`,
    [from, to],
  );
  return { before, during };
}

export interface SensorRefRow {
  id: number;
  name: string;
  location: string | null;
  createdAt: Date;
}

export async function sensorRefs(q: Queryable): Promise<SensorRefRow[]> {
  return q.query<SensorRefRow>(
    `SELECT s.id, s.name, l.name AS location, s.created_at AS "createdAt" FROM sensors s LEFT JOIN locations l ON l.id = s.location_id ORDER BY s.name`,
  );
}

export interface JobDayRow {
  day: Date;
  status: string;
  jobs: number;
}

/** Jobs created in [from, to) per UTC day and status. */
export async function jobsPerDay(q: Queryable, from: Date, to: Date): Promise<JobDayRow[]> {
  return q.query<JobDayRow>(
    `SELECT date_trunc('day', created_at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day, status, count(*)::int AS jobs
       FROM jobs WHERE created_at >= $1 AND created_at < $2 GROUP BY 1, 2 ORDER BY 1, 2`,
    [from, to],
  );
}

export interface DownloadDayRow {
  day: Date;
  bytes: number;
  downloads: number;
}

/** Bytes of job results served in [from, to) per UTC day (job_downloads). */
export async function downloadsPerDay(q: Queryable, from: Date, to: Date): Promise<DownloadDayRow[]> {
  return q.query<DownloadDayRow>(
    `SELECT date_trunc('day', at AT TIME ZONE 'UTC') AT TIME ZONE 'UTC' AS day, sum(bytes)::int8 AS bytes, count(*)::int AS downloads
       FROM job_downloads WHERE at >= $1 AND at < $2 GROUP BY 1 ORDER BY 1`,
    [from, to],
  );
}

export interface TimeToResultRow {
  jobs: number;
  medianSeconds: number | null;
  p90Seconds: number | null;
}

/** Seconds from submission to the end of jobs created in [from, to) that ended with a result (complete or partial). */
export async function timeToResult(q: Queryable, from: Date, to: Date): Promise<TimeToResultRow> {
  const [row] = await q.query<TimeToResultRow>(
    `SELECT count(*)::int AS jobs,
            percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - created_at))::float8 AS "medianSeconds",
            percentile_cont(0.9) WITHIN GROUP (ORDER BY extract(epoch FROM finished_at - created_at))::float8 AS "p90Seconds"
       FROM jobs WHERE created_at >= $1 AND created_at < $2 AND status IN ('complete', 'partial') AND finished_at IS NOT NULL`,
    [from, to],
  );
  return row ?? { jobs: 0, medianSeconds: null, p90Seconds: null };
}

export interface LocationBucketRow {
  location: string;
  at: Date;
  packets: number;
  bytes: number;
}

/** Packets and bytes per location per bucket (aligned to the epoch) in [from, to), from the network view's minute totals. */
export async function bytesByLocation(q: Queryable, from: Date, to: Date, bucketSeconds: number, locationId: number | null): Promise<LocationBucketRow[]> {
  return q.query<LocationBucketRow>(
    `SELECT l.name AS location, to_timestamp(floor(extract(epoch FROM t.minute) / $3) * $3) AS at,
            sum(t.packets)::int8 AS packets, sum(t.bytes)::int8 AS bytes
       FROM network_traffic_minute t JOIN locations l ON l.id = t.location_id
      WHERE t.minute >= $1 AND t.minute < $2${locationId === null ? '' : ' AND t.location_id = $4'}
      GROUP BY 1, 2 ORDER BY 1, 2`,
    locationId === null ? [from, to, bucketSeconds] : [from, to, bucketSeconds, locationId],
  );
}
