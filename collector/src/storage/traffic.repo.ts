/** SQL of `traffic_samples` (partitioned by day on interval_start). */
import type { Queryable } from './db.js';

export interface TrafficFlow {
  srcNet: string;
  dstNet: string;
  packets: number;
  bytes: number;
}

/**
 * Stores an interval's flows of one part (a capture file's share of the minute; '' from agents that
 * send none); returns those that were new (a replayed message stores none). A (sensor, minute, pair)
 * total is the sum over its parts.
 */
export async function insertTraffic(
  q: Queryable,
  t: { sensorId: number; intervalStart: Date; intervalSeconds: number; part: string; seq: number; flows: TrafficFlow[] },
): Promise<TrafficFlow[]> {
  if (t.flows.length === 0) return [];
  return q.query<TrafficFlow>(
    `INSERT INTO traffic_samples (sensor_id, interval_start, interval_seconds, part, src_net, dst_net, packets, bytes, seq)
     SELECT $1, $2, $3, $6, f."srcNet", f."dstNet", f.packets, f.bytes, $4
       FROM jsonb_to_recordset($5::jsonb) AS f("srcNet" text, "dstNet" text, packets bigint, bytes bigint)
     ON CONFLICT DO NOTHING RETURNING src_net AS "srcNet", dst_net AS "dstNet", packets, bytes`,
    [t.sensorId, t.intervalStart, t.intervalSeconds, t.seq, JSON.stringify(t.flows), t.part],
  );
}
