/**
 * The revoked mark of a sensor (sensors.revoked_at, sql/0014): set by a revoke, cleared when the
 * sensor gets a new secret (rotate, enrolment).
 */
import type { Queryable } from './db.js';

/** Sets (a time) or clears (null) the mark; false when no such sensor. */
export async function setRevoked(q: Queryable, name: string, at: Date | null): Promise<boolean> {
  const rows = await q.query('UPDATE sensors SET revoked_at = $2, updated_at = now() WHERE name = $1 RETURNING id', [name, at]);
  return rows.length > 0;
}

/** 'active', 'revoked', or 'unknown' (no such sensor). */
export async function sensorStanding(q: Queryable, name: string): Promise<'active' | 'revoked' | 'unknown'> {
  const [row] = await q.query<{ revoked: boolean }>('SELECT revoked_at IS NOT NULL AS revoked FROM sensors WHERE name = $1', [name]);
  if (row === undefined) return 'unknown';
  return row.revoked ? 'revoked' : 'active';
}
