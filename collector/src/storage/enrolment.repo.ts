/** SQL of `enrolment_tokens` and `integration_accounts` (sql/0005_enrolment.sql). */
import type { Queryable } from './db.js';

export async function insertEnrolmentToken(
  q: Queryable,
  t: { sensor: string; tokenHash: string; expiresAt: Date; createdBy: string | null },
): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO enrolment_tokens (sensor_id, token_hash, expires_at, created_by)
     SELECT id, $2, $3, $4 FROM sensors WHERE name = $1 RETURNING 1`,
    [t.sensor, t.tokenHash, t.expiresAt, t.createdBy],
  );
  return rows.length > 0;
}

/**
 * Marks the unused, unexpired token with this hash as used and returns its sensor's name; null
 * when there is none. One UPDATE: of two concurrent uses exactly one gets the name.
 */
export async function claimEnrolmentToken(q: Queryable, tokenHash: string, now: Date): Promise<string | null> {
  const rows = await q.query<{ name: string }>(
    `UPDATE enrolment_tokens e SET used_at = $2 FROM sensors s
      WHERE e.token_hash = $1 AND e.used_at IS NULL AND e.expires_at > $2 AND s.id = e.sensor_id
      RETURNING s.name`,
    [tokenHash, now],
  );
  return rows[0]?.name ?? null;
}

/** Expires every unused token of a sensor (its secret was rotated or revoked). */
export async function voidEnrolmentTokens(q: Queryable, sensor: string, now: Date): Promise<void> {
  await q.query(
    `UPDATE enrolment_tokens SET expires_at = $2 WHERE used_at IS NULL AND expires_at > $2
        AND sensor_id = (SELECT id FROM sensors WHERE name = $1)`,
    [sensor, now],
  );
}

export interface IntegrationRow {
  name: string;
  createdBy: string | null;
  createdAt: Date;
}

export async function insertIntegration(q: Queryable, a: { name: string; secretHash: string; createdBy: string | null }): Promise<IntegrationRow | null> {
  const rows = await q.query<IntegrationRow>(
    `INSERT INTO integration_accounts (name, secret_hash, created_by) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING
     RETURNING name, created_by AS "createdBy", created_at AS "createdAt"`,
    [a.name, a.secretHash, a.createdBy],
  );
  return rows[0] ?? null;
}

export async function listIntegrations(q: Queryable): Promise<IntegrationRow[]> {
  return q.query<IntegrationRow>('SELECT name, created_by AS "createdBy", created_at AS "createdAt" FROM integration_accounts ORDER BY name');
}

export async function integrationSecretHash(q: Queryable, name: string): Promise<string | null> {
  const [row] = await q.query<{ h: string }>('SELECT secret_hash AS h FROM integration_accounts WHERE name = $1', [name]);
  return row?.h ?? null;
}

export async function deleteIntegration(q: Queryable, name: string): Promise<boolean> {
  return (await q.query('DELETE FROM integration_accounts WHERE name = $1 RETURNING 1', [name])).length > 0;
}
