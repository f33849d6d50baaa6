/**
 * SQL of `network_traffic` (sql/0010_network.sql): packets and bytes per minute per (location,
 * sensor, source subnet, destination subnet), LIST-partitioned by location into
 * `network_traffic_l{id}`, each RANGE-partitioned by day on `minute` by the partition manager.
 *
 * Every read here filters on `location_id` (when one location is asked for) and on a `minute`
 * range, so PostgreSQL prunes to the asked location's tables and the asked days' partitions
 * (network-traffic.repo.test.ts shows it with EXPLAIN).
 */
import type { Queryable } from './db.js';
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
 * The per-location traffic tables as the partition manager's tables (daily partitions on
 * `minute`, kept `retentionDays`): app.ts registers them at every maintenance run, and ingest
 * runs the manager on a location's table when it creates it.
 */
export async function networkPartitionedTables(q: Queryable, retentionDays: number): Promise<PartitionedTable[]> {
  const rows = await q.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'network_traffic'::regclass ORDER BY 1`,
  );
  return rows.map((r) => ({ table: r.name, column: 'minute', retentionDays }));
}

/**
 * Adds flows to their minute rows (a row that exists gets the packets and bytes added: agents
 * may report shorter intervals than a minute). Callers pass only flows not stored before
 * (traffic_samples' dedup), so a replayed message adds nothing.
 */
export async function addNetworkTraffic(q: Queryable, t: { locationId: number; sensorId: number; minute: Date; flows: NetworkFlow[] }): Promise<void> {
  if (t.flows.length === 0) return;
  await q.query(
    `INSERT INTO network_traffic (location_id, minute, sensor_id, src_net, dst_net, packets, bytes)
     SELECT $1, $2, $3, f.src, f.dst, sum(f.packets)::int8, sum(f.bytes)::int8
       FROM jsonb_to_recordset($4::jsonb) AS f(src text, dst text, packets bigint, bytes bigint)
      GROUP BY f.src, f.dst
     ON CONFLICT (location_id, minute, sensor_id, src_net, dst_net)
     DO UPDATE SET packets = network_traffic.packets + EXCLUDED.packets, bytes = network_traffic.bytes + EXCLUDED.bytes`,
    [t.locationId, t.minute, t.sensorId, JSON.stringify(t.flows)],
  );
}

export interface TrafficFilter {
  from: Date;
  to: Date;
  /** One location, or every location when null. */
  locationId: number | null;
  /** Canonical CIDR: rows whose source or destination overlaps it (contains it or lies in it). */
  subnet: string | null;
}

/** WHERE clause and parameters of a filter; the first parameters are from, to. */
export function trafficWhere(f: TrafficFilter, first = 1): { sql: string; params: unknown[] } {
  const params: unknown[] = [f.from, f.to];
  const parts = [`t.minute >= $${first} AND t.minute < $${first + 1}`];
  if (f.locationId !== null) {
    params.push(f.locationId);
    parts.push(`t.location_id = $${first + params.length - 1}`);
  }
  if (f.subnet !== null) {
    params.push(f.subnet);
    const p = `$${first + params.length - 1}::cidr`;
    // 'other' is no CIDR: CASE keeps the cast away from it.
    parts.push(
      `(CASE WHEN t.src_net <> 'other' THEN t.src_net::cidr && ${p} ELSE false END OR CASE WHEN t.dst_net <> 'other' THEN t.dst_net::cidr && ${p} ELSE false END)`,
    );
  }
  return { sql: parts.join(' AND '), params };
}

/** The series query (exported for the pruning test's EXPLAIN). */
export function trafficSeriesSql(f: TrafficFilter, bucketSeconds: number): { sql: string; params: unknown[] } {
  const where = trafficWhere(f, 2);
  return {
    sql: `SELECT to_timestamp(floor(extract(epoch FROM t.minute) / $1) * $1) AS at,
                 sum(t.packets)::int8 AS packets, sum(t.bytes)::int8 AS bytes
            FROM network_traffic t WHERE ${where.sql}
           GROUP BY 1 ORDER BY 1`,
    params: [bucketSeconds, ...where.params],
  };
}

export interface TrafficPoint {
  at: Date;
  packets: number;
  bytes: number;
}

/** Packets and bytes per bucket (buckets aligned to the epoch; empty buckets absent). */
export async function trafficSeries(q: Queryable, f: TrafficFilter, bucketSeconds: number): Promise<TrafficPoint[]> {
  const { sql, params } = trafficSeriesSql(f, bucketSeconds);
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

/** The `limit` subnet pairs with the most bytes, with each subnet's location from the map. */
export async function topPairs(q: Queryable, f: TrafficFilter, limit: number): Promise<PairRow[]> {
  const where = trafficWhere(f, 2);
  return q.query<PairRow>(
    `WITH top AS (
       SELECT t.src_net, t.dst_net, sum(t.packets)::int8 AS packets, sum(t.bytes)::int8 AS bytes
         FROM network_traffic t WHERE ${where.sql}
        GROUP BY 1, 2 ORDER BY bytes DESC, 1, 2 LIMIT $1)
     SELECT top.src_net AS src, top.dst_net AS dst, sl.name AS "srcLocation", dl.name AS "dstLocation", top.packets, top.bytes
       FROM top
       LEFT JOIN network_subnets s ON s.subnet = top.src_net
       LEFT JOIN locations sl ON sl.id = COALESCE(s.pinned_location_id, CASE WHEN s.state = 'learned' THEN s.location_id END)
       LEFT JOIN network_subnets d ON d.subnet = top.dst_net
       LEFT JOIN locations dl ON dl.id = COALESCE(d.pinned_location_id, CASE WHEN d.state = 'learned' THEN d.location_id END)
      ORDER BY top.bytes DESC, 1, 2`,
    [limit, ...where.params],
  );
}

export interface LocationTotalsRow {
  locationId: number;
  packets: number;
  bytes: number;
}

/** Packets and bytes each location's sensors reported in [from, to). */
export async function locationTotals(q: Queryable, from: Date, to: Date): Promise<LocationTotalsRow[]> {
  return q.query<LocationTotalsRow>(
    `SELECT t.location_id AS "locationId", sum(t.packets)::int8 AS packets, sum(t.bytes)::int8 AS bytes
       FROM network_traffic t WHERE t.minute >= $1 AND t.minute < $2 GROUP BY 1`,
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
 * counts once).
 */
export async function interLocationFlows(q: Queryable, from: Date, to: Date): Promise<FlowRow[]> {
  return q.query<FlowRow>(
    `WITH map AS (SELECT ns.subnet, ${EFFECTIVE} AS loc FROM network_subnets ns)
     SELECT sl.name AS "from", dl.name AS "to", sum(t.packets)::int8 AS packets, sum(t.bytes)::int8 AS bytes
       FROM network_traffic t
       JOIN map s ON s.subnet = t.src_net
       JOIN map d ON d.subnet = t.dst_net
       JOIN locations sl ON sl.id = s.loc
       JOIN locations dl ON dl.id = d.loc
      WHERE t.minute >= $1 AND t.minute < $2 AND s.loc <> d.loc AND t.location_id = s.loc
      GROUP BY 1, 2 ORDER BY bytes DESC, 1, 2`,
    [from, to],
  );
}
