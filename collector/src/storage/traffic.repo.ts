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

/** One message's flows to store (a batch holds messages of different sensors). */
export interface TrafficSampleSet {
  sensorId: number;
  intervalStart: Date;
  intervalSeconds: number;
  part: string;
  seq: number;
  flows: readonly TrafficFlow[];
}

/** A stored flow and the message (index into the batch) it came from. */
export interface StoredFlow extends TrafficFlow {
  message: number;
}

/**
 * Stores the flows of many messages in one multi-row statement; returns those that were new, each
 * with the index of its message (a replayed message stores none). Messages of one batch must not
 * share (sensor, intervalStart, part) — the ingest queue per sensor guarantees it — else a stored
 * flow is credited to the first of them.
 */
export async function insertTrafficBatch(q: Queryable, sets: readonly TrafficSampleSet[]): Promise<StoredFlow[]> {
  const n = sets.reduce((k, s) => k + s.flows.length, 0);
  if (n === 0) return [];
  const cols = { sensor: new Array<number>(n), start: new Array<string>(n), seconds: new Array<number>(n), part: new Array<string>(n) };
  const src = new Array<string>(n);
  const dst = new Array<string>(n);
  const packets = new Array<number>(n);
  const bytes = new Array<number>(n);
  const seq = new Array<number>(n);
  const byKey = new Map<string, number>();
  let i = 0;
  sets.forEach((s, m) => {
    const start = s.intervalStart.toISOString();
    const key = `${s.sensorId}|${s.intervalStart.getTime()}|${s.part}`;
    if (!byKey.has(key)) byKey.set(key, m);
    for (const f of s.flows) {
      cols.sensor[i] = s.sensorId;
      cols.start[i] = start;
      cols.seconds[i] = s.intervalSeconds;
      cols.part[i] = s.part;
      src[i] = f.srcNet;
      dst[i] = f.dstNet;
      packets[i] = f.packets;
      bytes[i] = f.bytes;
      seq[i] = s.seq;
      i++;
    }
  });
  const rows = await q.query<TrafficFlow & { sensorId: number; intervalStart: Date; part: string }>(
    `INSERT INTO traffic_samples (sensor_id, interval_start, interval_seconds, part, src_net, dst_net, packets, bytes, seq)
     SELECT * FROM unnest($1::int8[], $2::timestamptz[], $3::int4[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::int8[], $9::int8[])
     ON CONFLICT DO NOTHING
     RETURNING sensor_id AS "sensorId", interval_start AS "intervalStart", part, src_net AS "srcNet", dst_net AS "dstNet", packets, bytes`,
    [cols.sensor, cols.start, cols.seconds, cols.part, src, dst, packets, bytes, seq],
  );
  return rows.map((r) => ({
    message: byKey.get(`${r.sensorId}|${new Date(r.intervalStart).getTime()}|${r.part}`)!,
    srcNet: r.srcNet,
    dstNet: r.dstNet,
    packets: r.packets,
    bytes: r.bytes,
  }));
}
