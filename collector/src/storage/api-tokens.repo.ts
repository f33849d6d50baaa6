/**
 * SQL of the `api_tokens` table (sql/0003_api_tokens.sql, role since 0004): role-scoped bearer
 * tokens for integrations, stored as `sha256:` hashes (legacy rows: argon2id) only
 * (domain/accounts/api-tokens.service.ts, domain/accounts/machine-secrets.ts).
 */
import type { Queryable } from './db.js';

export interface ApiTokenRow {
  /** Stable: a job submitted with the token is owned by `token:{id}` (a token re-created under the same name is another). */
  id: number;
  name: string;
  tokenHash: string;
  /** admin, analyst or viewer (sql/0004_users.sql; tokens from before are admin). */
  role: string;
}

export class ApiTokensRepo {
  constructor(private readonly db: Queryable) {}

  async list(): Promise<ApiTokenRow[]> {
    return this.db.query<ApiTokenRow>('SELECT id, name, token_hash AS "tokenHash", role FROM api_tokens ORDER BY id');
  }

  async find(name: string): Promise<ApiTokenRow | null> {
    const rows = await this.db.query<ApiTokenRow>('SELECT id, name, token_hash AS "tokenHash", role FROM api_tokens WHERE name = $1', [name]);
    return rows[0] ?? null;
  }

  /** The token whose stored hash is exactly `tokenHash` (the `sha256:` form), or null. */
  async findByHash(tokenHash: string): Promise<ApiTokenRow | null> {
    const rows = await this.db.query<ApiTokenRow>('SELECT id, name, token_hash AS "tokenHash", role FROM api_tokens WHERE token_hash = $1', [tokenHash]);
    return rows[0] ?? null;
  }

  /** Tokens still stored as legacy argon2 hashes. */
  async listLegacy(): Promise<ApiTokenRow[]> {
    return this.db.query<ApiTokenRow>(`SELECT id, name, token_hash AS "tokenHash", role FROM api_tokens WHERE token_hash LIKE '$argon2%' ORDER BY id`);
  }

  /** Replaces `name`'s stored hash if it is still `from` (a legacy hash upgraded after use); false otherwise. */
  async rehash(name: string, from: string, to: string): Promise<boolean> {
    const rows = await this.db.query('UPDATE api_tokens SET token_hash = $3 WHERE name = $1 AND token_hash = $2 RETURNING 1', [name, from, to]);
    return rows.length > 0;
  }

  /** Inserts the token called `name` unless the name is taken; false when it is. */
  async insert(name: string, tokenHash: string, role: string): Promise<boolean> {
    const rows = await this.db.query('INSERT INTO api_tokens (name, token_hash, role) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING RETURNING 1', [
      name,
      tokenHash,
      role,
    ]);
    return rows.length > 0;
  }

  /** Inserts or replaces the token called `name` (role: admin unless given). */
  async put(name: string, tokenHash: string, role = 'admin'): Promise<void> {
    await this.db.query(
      `INSERT INTO api_tokens (name, token_hash, role) VALUES ($1, $2, $3)
       ON CONFLICT (name) DO UPDATE SET token_hash = EXCLUDED.token_hash, role = EXCLUDED.role, created_at = now(), last_used_at = NULL`,
      [name, tokenHash, role],
    );
  }

  /** Deletes the token called `name`; false when there is none. */
  async remove(name: string): Promise<boolean> {
    return (await this.db.query('DELETE FROM api_tokens WHERE name = $1 RETURNING 1', [name])).length > 0;
  }

  async touch(name: string, at: Date): Promise<void> {
    await this.db.query('UPDATE api_tokens SET last_used_at = $2 WHERE name = $1', [name, at]);
  }
}
