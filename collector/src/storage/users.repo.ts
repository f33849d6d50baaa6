/**
 * SQL of the `users` table (sql/0004_users.sql). Functions take a Queryable so they run alike on
 * the Db and inside a transaction. The password hash is only ever read by `passwordHashOf`.
 */
import type { Queryable } from './db.js';

export interface UserRow {
  id: number;
  username: string;
  role: string;
  source: 'local' | 'ldap';
  disabled: boolean;
  createdAt: Date;
  updatedAt: Date;
  lastLoginAt: Date | null;
}

const SELECT_USER = `SELECT id, username, role, source, disabled, created_at AS "createdAt", updated_at AS "updatedAt",
                            last_login_at AS "lastLoginAt" FROM users`;

export async function listUsers(q: Queryable): Promise<UserRow[]> {
  return q.query<UserRow>(`${SELECT_USER} ORDER BY username`);
}

export async function findUser(q: Queryable, username: string): Promise<UserRow | null> {
  return (await q.query<UserRow>(`${SELECT_USER} WHERE username = $1`, [username]))[0] ?? null;
}

export async function countUsers(q: Queryable): Promise<number> {
  const [row] = await q.query<{ n: number }>('SELECT count(*)::int AS n FROM users');
  return row?.n ?? 0;
}

/** Inserts a user; returns null when the username is taken. */
export async function insertUser(
  q: Queryable,
  user: { username: string; role: string; source: 'local' | 'ldap'; passwordHash: string | null },
): Promise<UserRow | null> {
  const rows = await q.query<UserRow>(
    `INSERT INTO users (username, role, source, password_hash) VALUES ($1, $2, $3, $4)
     ON CONFLICT (username) DO NOTHING
     RETURNING id, username, role, source, disabled, created_at AS "createdAt", updated_at AS "updatedAt", last_login_at AS "lastLoginAt"`,
    [user.username, user.role, user.source, user.passwordHash],
  );
  return rows[0] ?? null;
}

/** The stored hash and state of a login candidate, or null for an unknown username. */
export async function passwordHashOf(
  q: Queryable,
  username: string,
): Promise<{ passwordHash: string | null; disabled: boolean; role: string; source: 'local' | 'ldap' } | null> {
  const rows = await q.query<{ passwordHash: string | null; disabled: boolean; role: string; source: 'local' | 'ldap' }>(
    'SELECT password_hash AS "passwordHash", disabled, role, source FROM users WHERE username = $1',
    [username],
  );
  return rows[0] ?? null;
}

/** Changes the given fields; false when there is no such user. */
export async function updateUser(q: Queryable, username: string, change: { role?: string; disabled?: boolean; passwordHash?: string }): Promise<boolean> {
  const rows = await q.query(
    `UPDATE users SET role = COALESCE($2, role), disabled = COALESCE($3, disabled),
            password_hash = COALESCE($4, password_hash), updated_at = now()
      WHERE username = $1 RETURNING 1`,
    [username, change.role ?? null, change.disabled ?? null, change.passwordHash ?? null],
  );
  return rows.length > 0;
}

export async function deleteUser(q: Queryable, username: string): Promise<boolean> {
  return (await q.query('DELETE FROM users WHERE username = $1 RETURNING 1', [username])).length > 0;
}

export async function touchLogin(q: Queryable, username: string, at: Date): Promise<void> {
  await q.query('UPDATE users SET last_login_at = $2 WHERE username = $1', [username, at]);
}

/** Admins that are enabled (the last one may not be disabled, demoted or deleted). */
export async function countActiveAdmins(q: Queryable): Promise<number> {
  const [row] = await q.query<{ n: number }>("SELECT count(*)::int AS n FROM users WHERE role = 'admin' AND NOT disabled");
  return row?.n ?? 0;
}

export async function preferencesOf(q: Queryable, username: string): Promise<{ preferences: unknown; avatarType: string | null } | null> {
  const rows = await q.query<{ preferences: unknown; avatarType: string | null }>(
    'SELECT preferences, avatar_type AS "avatarType" FROM users WHERE username = $1',
    [username],
  );
  return rows[0] ?? null;
}

export async function setPreferences(q: Queryable, username: string, preferences: unknown): Promise<boolean> {
  const rows = await q.query('UPDATE users SET preferences = $2::jsonb, updated_at = now() WHERE username = $1 RETURNING 1', [
    username,
    JSON.stringify(preferences),
  ]);
  return rows.length > 0;
}

export async function avatarOf(q: Queryable, username: string): Promise<{ bytes: Uint8Array; type: string } | null> {
  const rows = await q.query<{ bytes: Uint8Array | null; type: string | null }>('SELECT avatar AS bytes, avatar_type AS type FROM users WHERE username = $1', [
    username,
  ]);
  const row = rows[0];
  return row?.bytes && row.type ? { bytes: row.bytes, type: row.type } : null;
}

/** Stores (or with null, removes) the avatar. */
export async function setAvatar(q: Queryable, username: string, avatar: { bytes: Uint8Array; type: string } | null): Promise<boolean> {
  const rows = await q.query('UPDATE users SET avatar = $2, avatar_type = $3, updated_at = now() WHERE username = $1 RETURNING 1', [
    username,
    avatar ? Buffer.from(avatar.bytes) : null,
    avatar?.type ?? null,
  ]);
  return rows.length > 0;
}
