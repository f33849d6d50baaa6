/** SQL of `sensor_status_history`: every status transition with its reason. */
import type { Queryable } from './db.js';

export interface StatusHistoryRow {
  sensor: string;
  from: string;
  to: string;
  reason: string;
  at: Date;
}

export async function insertTransition(q: Queryable, t: { sensorId: number; from: string; to: string; reason: string; at: Date }): Promise<void> {
  await q.query('INSERT INTO sensor_status_history (sensor_id, from_status, to_status, reason, at) VALUES ($1, $2, $3, $4, $5)', [
    t.sensorId,
    t.from,
    t.to,
    t.reason,
    t.at,
  ]);
}

/** Transitions across sensors (or of one sensor), newest first. */
export async function listTransitions(q: Queryable, opts: { since: Date | null; limit: number; sensorId?: number }): Promise<StatusHistoryRow[]> {
  return q.query<StatusHistoryRow>(
    `SELECT s.name AS sensor, h.from_status AS "from", h.to_status AS "to", h.reason, h.at
       FROM sensor_status_history h JOIN sensors s ON s.id = h.sensor_id
      WHERE ($1::timestamptz IS NULL OR h.at >= $1) AND ($3::bigint IS NULL OR h.sensor_id = $3)
      ORDER BY h.at DESC, h.id DESC LIMIT $2`,
    [opts.since, opts.limit, opts.sensorId ?? null],
  );
}

/** Many transitions in ONE multi-row INSERT (a batch's status changes). */
export async function insertTransitions(q: Queryable, ts: readonly { sensorId: number; from: string; to: string; reason: string; at: Date }[]): Promise<void> {
  if (ts.length === 0) return;
  await q.query(
    `INSERT INTO sensor_status_history (sensor_id, from_status, to_status, reason, at)
     SELECT * FROM unnest($1::int8[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])`,
    [ts.map((t) => t.sensorId), ts.map((t) => t.from), ts.map((t) => t.to), ts.map((t) => t.reason), ts.map((t) => t.at.toISOString())],
  );
}
