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
