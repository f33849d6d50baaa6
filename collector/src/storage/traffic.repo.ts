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
 * Stores the flows of many messages in one multi-row statement; returns, per message (same order),
 * the flows that were new — a replayed message stores none. Messages of one batch must not share
 * (sensor, intervalStart, part) — the ingest queue per sensor guarantees it — else the later ones
 * count as replays. The statement returns only a count per message: when all of a message's flows
 * are new (the usual case) they are the message's own flows; a message stored in part before
 * (another flow set under the same sensor, interval and part) has its new rows read back — those
 * with received_at = now(), the transaction's start, which no earlier transaction had.
 */
export async function insertTrafficBatch(q: Queryable, sets: readonly TrafficSampleSet[]): Promise<TrafficFlow[][]> {
  const n = sets.reduce((k, s) => k + s.flows.length, 0);
  const fresh: TrafficFlow[][] = sets.map(() => []);
  if (n === 0) return fresh;
  const sensor = new Array<number>(n);
  const start = new Array<string>(n);
  const seconds = new Array<number>(n);
  const part = new Array<string>(n);
  const src = new Array<string>(n);
  const dst = new Array<string>(n);
  const packets = new Array<number>(n);
  const bytes = new Array<number>(n);
  const seq = new Array<number>(n);
  const byKey = new Map<string, number>();
  let i = 0;
  sets.forEach((s, m) => {
    const iso = s.intervalStart.toISOString();
    const key = `${s.sensorId}|${s.intervalStart.getTime()}|${s.part}`;
    if (!byKey.has(key)) byKey.set(key, m);
    for (const f of s.flows) {
      sensor[i] = s.sensorId;
      start[i] = iso;
      seconds[i] = s.intervalSeconds;
      part[i] = s.part;
      src[i] = f.srcNet;
      dst[i] = f.dstNet;
      packets[i] = f.packets;
      bytes[i] = f.bytes;
      seq[i] = s.seq;
      i++;
    }
  });
  const counts = await q.query<{ sensorId: number; intervalStart: Date; part: string; n: number }>(
    `WITH ins AS (
       INSERT INTO traffic_samples (sensor_id, interval_start, interval_seconds, part, src_net, dst_net, packets, bytes, seq)
       SELECT * FROM unnest($1::int8[], $2::timestamptz[], $3::int4[], $4::text[], $5::text[], $6::text[], $7::int8[], $8::int8[], $9::int8[])
       ON CONFLICT DO NOTHING
       RETURNING sensor_id, interval_start, part)
     SELECT sensor_id AS "sensorId", interval_start AS "intervalStart", part, count(*)::int AS n FROM ins GROUP BY 1, 2, 3`,
    [sensor, start, seconds, part, src, dst, packets, bytes, seq],
  );
  for (const c of counts) {
    const m = byKey.get(`${c.sensorId}|${new Date(c.intervalStart).getTime()}|${c.part}`)!;
    const set = sets[m]!;
    if (c.n === set.flows.length) {
      fresh[m] = [...set.flows];
      continue;
    }
    fresh[m] = await q.query<TrafficFlow>(
      `SELECT src_net AS "srcNet", dst_net AS "dstNet", packets, bytes FROM traffic_samples
        WHERE sensor_id = $1 AND interval_start = $2 AND part = $3 AND received_at = now()`,
      [set.sensorId, set.intervalStart, set.part],
    );
  }
  return fresh;
}
