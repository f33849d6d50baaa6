/**
 * SQL of the search box (domain/search): substring matches over sensors, locations, jobs and users,
 * and the traffic summaries (`network_traffic`, `traffic_samples` for sensors without a location) an address or network appears in.
 *
 * Every pattern is a bound parameter; `%`, `_` and `\` in the user's text are escaped, so they
 * match themselves.
 */
import type { Queryable } from './db.js';

/** `text` as an ILIKE pattern matching it anywhere (wildcards in it escaped). */
export function containsPattern(text: string): string {
  return `%${text.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export interface SensorHitRow {
  name: string;
  location: string | null;
  status: string;
  hostname: string | null;
  lastSeen: Date | null;
}

/** Sensors whose name, hostname or location contains `text`, by name. */
export async function searchSensors(q: Queryable, text: string, limit: number): Promise<SensorHitRow[]> {
  return q.query<SensorHitRow>(
    `SELECT s.name, l.name AS location, s.status, s.hostname, s.last_seen AS "lastSeen"
       FROM sensors s LEFT JOIN locations l ON l.id = s.location_id
      WHERE s.name ILIKE $1 OR s.hostname ILIKE $1 OR l.name ILIKE $1
      ORDER BY s.name LIMIT $2`,
    [containsPattern(text), limit],
  );
}

export interface LocationHitRow {
  name: string;
  description: string | null;
  sensors: number;
}

/** Locations whose name or description contains `text`, by name, with their sensor count. */
export async function searchLocations(q: Queryable, text: string, limit: number): Promise<LocationHitRow[]> {
  return q.query<LocationHitRow>(
    `SELECT l.name, l.description, (SELECT count(*)::int FROM sensors s WHERE s.location_id = l.id) AS sensors
       FROM locations l WHERE l.name ILIKE $1 OR l.description ILIKE $1
      ORDER BY l.name LIMIT $2`,
    [containsPattern(text), limit],
  );
}

export interface JobHitRow {
  id: string;
  name: string | null;
  owner: string;
  status: string;
  filter: string;
  createdAt: Date;
}

/** Jobs whose id, name or filter expression contains `text`, newest first. */
export async function searchJobs(q: Queryable, text: string, limit: number): Promise<JobHitRow[]> {
  return q.query<JobHitRow>(
    `SELECT id::text AS id, name, owner, status, filter_expression AS filter, created_at AS "createdAt"
       FROM jobs WHERE id::text ILIKE $1 OR name ILIKE $1 OR filter_expression ILIKE $1
      ORDER BY created_at DESC, id DESC LIMIT $2`,
    [containsPattern(text), limit],
  );
}

export interface UserHitRow {
  username: string;
  role: string;
  disabled: boolean;
}

/** Users whose name contains `text`, by name. */
export async function searchUsers(q: Queryable, text: string, limit: number): Promise<UserHitRow[]> {
  return q.query<UserHitRow>(`SELECT username, role, disabled FROM users WHERE username ILIKE $1 ORDER BY username LIMIT $2`, [containsPattern(text), limit]);
}

/**
 * Every distinct subnet text reported in [from, to) (sources and destinations): the canonical
 * subnets of located sensors (network_traffic) and, as agents sent them, those of sensors without a
 * location (traffic_samples).
 */
export async function reportedNets(q: Queryable, from: Date, to: Date): Promise<string[]> {
  const rows = await q.query<{ net: string }>(
    `SELECT n.net FROM network_nets n
      WHERE n.id IN (SELECT src_id FROM network_traffic WHERE minute >= $1 AND minute < $2)
         OR n.id IN (SELECT dst_id FROM network_traffic WHERE minute >= $1 AND minute < $2)
     UNION SELECT src_net FROM traffic_samples WHERE interval_start >= $1 AND interval_start < $2
     UNION SELECT dst_net FROM traffic_samples WHERE interval_start >= $1 AND interval_start < $2`,
    [from, to],
  );
  return rows.map((r) => r.net);
}

export interface SightingRow {
  sensor: string;
  location: string | null;
  /** Start of the first interval and end of the last one that carried one of the nets. */
  firstSeen: Date;
  lastSeen: Date;
  packets: number;
  bytes: number;
}

/**
 * Per sensor: when and how much traffic to or from one of `nets` it reported in [from, to), most
 * bytes first. Located sensors' traffic is in network_traffic (minute rows), the others' in
 * traffic_samples; a traffic_samples row of a (sensor, minute) that network_traffic also has (stored
 * twice before sql/0018) is left out.
 */
export async function sightingsOf(q: Queryable, nets: string[], from: Date, to: Date): Promise<SightingRow[]> {
  if (nets.length === 0) return [];
  return q.query<SightingRow>(
    `WITH ids AS (SELECT id FROM network_nets WHERE net = ANY ($1::text[])),
     t AS (
       SELECT n.sensor_id, n.minute AS start, n.minute + interval '1 minute' AS stop, n.packets, n.bytes
         FROM network_traffic n
        WHERE n.minute >= $2 AND n.minute < $3 AND (n.src_id IN (SELECT id FROM ids) OR n.dst_id IN (SELECT id FROM ids))
       UNION ALL
       SELECT ts.sensor_id, ts.interval_start, ts.interval_start + make_interval(secs => ts.interval_seconds), ts.packets, ts.bytes
         FROM traffic_samples ts
        WHERE ts.interval_start >= $2 AND ts.interval_start < $3 AND (ts.src_net = ANY ($1::text[]) OR ts.dst_net = ANY ($1::text[]))
          AND NOT EXISTS (SELECT 1 FROM network_traffic n WHERE n.sensor_id = ts.sensor_id AND n.minute = ts.interval_start))
     SELECT s.name AS sensor, l.name AS location, min(t.start) AS "firstSeen", max(t.stop) AS "lastSeen",
            sum(t.packets)::int8 AS packets, sum(t.bytes)::int8 AS bytes
       FROM t JOIN sensors s ON s.id = t.sensor_id LEFT JOIN locations l ON l.id = s.location_id
      GROUP BY s.name, l.name ORDER BY bytes DESC, s.name`,
    [nets, from, to],
  );
}
