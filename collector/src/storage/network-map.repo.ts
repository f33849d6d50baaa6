/**
 * SQL of the subnet → location map (sql/0010_network.sql): `network_pairs` (which location saw
 * which pair of subnets: the learning's evidence) and `network_subnets` (learned state and pins).
 * The rule that turns evidence into the map is domain/network/subnet-map.ts.
 */
import type { Queryable } from './db.js';

/** One location's evidence of an unordered pair (net_a <= net_b) over some intervals. */
export interface PairEvidence {
  netA: string;
  netB: string;
  locationId: number;
  packets: number;
  bytes: number;
  firstSeen: Date;
  lastSeen: Date;
}

/**
 * Adds pair evidence, one multi-row upsert. Contract: each (netA, netB, location) at most once
 * (folded: storage/traffic-fold.ts), netA <= netB, rows in key order.
 */
export async function addPairs(q: Queryable, pairs: readonly PairEvidence[]): Promise<void> {
  if (pairs.length === 0) return;
  await q.query(
    `INSERT INTO network_pairs (net_a, net_b, location_id, packets, bytes, first_seen, last_seen)
     SELECT * FROM unnest($1::text[], $2::text[], $3::int8[], $4::int8[], $5::int8[], $6::timestamptz[], $7::timestamptz[])
     ON CONFLICT (net_a, net_b, location_id) DO UPDATE SET
       packets = network_pairs.packets + EXCLUDED.packets,
       bytes = network_pairs.bytes + EXCLUDED.bytes,
       first_seen = LEAST(network_pairs.first_seen, EXCLUDED.first_seen),
       last_seen = GREATEST(network_pairs.last_seen, EXCLUDED.last_seen)`,
    [
      pairs.map((p) => p.netA),
      pairs.map((p) => p.netB),
      pairs.map((p) => p.locationId),
      pairs.map((p) => p.packets),
      pairs.map((p) => p.bytes),
      pairs.map((p) => p.firstSeen.toISOString()),
      pairs.map((p) => p.lastSeen.toISOString()),
    ],
  );
}

/**
 * Where the map puts each network (CIDR text): the effective location (a pin, else a learned one)
 * of the most specific subnet containing it, null when that subnet is external or ambiguous; a
 * network no subnet contains is absent.
 */
export async function locateNets(q: Queryable, nets: readonly string[]): Promise<Map<string, string | null>> {
  if (nets.length === 0) return new Map();
  const rows = await q.query<{ net: string; location: string | null }>(
    `SELECT DISTINCT ON (n.net) n.net, l.name AS location
       FROM unnest($1::text[]) AS n(net)
       JOIN network_subnets ns ON ns.subnet <> 'other' AND ns.subnet::cidr >>= n.net::cidr
       LEFT JOIN locations l ON l.id = COALESCE(ns.pinned_location_id, CASE WHEN ns.state = 'learned' THEN ns.location_id END)
      ORDER BY n.net, masklen(ns.subnet::cidr) DESC`,
    [nets],
  );
  return new Map(rows.map((r) => [r.net, r.location]));
}

const LEARN_LOCK_KEY = 4_242_011;

/**
 * Takes the learning pass's transaction-level advisory lock if free: false when another collector
 * is learning right now (its pass will store the same verdicts and send the events once).
 */
export async function tryLearnLock(q: Queryable): Promise<boolean> {
  const [row] = await q.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [LEARN_LOCK_KEY]);
  return row?.ok === true;
}

/** Forgets evidence last seen before `cutoff` (outside the learning window); returns rows deleted. */
export async function deletePairsBefore(q: Queryable, cutoff: Date): Promise<number> {
  return (await q.query('DELETE FROM network_pairs WHERE last_seen < $1 RETURNING 1', [cutoff])).length;
}

/** One subnet as seen by one location. */
export interface SightingRow {
  subnet: string;
  locationId: number;
  packets: number;
  bytes: number;
  firstSeen: Date;
  lastSeen: Date;
  /** The location saw the subnet in a pair that no other location saw. */
  local: boolean;
}

/**
 * Every (subnet, location) sighting in the evidence (CIDRs only, `other` left out), with whether
 * the location has local evidence for it; and how many locations reported any pair.
 */
export async function sightings(q: Queryable): Promise<{ rows: SightingRow[]; reportingLocations: number }> {
  const rows = await q.query<SightingRow>(
    `WITH pair_locations AS (SELECT net_a, net_b, count(*) AS n FROM network_pairs GROUP BY net_a, net_b),
          ends AS (
            SELECT p.net_a AS subnet, p.location_id, p.packets, p.bytes, p.first_seen, p.last_seen, pl.n = 1 AS local
              FROM network_pairs p JOIN pair_locations pl USING (net_a, net_b)
            UNION ALL
            SELECT p.net_b, p.location_id, p.packets, p.bytes, p.first_seen, p.last_seen, pl.n = 1
              FROM network_pairs p JOIN pair_locations pl USING (net_a, net_b) WHERE p.net_a <> p.net_b)
     SELECT subnet, location_id AS "locationId", sum(packets)::int8 AS packets, sum(bytes)::int8 AS bytes,
            min(first_seen) AS "firstSeen", max(last_seen) AS "lastSeen", bool_or(local) AS local
       FROM ends WHERE subnet <> 'other'
      GROUP BY subnet, location_id ORDER BY subnet, location_id`,
  );
  const [count] = await q.query<{ n: number }>('SELECT count(DISTINCT location_id)::int AS n FROM network_pairs');
  return { rows, reportingLocations: count?.n ?? 0 };
}

export type LearnedState = 'learned' | 'external' | 'ambiguous';

export interface SubnetRow {
  subnet: string;
  state: LearnedState | null;
  locationId: number | null;
  location: string | null;
  confidence: number | null;
  locations: number;
  packets: number;
  bytes: number;
  firstSeen: Date | null;
  lastSeen: Date | null;
  pinnedLocationId: number | null;
  pinnedLocation: string | null;
  pinnedBy: string | null;
  pinnedAt: Date | null;
}

const SUBNET_COLUMNS = `ns.subnet, ns.state, ns.location_id AS "locationId", l.name AS location, ns.confidence, ns.locations,
  ns.packets, ns.bytes, ns.first_seen AS "firstSeen", ns.last_seen AS "lastSeen",
  ns.pinned_location_id AS "pinnedLocationId", pl.name AS "pinnedLocation", ns.pinned_by AS "pinnedBy", ns.pinned_at AS "pinnedAt"`;
const SUBNET_FROM = `network_subnets ns LEFT JOIN locations l ON l.id = ns.location_id LEFT JOIN locations pl ON pl.id = ns.pinned_location_id`;

/** Every subnet of the map (pinned ones, and learned ones last seen at or after `since`), by subnet. */
export async function listSubnets(q: Queryable, since: Date | null): Promise<SubnetRow[]> {
  return q.query<SubnetRow>(
    `SELECT ${SUBNET_COLUMNS} FROM ${SUBNET_FROM}
      WHERE $1::timestamptz IS NULL OR ns.pinned_location_id IS NOT NULL OR ns.last_seen >= $1
      ORDER BY ns.subnet`,
    [since],
  );
}

export async function getSubnet(q: Queryable, subnet: string): Promise<SubnetRow | null> {
  const [row] = await q.query<SubnetRow>(`SELECT ${SUBNET_COLUMNS} FROM ${SUBNET_FROM} WHERE ns.subnet = $1`, [subnet]);
  return row ?? null;
}

/** What one learning pass concluded about a subnet. */
export interface LearnedRow {
  subnet: string;
  state: LearnedState;
  locationId: number | null;
  confidence: number;
  locations: number;
  packets: number;
  bytes: number;
  firstSeen: Date;
  lastSeen: Date;
}

/** Stores a pass's conclusions (pins untouched; first_seen only moves back). */
export async function saveLearned(q: Queryable, rows: LearnedRow[], at: Date): Promise<void> {
  for (let i = 0; i < rows.length; i += 5000) {
    await q.query(
      `INSERT INTO network_subnets (subnet, state, location_id, confidence, locations, packets, bytes, first_seen, last_seen, updated_at)
       SELECT r.subnet, r.state, r."locationId", r.confidence, r.locations, r.packets, r.bytes, r."firstSeen", r."lastSeen", $2
         FROM jsonb_to_recordset($1::jsonb) AS r(subnet text, state text, "locationId" bigint, confidence double precision,
              locations integer, packets bigint, bytes bigint, "firstSeen" timestamptz, "lastSeen" timestamptz)
       ON CONFLICT (subnet) DO UPDATE SET
         state = EXCLUDED.state, location_id = EXCLUDED.location_id, confidence = EXCLUDED.confidence,
         locations = EXCLUDED.locations, packets = EXCLUDED.packets, bytes = EXCLUDED.bytes,
         first_seen = LEAST(network_subnets.first_seen, EXCLUDED.first_seen),
         last_seen = GREATEST(network_subnets.last_seen, EXCLUDED.last_seen), updated_at = EXCLUDED.updated_at`,
      [JSON.stringify(rows.slice(i, i + 5000)), at],
    );
  }
}

/** Pins a subnet to a location (creating the map row of a subnet never seen). */
export async function pinSubnet(q: Queryable, subnet: string, locationId: number, by: string | null, at: Date): Promise<void> {
  await q.query(
    `INSERT INTO network_subnets (subnet, pinned_location_id, pinned_by, pinned_at, updated_at) VALUES ($1, $2, $3, $4, $4)
     ON CONFLICT (subnet) DO UPDATE SET pinned_location_id = EXCLUDED.pinned_location_id, pinned_by = EXCLUDED.pinned_by,
       pinned_at = EXCLUDED.pinned_at, updated_at = EXCLUDED.updated_at`,
    [subnet, locationId, by, at],
  );
}

/** Removes a pin; false when the subnet had none. A pinned-only row (never seen) is deleted. */
export async function unpinSubnet(q: Queryable, subnet: string, at: Date): Promise<boolean> {
  const rows = await q.query(
    `UPDATE network_subnets SET pinned_location_id = NULL, pinned_by = NULL, pinned_at = NULL, updated_at = $2
      WHERE subnet = $1 AND pinned_location_id IS NOT NULL RETURNING 1`,
    [subnet, at],
  );
  await q.query('DELETE FROM network_subnets WHERE subnet = $1 AND state IS NULL AND pinned_location_id IS NULL', [subnet]);
  return rows.length > 0;
}

/** What the location cache's entries are valid for (sql/0017): this database's scope and the current generation. */
export interface CacheVersion {
  /** The database's random token and name: keys of different databases never meet in a shared cache. */
  scope: string;
  generation: string;
}

export async function cacheVersion(q: Queryable): Promise<CacheVersion> {
  const [row] = await q.query<CacheVersion>(`SELECT token || ':' || current_database() AS scope, generation::text AS generation FROM network_cache_version`);
  if (!row) throw new Error('network_cache_version has no row (sql/0017 not applied?)');
  return row;
}

/** Makes every cached entry stale: call in (or right after) the transaction that changed the map or a location. */
export async function bumpCacheVersion(q: Queryable): Promise<void> {
  await q.query('UPDATE network_cache_version SET generation = generation + 1');
}
