/**
 * SQL of `network_traffic` (sql/0010_network.sql, part since 0018): packets and bytes per minute per
 * (location, sensor, part, source subnet, destination subnet), stored once by ingest
 * (insertNewRows), LIST-partitioned by location into `network_traffic_l{id}`, each
 * RANGE-partitioned by day on `minute` by the partition manager. Subnets are int4 ids of
 * `network_nets` (sql/0020) in network_traffic and network_pairs_hour; callers hand in and get back
 * subnet texts, the ids are resolved here (netIds).
 *
 * Every read here filters on `location_id` (when one location is asked for) and on a `minute`
 * range, so PostgreSQL prunes to the asked location's tables and the asked days' partitions
 * (network-traffic.repo.test.ts shows it with EXPLAIN).
 */
import type { Queryable } from './db.js';
import { netIdOf, netIds, netsOf, type NetIds } from './network-nets.repo.js';
import type { PartitionedTable } from './partitions.js';

/** One aggregated row to add: subnets in canonical form (or `other`). */
export interface NetworkFlow {
  src: string;
  dst: string;
  packets: number;
  bytes: number;
}

/** Name of a location's traffic table (its LIST partition of network_traffic). */
export function locationTrafficTable(locationId: number): string {
  if (!Number.isSafeInteger(locationId) || locationId <= 0) throw new Error(`bad location id ${locationId}`);
  return `network_traffic_l${locationId}`;
}

/**
 * Creates the location's traffic table (day-partitioned, with a DEFAULT day partition) unless it
 * exists; true when this call created it. Safe from several transactions and collectors: they take
 * turns on a lock of the parent table (SHARE UPDATE EXCLUSIVE: one creator at a time, inserts go
 * on) and look again. It must be a table lock, not an advisory one: taking a relation lock makes
 * PostgreSQL read the catalog changes other transactions committed meanwhile, so the second look
 * sees the table a concurrent creator made (after an advisory lock it still saw "missing", and its
 * CREATE failed with "already exists").
 * DDL: call it in the transaction that then inserts, once per location (callers remember).
 */
export async function ensureLocationTrafficTable(q: Queryable, locationId: number): Promise<boolean> {
  const table = locationTrafficTable(locationId);
  if (await tableExists(q, table)) return false;
  await q.query('LOCK TABLE network_traffic IN SHARE UPDATE EXCLUSIVE MODE');
  if (await tableExists(q, table)) return false;
  await q.query(`CREATE TABLE ${table} PARTITION OF network_traffic FOR VALUES IN (${locationId}) PARTITION BY RANGE (minute)`);
  await q.query(`CREATE TABLE ${table}_default PARTITION OF ${table} DEFAULT`);
  return true;
}

async function tableExists(q: Queryable, table: string): Promise<boolean> {
  const [row] = await q.query<{ ok: boolean }>('SELECT to_regclass($1) IS NOT NULL AS ok', [table]);
  return row?.ok === true;
}

/**
 * The network view's time-series tables as the partition manager's tables (daily partitions, kept
 * `retentionDays`): the per-location traffic tables and the two rollups. app.ts registers them at
 * every maintenance run, and ingest runs the manager on a location's table when it creates it.
 */
export async function networkPartitionedTables(q: Queryable, retentionDays: number): Promise<PartitionedTable[]> {
  const rows = await q.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'network_traffic'::regclass ORDER BY 1`,
  );
  return [
    ...rows.map((r) => ({ table: r.name, column: 'minute', retentionDays })),
    { table: 'network_traffic_minute', column: 'minute', retentionDays },
    { table: 'network_pairs_hour', column: 'hour', retentionDays },
  ];
}

export { netIds, netsOf, type NetIds } from './network-nets.repo.js';

/** One folded base row: a sensor's packets and bytes of one pair in one minute (one part of it) at its location. */
export interface TrafficRow {
  locationId: number;
  minute: Date;
  sensorId: number;
  /** The capture file's share of the minute (docs/mqtt.md "Traffic"); '' from senders without parts. */
  part: string;
  src: string;
  dst: string;
  packets: number;
  bytes: number;
}

/** One (location, minute) total (network_traffic_minute). */
export interface MinuteTotalRow {
  locationId: number;
  minute: Date;
  packets: number;
  bytes: number;
}

/** One (location, hour, pair) sum over sensors (network_pairs_hour). */
export interface HourPairRow {
  locationId: number;
  hour: Date;
  src: string;
  dst: string;
  packets: number;
  bytes: number;
}

/** The rows one ingest transaction adds: the base rows and the rollups' share of the same flows. */
export interface TrafficAdd {
  rows: readonly TrafficRow[];
  minutes: readonly MinuteTotalRow[];
  hours: readonly HourPairRow[];
}

const ADD = (table: string, key: string) =>
  `ON CONFLICT (${key}) DO UPDATE SET packets = ${table}.packets + EXCLUDED.packets, bytes = ${table}.bytes + EXCLUDED.bytes`;

/**
 * Adds traffic to the base rows and to both rollups, three multi-row upserts (a row that exists
 * gets the packets and bytes added). Contract: each list holds each key at most once (folded:
 * storage/traffic-fold.ts), `minutes` and `hours` are the sums of `rows` by their keys;
 * `minutes` and `hours` in key order (rows other batches also write: one lock order, no deadlock cycle).
 * No replay check: ingest uses insertNewRows + addRollups instead; this is the loader of tests and benches.
 * Every location's table must exist (ensureLocationTrafficTable).
 */
export async function addNetworkTraffic(q: Queryable, add: TrafficAdd): Promise<void> {
  const { rows } = add;
  const ids = await netIds(q, netsOf(add));
  if (rows.length > 0) {
    await q.query(
      `INSERT INTO network_traffic (location_id, minute, sensor_id, part, src_id, dst_id, packets, bytes)
       SELECT * FROM unnest($1::int8[], $2::timestamptz[], $3::int8[], $4::text[], $5::int4[], $6::int4[], $7::int8[], $8::int8[])
       ${ADD('network_traffic', 'location_id, minute, sensor_id, part, src_id, dst_id')}`,
      rowArrays(rows, ids),
    );
  }
  await addRollups(q, add, ids);
}

function rowArrays(rows: readonly TrafficRow[], ids: NetIds): unknown[] {
  const n = rows.length;
  const loc = new Array<number>(n);
  const minute = new Array<string>(n);
  const sensor = new Array<number>(n);
  const part = new Array<string>(n);
  const src = new Array<number>(n);
  const dst = new Array<number>(n);
  const packets = new Array<number>(n);
  const bytes = new Array<number>(n);
  const iso = new Map<number, string>();
  for (let i = 0; i < n; i++) {
    const r = rows[i]!;
    const t = r.minute.getTime();
    let m = iso.get(t);
    if (m === undefined) iso.set(t, (m = r.minute.toISOString()));
    loc[i] = r.locationId;
    minute[i] = m;
    sensor[i] = r.sensorId;
    part[i] = r.part;
    src[i] = netIdOf(ids, r.src);
    dst[i] = netIdOf(ids, r.dst);
    packets[i] = r.packets;
    bytes[i] = r.bytes;
  }
  return [loc, minute, sensor, part, src, dst, packets, bytes];
}

/** How many rows of one (sensor, minute, part) an insertNewRows call stored. */
export interface StoredCount {
  sensorId: number;
  minute: Date;
  part: string;
  n: number;
}

/** The (location, minute, sensor, part) of base rows: a message's share of the base table. */
export interface RowKey {
  locationId: number;
  minute: Date;
  sensorId: number;
  part: string;
}

/**
 * Which of `keys` already have base rows (indexes into `keys`): one index probe each, on the
 * primary key's prefix. Rows of a key with none can go in with insertRows (no conflict check).
 */
export async function storedKeys(q: Queryable, keys: readonly RowKey[]): Promise<Set<number>> {
  if (keys.length === 0) return new Set();
  const rows = await q.query<{ i: number }>(
    `SELECT (k.i - 1)::int AS i
       FROM unnest($1::int8[], $2::timestamptz[], $3::int8[], $4::text[]) WITH ORDINALITY AS k(loc, minute, sensor, part, i)
      WHERE EXISTS (SELECT 1 FROM network_traffic t
                     WHERE t.location_id = k.loc AND t.minute = k.minute AND t.sensor_id = k.sensor AND t.part = k.part)`,
    [keys.map((k) => k.locationId), keys.map((k) => k.minute.toISOString()), keys.map((k) => k.sensorId), keys.map((k) => k.part)],
  );
  return new Set(rows.map((r) => r.i));
}

/**
 * Inserts base rows with no conflict check, one statement: for rows whose (location, minute,
 * sensor, part) had no rows when storedKeys looked (a plain INSERT costs about half the backend
 * CPU of ON CONFLICT … RETURNING). Should another transaction store one of the same rows meanwhile
 * (a replay racing its original), the statement fails with a unique violation and so does the
 * batch: nothing is counted twice, and the resend finds the rows stored. Contract: each key at
 * most once; `ids` holds every subnet of the rows (netIds); every location's table exists.
 */
export async function insertRows(q: Queryable, rows: readonly TrafficRow[], ids: NetIds): Promise<void> {
  if (rows.length === 0) return;
  await q.query(
    `INSERT INTO network_traffic (location_id, minute, sensor_id, part, src_id, dst_id, packets, bytes)
     SELECT * FROM unnest($1::int8[], $2::timestamptz[], $3::int8[], $4::text[], $5::int4[], $6::int4[], $7::int8[], $8::int8[])`,
    rowArrays(rows, ids),
  );
}

/**
 * Inserts base rows that are not stored yet (ON CONFLICT DO NOTHING: a replayed row adds nothing),
 * one statement; returns how many were stored per (sensor, minute, part). Contract: `rows` holds
 * each key at most once (a repeated key in one statement would count as its own replay); `ids`
 * holds every subnet of the rows (netIds). Every location's table must exist (ensureLocationTrafficTable).
 */
export async function insertNewRows(q: Queryable, rows: readonly TrafficRow[], ids: NetIds): Promise<StoredCount[]> {
  if (rows.length === 0) return [];
  return q.query<StoredCount>(
    `WITH ins AS (
       INSERT INTO network_traffic (location_id, minute, sensor_id, part, src_id, dst_id, packets, bytes)
       SELECT * FROM unnest($1::int8[], $2::timestamptz[], $3::int8[], $4::text[], $5::int4[], $6::int4[], $7::int8[], $8::int8[])
       ON CONFLICT DO NOTHING
       RETURNING sensor_id, minute, part)
     SELECT sensor_id AS "sensorId", minute, part, count(*)::int AS n FROM ins GROUP BY 1, 2, 3`,
    rowArrays(rows, ids),
  );
}

/**
 * The rows of one (location, minute, sensor, part) that this transaction inserted (xmin = its own
 * id): after insertNewRows stored only some of a message's rows (the rest were there before), these
 * are its new ones. Call it at the same (sub)transaction level as insertNewRows: rows inserted under
 * a savepoint carry the subtransaction's id.
 */
export async function rowsInsertedNow(
  q: Queryable,
  key: { locationId: number; minute: Date; sensorId: number; part: string },
): Promise<{ src: string; dst: string; packets: number; bytes: number }[]> {
  return q.query(
    `SELECT s.net AS src, d.net AS dst, t.packets, t.bytes FROM network_traffic t
       JOIN network_nets s ON s.id = t.src_id JOIN network_nets d ON d.id = t.dst_id
      WHERE t.location_id = $1 AND t.minute = $2 AND t.sensor_id = $3 AND t.part = $4 AND t.xmin = pg_current_xact_id()::xid`,
    [key.locationId, key.minute, key.sensorId, key.part],
  );
}

/**
 * Adds to both rollups (minute totals, hourly pairs), two multi-row upserts. Contract: each key at
 * most once, in key order (folded: storage/traffic-fold.ts), the sums of base rows stored in the
 * same transaction; `ids` holds every subnet of `hours` (netIds).
 */
export async function addRollups(q: Queryable, add: Pick<TrafficAdd, 'minutes' | 'hours'>, ids: NetIds): Promise<void> {
  const { minutes, hours } = add;
  if (minutes.length > 0) {
    await q.query(
      `INSERT INTO network_traffic_minute (location_id, minute, packets, bytes)
       SELECT * FROM unnest($1::int8[], $2::timestamptz[], $3::int8[], $4::int8[])
       ${ADD('network_traffic_minute', 'location_id, minute')}`,
      [minutes.map((r) => r.locationId), minutes.map((r) => r.minute.toISOString()), minutes.map((r) => r.packets), minutes.map((r) => r.bytes)],
    );
  }
  if (hours.length > 0) {
    await q.query(
      `INSERT INTO network_pairs_hour (location_id, hour, src_id, dst_id, packets, bytes)
       SELECT * FROM unnest($1::int8[], $2::timestamptz[], $3::int4[], $4::int4[], $5::int8[], $6::int8[])
       ${ADD('network_pairs_hour', 'location_id, hour, src_id, dst_id')}`,
      [
        hours.map((r) => r.locationId),
        hours.map((r) => r.hour.toISOString()),
        hours.map((r) => netIdOf(ids, r.src)),
        hours.map((r) => netIdOf(ids, r.dst)),
        hours.map((r) => r.packets),
        hours.map((r) => r.bytes),
      ],
    );
  }
}

export interface TrafficFilter {
  from: Date;
  to: Date;
  /** One location, or every location when null. */
  locationId: number | null;
  /** Canonical CIDR: rows whose source or destination overlaps it (contains it or lies in it). */
  subnet: string | null;
}

/** Parameters of a statement being built: `add(v)` appends v and returns its placeholder. */
class Params {
  readonly values: unknown[] = [];
  add(v: unknown): string {
    this.values.push(v);
    return `$${this.values.length}`;
  }
}

/** WHERE clause over alias t: `column` in [from, to), the location and the subnet filter. */
function whereOf(p: Params, column: string, from: Date, to: Date, f: Pick<TrafficFilter, 'locationId' | 'subnet'>): string {
  const parts = [`t.${column} >= ${p.add(from)} AND t.${column} < ${p.add(to)}`];
  if (f.locationId !== null) parts.push(`t.location_id = ${p.add(f.locationId)}`);
  if (f.subnet !== null) {
    const c = `${p.add(f.subnet)}::cidr`;
    // 'other' is no CIDR: CASE keeps the cast away from it.
    const overlapping = `SELECT n.id FROM network_nets n WHERE CASE WHEN n.net <> 'other' THEN n.net::cidr && ${c} ELSE false END`;
    parts.push(`(t.src_id IN (${overlapping}) OR t.dst_id IN (${overlapping}))`);
  }
  return parts.join(' AND ');
}

const HOUR_MS = 3_600_000;

/**
 * A row source `(location_id, at, src_id, dst_id, packets, bytes)` equal, row sums for row sums,
 * to network_traffic over the filter: whole hours of the window from network_pairs_hour (`at` = the
 * hour), the minutes before the first and after the last whole hour from network_traffic (`at` =
 * the minute). A window without a whole hour reads network_traffic only.
 */
function pairSource(p: Params, f: TrafficFilter): string {
  const firstHour = Math.ceil(f.from.getTime() / HOUR_MS) * HOUR_MS;
  const endHour = Math.floor(f.to.getTime() / HOUR_MS) * HOUR_MS;
  const base = (from: Date, to: Date) =>
    `SELECT t.location_id, t.minute AS at, t.src_id, t.dst_id, t.packets, t.bytes FROM network_traffic t WHERE ${whereOf(p, 'minute', from, to, f)}`;
  if (firstHour >= endHour) return base(f.from, f.to);
  const parts = [
    `SELECT t.location_id, t.hour AS at, t.src_id, t.dst_id, t.packets, t.bytes FROM network_pairs_hour t WHERE ${whereOf(p, 'hour', new Date(firstHour), new Date(endHour), f)}`,
  ];
  if (f.from.getTime() < firstHour) parts.push(base(f.from, new Date(firstHour)));
  if (endHour < f.to.getTime()) parts.push(base(new Date(endHour), f.to));
  return parts.join('\n UNION ALL\n');
}

/** Which table a series reads: the minute totals, the hourly pairs (with the edges' minutes), or the base rows. */
export type SeriesSource = 'minute' | 'hour' | 'base';

/**
 * The table that answers a series exactly with the fewest rows: without a subnet filter the minute
 * totals (every bucket is whole minutes); with one, the hourly pairs when the bucket is whole
 * hours (an hour row falls into one bucket; epoch-aligned buckets of whole hours), else the base rows.
 */
export function seriesSource(f: TrafficFilter, bucketSeconds: number): SeriesSource {
  if (f.subnet === null) return 'minute';
  return bucketSeconds % 3600 === 0 ? 'hour' : 'base';
}

/** The series query (exported for the pruning tests' EXPLAIN); `source` defaults to seriesSource(). */
export function trafficSeriesSql(f: TrafficFilter, bucketSeconds: number, source = seriesSource(f, bucketSeconds)): { sql: string; params: unknown[] } {
  if (source === 'hour' && bucketSeconds % 3600 !== 0)
    throw new Error(`series from the hourly pairs: a bucket of ${bucketSeconds} s is no whole number of hours`);
  const p = new Params();
  const bucket = p.add(bucketSeconds);
  const from =
    source === 'minute'
      ? `network_traffic_minute t WHERE ${whereOf(p, 'minute', f.from, f.to, f)}`
      : source === 'base'
        ? `network_traffic t WHERE ${whereOf(p, 'minute', f.from, f.to, f)}`
        : `(${pairSource(p, f)}) t`;
  const at = source === 'hour' ? 't.at' : 't.minute';
  return {
    sql: `SELECT to_timestamp(floor(extract(epoch FROM ${at}) / ${bucket}) * ${bucket}) AS at,
                 sum(t.packets)::int8 AS packets, sum(t.bytes)::int8 AS bytes
            FROM ${from}
           GROUP BY 1 ORDER BY 1`,
    params: p.values,
  };
}

export interface TrafficPoint {
  at: Date;
  packets: number;
  bytes: number;
}

/** Packets and bytes per bucket (buckets aligned to the epoch; empty buckets absent). */
export async function trafficSeries(q: Queryable, f: TrafficFilter, bucketSeconds: number, source?: SeriesSource): Promise<TrafficPoint[]> {
  const { sql, params } = trafficSeriesSql(f, bucketSeconds, source);
  return q.query<TrafficPoint>(sql, params);
}

export interface PairRow {
  src: string;
  dst: string;
  srcLocation: string | null;
  dstLocation: string | null;
  packets: number;
  bytes: number;
}

/** Map columns: a subnet's effective location (a pin, else a learned location). */
const EFFECTIVE = `COALESCE(ns.pinned_location_id, CASE WHEN ns.state = 'learned' THEN ns.location_id END)`;

/** The `limit` subnet pairs with the most bytes, with each subnet's location from the map (hourly rollup plus the edges' minutes). */
export async function topPairs(q: Queryable, f: TrafficFilter, limit: number): Promise<PairRow[]> {
  const p = new Params();
  const lim = p.add(limit);
  return q.query<PairRow>(
    `WITH sums AS (
       SELECT t.src_id, t.dst_id, sum(t.packets)::int8 AS packets, sum(t.bytes)::int8 AS bytes
         FROM (${pairSource(p, f)}) t
        GROUP BY 1, 2),
     top AS (
       SELECT sn.net AS src_net, dn.net AS dst_net, sums.packets, sums.bytes
         FROM sums JOIN network_nets sn ON sn.id = sums.src_id JOIN network_nets dn ON dn.id = sums.dst_id
        ORDER BY sums.bytes DESC, 1, 2 LIMIT ${lim})
     SELECT top.src_net AS src, top.dst_net AS dst, sl.name AS "srcLocation", dl.name AS "dstLocation", top.packets, top.bytes
       FROM top
       LEFT JOIN network_subnets s ON s.subnet = top.src_net
       LEFT JOIN locations sl ON sl.id = COALESCE(s.pinned_location_id, CASE WHEN s.state = 'learned' THEN s.location_id END)
       LEFT JOIN network_subnets d ON d.subnet = top.dst_net
       LEFT JOIN locations dl ON dl.id = COALESCE(d.pinned_location_id, CASE WHEN d.state = 'learned' THEN d.location_id END)
      ORDER BY top.bytes DESC, 1, 2`,
    p.values,
  );
}

export interface LocationTotalsRow {
  locationId: number;
  packets: number;
  bytes: number;
}

/** Packets and bytes each location's sensors reported in [from, to) (the minute totals). */
export async function locationTotals(q: Queryable, from: Date, to: Date): Promise<LocationTotalsRow[]> {
  return q.query<LocationTotalsRow>(
    `SELECT t.location_id AS "locationId", sum(t.packets)::int8 AS packets, sum(t.bytes)::int8 AS bytes
       FROM network_traffic_minute t WHERE t.minute >= $1 AND t.minute < $2 GROUP BY 1`,
    [from, to],
  );
}

export interface FlowRow {
  from: string;
  to: string;
  packets: number;
  bytes: number;
}

/**
 * Traffic between locations in [from, to): rows whose source and destination subnets map to two
 * different locations, counted as the source's location reported them (a flow both sites see
 * counts once). Reads the hourly pairs (plus the edges' minutes).
 */
export async function interLocationFlows(q: Queryable, from: Date, to: Date): Promise<FlowRow[]> {
  const p = new Params();
  const source = pairSource(p, { from, to, locationId: null, subnet: null });
  return q.query<FlowRow>(
    `WITH map AS (SELECT ns.subnet, ${EFFECTIVE} AS loc FROM network_subnets ns),
     sums AS (
       SELECT t.location_id, t.src_id, t.dst_id, sum(t.packets) AS packets, sum(t.bytes) AS bytes
         FROM (${source}) t GROUP BY 1, 2, 3)
     SELECT sl.name AS "from", dl.name AS "to", sum(t.packets)::int8 AS packets, sum(t.bytes)::int8 AS bytes
       FROM sums t
       JOIN network_nets sn ON sn.id = t.src_id
       JOIN network_nets dn ON dn.id = t.dst_id
       JOIN map s ON s.subnet = sn.net
       JOIN map d ON d.subnet = dn.net
       JOIN locations sl ON sl.id = s.loc
       JOIN locations dl ON dl.id = d.loc
      WHERE s.loc <> d.loc AND t.location_id = s.loc
      GROUP BY 1, 2 ORDER BY bytes DESC, 1, 2`,
    p.values,
  );
}
