/**
 * What the broker's accounts are reconciled against (broker/dynsec-accounts.ts): every sensor's
 * name and whether it is revoked (sensors.revoked_at), and every integration account's name.
 */
import type { Queryable } from './db.js';

export async function sensorAccountStates(q: Queryable): Promise<{ name: string; revoked: boolean }[]> {
  return q.query<{ name: string; revoked: boolean }>('SELECT name, revoked_at IS NOT NULL AS revoked FROM sensors ORDER BY name');
}

export async function integrationAccountNames(q: Queryable): Promise<string[]> {
  return (await q.query<{ name: string }>('SELECT name FROM integration_accounts ORDER BY name')).map((r) => r.name);
}

/** Sensors not revoked (the fleet the broker must hold connections for). */
export async function activeSensorCount(q: Queryable): Promise<number> {
  const [row] = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM sensors WHERE revoked_at IS NULL');
  return row?.n ?? 0;
}
