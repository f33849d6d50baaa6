/**
 * SQL of the `sensors` table. Functions take a Queryable so they run alike on the Db and inside
 * a transaction. Rows come back camelCased with Dates; the domain turns them into views.
 */
import type { Queryable } from './db.js';

export interface SensorRow {
  id: number;
  name: string;
  location: string | null;
  status: string;
  statusReason: string | null;
  statusChangedAt: Date | null;
  bdSeq: number | null;
  lastSeq: number | null;
  version: string | null;
  hostname: string | null;
  capabilities: string[];
  lastSeen: Date | null;
  disks: unknown[];
  interfaces: unknown[];
  /** ISO 8601 with microseconds (a Date would cut them to ms). */
  pcapOldest: string | null;
  pcapNewest: string | null;
  pcap: unknown[];
  pcapUpdatedAt: Date | null;
  pcapSeq: number | null;
  clockOffsetMs: number | null;
  createdAt: Date;
}

/** The ingest-relevant part of a sensor row, read under a row lock. */
export type SensorLockRow = Pick<SensorRow, 'id' | 'name' | 'status' | 'statusReason' | 'bdSeq' | 'lastSeq' | 'pcapSeq'>;

/** SQL rendering a timestamptz column as ISO 8601 UTC with microseconds. */
const isoMicros = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const SELECT_VIEW = `
  SELECT s.id, s.name, l.name AS location, s.status, s.status_reason AS "statusReason",
         s.status_changed_at AS "statusChangedAt", s.bd_seq AS "bdSeq", s.last_seq AS "lastSeq",
         s.version, s.hostname, s.capabilities, s.last_seen AS "lastSeen", s.disks, s.interfaces,
         ${isoMicros('s.pcap_oldest')} AS "pcapOldest", ${isoMicros('s.pcap_newest')} AS "pcapNewest", s.pcap,
         s.pcap_updated_at AS "pcapUpdatedAt", s.pcap_seq AS "pcapSeq",
         s.clock_offset_ms AS "clockOffsetMs", s.created_at AS "createdAt"
    FROM sensors s LEFT JOIN locations l ON l.id = s.location_id`;

/** Inserts a new sensor (status unknown). Throws the database's unique violation (23505) if the name exists. */
export async function insertSensor(q: Queryable, s: { name: string; locationId: number | null; secretHash: string }): Promise<number> {
  const [row] = await q.query<{ id: number }>('INSERT INTO sensors (name, location_id, secret_hash) VALUES ($1, $2, $3) RETURNING id', [
    s.name,
    s.locationId,
    s.secretHash,
  ]);
  return row!.id;
}

export async function findSensor(q: Queryable, name: string): Promise<SensorRow | null> {
  const [row] = await q.query<SensorRow>(`${SELECT_VIEW} WHERE s.name = $1`, [name]);
  return row ?? null;
}

export async function listSensors(q: Queryable): Promise<SensorRow[]> {
  return q.query<SensorRow>(`${SELECT_VIEW} ORDER BY s.name`);
}

export async function sensorId(q: Queryable, name: string): Promise<number | null> {
  const [row] = await q.query<{ id: number }>('SELECT id FROM sensors WHERE name = $1', [name]);
  return row?.id ?? null;
}

export async function secretHash(q: Queryable, name: string): Promise<string | null> {
  const [row] = await q.query<{ secretHash: string }>('SELECT secret_hash AS "secretHash" FROM sensors WHERE name = $1', [name]);
  return row?.secretHash ?? null;
}

/** Replaces the secret hash; false when no such sensor. */
export async function setSecretHash(q: Queryable, name: string, hash: string): Promise<boolean> {
  const rows = await q.query('UPDATE sensors SET secret_hash = $2, updated_at = now() WHERE name = $1 RETURNING id', [name, hash]);
  return rows.length === 1;
}

/** Reads and row-locks (FOR UPDATE) the sensor for an ingest or status change; call inside a transaction. */
export async function lockSensor(q: Queryable, name: string): Promise<SensorLockRow | null> {
  const [row] = await q.query<SensorLockRow>(
    `SELECT id, name, status, status_reason AS "statusReason", bd_seq AS "bdSeq", last_seq AS "lastSeq", pcap_seq AS "pcapSeq"
       FROM sensors WHERE name = $1 FOR UPDATE`,
    [name],
  );
  return row ?? null;
}

/** A sensor row-locked for a traffic batch: its id and location. */
export interface TrafficSensorRow {
  id: number;
  name: string;
  locationId: number | null;
}

/**
 * Reads and row-locks (FOR UPDATE) several sensors for one ingest batch, in id order (two batches
 * lock their common sensors in the same order: no deadlock cycle); unknown names are absent.
 */
export async function lockSensors(q: Queryable, names: readonly string[]): Promise<TrafficSensorRow[]> {
  if (names.length === 0) return [];
  return q.query<TrafficSensorRow>('SELECT id, name, location_id AS "locationId" FROM sensors WHERE name = ANY($1::text[]) ORDER BY id FOR UPDATE', [
    [...new Set(names)],
  ]);
}

/** touchSensor for several sensors at once: seen at `seenAt`, last_seq raised to each one's seq. */
export async function touchSensors(q: Queryable, seenAt: Date, touches: readonly { id: number; seq: number }[]): Promise<void> {
  if (touches.length === 0) return;
  await q.query(
    `UPDATE sensors s SET last_seen = GREATEST(s.last_seen, $1), last_seq = GREATEST(s.last_seq, u.seq), updated_at = now()
       FROM (SELECT id, max(seq) AS seq FROM unnest($2::int8[], $3::int8[]) AS x(id, seq) GROUP BY id) u
      WHERE s.id = u.id`,
    [seenAt, touches.map((t) => t.id), touches.map((t) => t.seq)],
  );
}

export async function setStatus(q: Queryable, id: number, status: string, reason: string, at: Date): Promise<void> {
  await q.query('UPDATE sensors SET status = $2, status_reason = $3, status_changed_at = $4, updated_at = now() WHERE id = $1', [id, status, reason, at]);
}

/** Changes only the reason of the current status (degraded for another reason: not a transition). */
export async function setStatusReason(q: Queryable, id: number, reason: string): Promise<void> {
  await q.query('UPDATE sensors SET status_reason = $2, updated_at = now() WHERE id = $1', [id, reason]);
}

/** Records that a message arrived: last_seen (collector clock) and the highest envelope seq. */
export async function touchSensor(q: Queryable, id: number, seenAt: Date, seq: number): Promise<void> {
  await q.query(`UPDATE sensors SET last_seen = GREATEST(last_seen, $2), last_seq = GREATEST(last_seq, $3), updated_at = now() WHERE id = $1`, [
    id,
    seenAt,
    seq,
  ]);
}

export interface BirthFields {
  bdSeq: number;
  seq: number;
  seenAt: Date;
  version: string | null;
  hostname: string | null;
  /** undefined keeps the current location. */
  locationId: number | undefined;
  capabilities: string[];
  interfaces: unknown[];
}

/** Applies a birth: the new session's bdSeq, and last_seq restarts at the birth's seq. */
export async function applyBirth(q: Queryable, id: number, b: BirthFields): Promise<void> {
  await q.query(
    `UPDATE sensors SET bd_seq = $2, last_seq = $3, last_seen = GREATEST(last_seen, $4), version = $5, hostname = $6,
            location_id = CASE WHEN $7::boolean THEN $8::bigint ELSE location_id END,
            capabilities = $9::text[], interfaces = $10::jsonb, updated_at = now()
      WHERE id = $1`,
    [id, b.bdSeq, b.seq, b.seenAt, b.version, b.hostname, b.locationId !== undefined, b.locationId ?? null, b.capabilities, JSON.stringify(b.interfaces)],
  );
}

/** Raises the recorded bdSeq (a will of a session whose birth was never seen). */
export async function raiseBdSeq(q: Queryable, id: number, bdSeq: number): Promise<void> {
  await q.query('UPDATE sensors SET bd_seq = GREATEST(bd_seq, $2), updated_at = now() WHERE id = $1', [id, bdSeq]);
}

export async function applyHealthSummary(q: Queryable, id: number, h: { disks: unknown[]; clockOffsetMs: number | null }): Promise<void> {
  await q.query(`UPDATE sensors SET disks = $2::jsonb, clock_offset_ms = COALESCE($3, clock_offset_ms), updated_at = now() WHERE id = $1`, [
    id,
    JSON.stringify(h.disks),
    h.clockOffsetMs,
  ]);
}

export async function applyPcap(
  q: Queryable,
  id: number,
  p: { oldest: string | null; newest: string | null; sources: unknown[]; at: Date; seq: number },
): Promise<void> {
  await q.query(
    `UPDATE sensors SET pcap_oldest = $2::timestamptz, pcap_newest = $3::timestamptz, pcap = $4::jsonb, pcap_updated_at = $5,
            pcap_seq = $6, updated_at = now()
      WHERE id = $1`,
    [id, p.oldest, p.newest, JSON.stringify(p.sources), p.at, p.seq],
  );
}

/** Names of online/degraded sensors not seen since `cutoff`. */
export async function silentLiveSensors(q: Queryable, cutoff: Date): Promise<string[]> {
  const rows = await q.query<{ name: string }>(
    `SELECT name FROM sensors WHERE status IN ('online', 'degraded') AND (last_seen IS NULL OR last_seen < $1) ORDER BY name`,
    [cutoff],
  );
  return rows.map((r) => r.name);
}

/** True if the sensor is live and silent since `cutoff` (re-checked under the row lock). */
export async function isSilentLive(q: Queryable, id: number, cutoff: Date): Promise<boolean> {
  const rows = await q.query(`SELECT 1 FROM sensors WHERE id = $1 AND status IN ('online', 'degraded') AND (last_seen IS NULL OR last_seen < $2)`, [
    id,
    cutoff,
  ]);
  return rows.length === 1;
}

export async function countByStatus(q: Queryable): Promise<{ status: string; n: number }[]> {
  return q.query('SELECT status, count(*)::int AS n FROM sensors GROUP BY status');
}
