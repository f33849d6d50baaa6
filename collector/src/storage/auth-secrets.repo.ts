/**
 * SQL of the `auth_secrets` table (sql/0004_users.sql): generated signing and HMAC keys by name —
 * the access-token key (domain/accounts/access-tokens.ts), the device-cookie key
 * (domain/accounts/known-clients.ts), the task upload key (domain/jobs/task-tokens.ts). Every
 * collector sharing the database uses the same keys.
 */
import type { Queryable } from './db.js';

/** The secret called `name`, created with `value` when missing (the first of concurrent callers wins); returns the stored one. */
export async function ensureSecret(q: Queryable, name: string, value: string): Promise<string> {
  await q.query('INSERT INTO auth_secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING', [name, value]);
  const [row] = await q.query<{ value: string }>('SELECT value FROM auth_secrets WHERE name = $1', [name]);
  if (!row) throw new Error(`auth secret ${name} missing right after it was stored`);
  return row.value;
}

/** The row that keeps a rotated-out secret of `name` (its created_at is when it was retired). */
const previousName = (name: string) => `${name}:previous`;

export interface StoredSecretSet {
  current: string;
  /** The value before the last rotation, and when it was replaced. */
  previous?: { value: string; retiredAt: Date };
}

/** The current and previous value of `name`; null when it was never created. */
export async function loadSecretSet(q: Queryable, name: string): Promise<StoredSecretSet | null> {
  const rows = await q.query<{ name: string; value: string; createdAt: Date }>(
    'SELECT name, value, created_at AS "createdAt" FROM auth_secrets WHERE name = $1 OR name = $2',
    [name, previousName(name)],
  );
  const current = rows.find((r) => r.name === name);
  if (current === undefined) return null;
  const previous = rows.find((r) => r.name === previousName(name));
  return { current: current.value, ...(previous ? { previous: { value: previous.value, retiredAt: new Date(previous.createdAt) } } : {}) };
}

/**
 * Replaces `name` with `value`, keeping the value it had as `name:previous` (retired now; an older
 * previous value is dropped). Use inside a transaction. False when `name` did not exist.
 */
export async function rotateSecretValue(q: Queryable, name: string, value: string): Promise<boolean> {
  const [old] = await q.query<{ value: string }>('SELECT value FROM auth_secrets WHERE name = $1 FOR UPDATE', [name]);
  if (old === undefined) return false;
  await q.query(
    `INSERT INTO auth_secrets (name, value, created_at) VALUES ($1, $2, now())
     ON CONFLICT (name) DO UPDATE SET value = EXCLUDED.value, created_at = EXCLUDED.created_at`,
    [previousName(name), old.value],
  );
  await q.query('UPDATE auth_secrets SET value = $2, created_at = now() WHERE name = $1', [name, value]);
  return true;
}
