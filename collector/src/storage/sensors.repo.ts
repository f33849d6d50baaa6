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

/** Name and stored hash of every sensor not revoked whose secret is stored as SHA-256 (the broker's secret cache starts from these). */
export async function activeSha256Secrets(q: Queryable): Promise<{ name: string; secretHash: string }[]> {
  return q.query<{ name: string; secretHash: string }>(
    `SELECT name, secret_hash AS "secretHash" FROM sensors WHERE revoked_at IS NULL AND secret_hash LIKE 'sha256:%'`,
  );
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

/** A sensor row-locked for a batch of state/health/availability messages: what ingest decides on. */
export interface SensorIngestRow extends SensorLockRow {
  locationId: number | null;
  lastSeen: Date | null;
  statusChangedAt: Date | null;
  clockOffsetMs: number | null;
}

/**
 * Reads and row-locks (FOR UPDATE) the named sensors for one ingest batch, in id order (like
 * lockSensors: batches lock common sensors in the same order, so no deadlock cycle); unknown
 * names are absent. Call inside a transaction.
 */
export async function lockSensorsForIngest(q: Queryable, names: readonly string[]): Promise<SensorIngestRow[]> {
  if (names.length === 0) return [];
  return q.query<SensorIngestRow>(
    `SELECT id, name, status, status_reason AS "statusReason", status_changed_at AS "statusChangedAt", bd_seq AS "bdSeq",
            last_seq AS "lastSeq", pcap_seq AS "pcapSeq", location_id AS "locationId", last_seen AS "lastSeen",
            clock_offset_ms AS "clockOffsetMs"
       FROM sensors WHERE name = ANY($1::text[]) ORDER BY id FOR UPDATE`,
    [[...new Set(names)]],
  );
}

/**
 * A sensor's fields after an ingest batch (the domain computed them from the locked row and the
 * batch's messages). `disks` undefined: unchanged; `pcap` undefined: unchanged.
 */
export interface SensorIngestUpdate {
  id: number;
  bdSeq: number | null;
  lastSeq: number | null;
  lastSeen: Date | null;
  status: string;
  statusReason: string | null;
  statusChangedAt: Date | null;
  clockOffsetMs: number | null;
  disks?: unknown[] | undefined;
  pcap?: { oldest: string | null; newest: string | null; sources: unknown[]; at: Date; seq: number } | undefined;
}

/**
 * Writes a batch's sensor changes in ONE statement. A row whose fields all equal the stored ones
 * is not rewritten (the IS DISTINCT FROM guard), so only sensors with a changed field get a new
 * row version.
 */
export async function updateSensorsAfterIngest(q: Queryable, updates: readonly SensorIngestUpdate[]): Promise<void> {
  if (updates.length === 0) return;
  const rows = updates.map((u) => ({
    id: u.id,
    bd_seq: u.bdSeq,
    last_seq: u.lastSeq,
    last_seen: u.lastSeen?.toISOString() ?? null,
    status: u.status,
    status_reason: u.statusReason,
    status_changed_at: u.statusChangedAt?.toISOString() ?? null,
    clock_offset_ms: u.clockOffsetMs,
    set_disks: u.disks !== undefined,
    disks: u.disks ?? null,
    set_pcap: u.pcap !== undefined,
    pcap_oldest: u.pcap?.oldest ?? null,
    pcap_newest: u.pcap?.newest ?? null,
    pcap: u.pcap?.sources ?? null,
    pcap_updated_at: u.pcap?.at.toISOString() ?? null,
    pcap_seq: u.pcap?.seq ?? null,
  }));
  await q.query(
    `WITH u AS (
       SELECT u.id, u.bd_seq, u.last_seq, u.last_seen, u.status, u.status_reason, u.status_changed_at, u.clock_offset_ms,
              CASE WHEN u.set_disks THEN u.disks ELSE s.disks END AS disks,
              CASE WHEN u.set_pcap THEN u.pcap_oldest ELSE s.pcap_oldest END AS pcap_oldest,
              CASE WHEN u.set_pcap THEN u.pcap_newest ELSE s.pcap_newest END AS pcap_newest,
              CASE WHEN u.set_pcap THEN u.pcap ELSE s.pcap END AS pcap,
              CASE WHEN u.set_pcap THEN u.pcap_updated_at ELSE s.pcap_updated_at END AS pcap_updated_at,
              CASE WHEN u.set_pcap THEN u.pcap_seq ELSE s.pcap_seq END AS pcap_seq
         FROM jsonb_to_recordset($1::jsonb) AS u(id int8, bd_seq int8, last_seq int8, last_seen timestamptz, status text,
                status_reason text, status_changed_at timestamptz, clock_offset_ms float8, set_disks boolean, disks jsonb,
                set_pcap boolean, pcap_oldest timestamptz, pcap_newest timestamptz, pcap jsonb, pcap_updated_at timestamptz,
                pcap_seq int8)
         JOIN sensors s ON s.id = u.id)
     UPDATE sensors s
        SET bd_seq = u.bd_seq, last_seq = u.last_seq, last_seen = u.last_seen, status = u.status, status_reason = u.status_reason,
            status_changed_at = u.status_changed_at, clock_offset_ms = u.clock_offset_ms, disks = u.disks,
            pcap_oldest = u.pcap_oldest, pcap_newest = u.pcap_newest, pcap = u.pcap, pcap_updated_at = u.pcap_updated_at,
            pcap_seq = u.pcap_seq, updated_at = now()
       FROM u
      WHERE s.id = u.id
        AND (s.bd_seq, s.last_seq, s.last_seen, s.status, s.status_reason, s.status_changed_at, s.clock_offset_ms, s.disks,
             s.pcap_oldest, s.pcap_newest, s.pcap, s.pcap_updated_at, s.pcap_seq)
            IS DISTINCT FROM
            (u.bd_seq, u.last_seq, u.last_seen, u.status, u.status_reason, u.status_changed_at, u.clock_offset_ms, u.disks,
             u.pcap_oldest, u.pcap_newest, u.pcap, u.pcap_updated_at, u.pcap_seq)`,
    [JSON.stringify(rows)],
  );
}

/** What the fleet view's refresh compares: a sensor changed since `since` (by updated_at). */
export interface SensorChangeRow {
  name: string;
  status: string;
  statusReason: string | null;
  lastSeen: Date | null;
}

/** The sensors changed since `since` (updated_at), a few columns each: the fleet view's refresh. */
export async function sensorsChangedSince(q: Queryable, since: Date): Promise<SensorChangeRow[]> {
  return q.query<SensorChangeRow>('SELECT name, status, status_reason AS "statusReason", last_seen AS "lastSeen" FROM sensors WHERE updated_at >= $1', [since]);
}

/** The named sensors' rows (absent names skipped). */
export async function findSensors(q: Queryable, names: readonly string[]): Promise<SensorRow[]> {
  if (names.length === 0) return [];
  return q.query<SensorRow>(`${SELECT_VIEW} WHERE s.name = ANY($1::text[]) ORDER BY s.name`, [[...names]]);
}
