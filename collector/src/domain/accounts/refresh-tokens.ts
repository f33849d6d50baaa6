/**
 * Refresh tokens in the cache store (Redis when configured, else process memory): opaque random
 * strings, each valid once. Keys hold only the SHA-256 of a token, never the token.
 *
 * Contract:
 * - `issue(username)` starts a new family (one login) and returns its first token;
 * - `rotate(token)` claims the token (atomically: of two concurrent uses exactly one wins) and
 *   returns the next token of the same family; presenting a token that was already used revokes
 *   the whole family (a stolen token and its legitimate twin both stop working) → `reused`;
 * - `revoke(token)` ends the token's family (logout); `revokeUser` ends every family of a user
 *   (disabled, deleted, password changed) by raising the user's generation;
 * - a family (one login) lasts `days` from the login however often it rotates: sessions have an
 *   absolute lifetime, after which the user logs in again.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CacheStore } from '../../cache/store.js';

interface TokenRecord {
  family: string;
  username: string;
  /** The user's generation when the family started (revokeUser raises it). */
  generation: number;
}

export type RotateResult = { ok: true; username: string; token: string } | { ok: false; reason: 'unknown' | 'reused' | 'revoked'; username?: string };

const digest = (token: string) => createHash('sha256').update(token).digest('base64url');

export class RefreshTokens {
  readonly counters = { issued: 0, rotated: 0, reused: 0, refused: 0 };
  private readonly ttl: number;

  constructor(
    private readonly cache: CacheStore,
    days: number,
  ) {
    this.ttl = days * 86_400;
  }

  async issue(username: string): Promise<string> {
    const family = randomBytes(16).toString('base64url');
    const generation = Number((await this.cache.get(`refresh-gen:${username}`)) ?? 0);
    await this.cache.set(`refresh-family:${family}`, 'active', this.ttl);
    return this.mint({ family, username, generation });
  }

  async rotate(token: string): Promise<RotateResult> {
    const key = digest(token);
    const raw = token.length <= 256 ? await this.cache.get(`refresh:${key}`) : null;
    if (raw === null) {
      this.counters.refused += 1;
      return { ok: false, reason: 'unknown' };
    }
    const record = JSON.parse(raw) as TokenRecord;
    const claims = await this.cache.incr(`refresh-used:${key}`, this.ttl);
    if (claims > 1) {
      this.counters.reused += 1;
      await this.cache.set(`refresh-family:${record.family}`, 'revoked', this.ttl);
      return { ok: false, reason: 'reused', username: record.username };
    }
    if (!(await this.live(record))) {
      this.counters.refused += 1;
      return { ok: false, reason: 'revoked', username: record.username };
    }
    this.counters.rotated += 1;
    return { ok: true, username: record.username, token: await this.mint(record) };
  }

  /** Ends the family of `token` (logout). Unknown tokens are ignored. Returns the username, if known. */
  async revoke(token: string): Promise<string | null> {
    const raw = token.length <= 256 ? await this.cache.get(`refresh:${digest(token)}`) : null;
    if (raw === null) return null;
    const record = JSON.parse(raw) as TokenRecord;
    await this.cache.set(`refresh-family:${record.family}`, 'revoked', this.ttl);
    return record.username;
  }

  /** Ends every family of `username`. */
  async revokeUser(username: string): Promise<void> {
    await this.cache.incr(`refresh-gen:${username}`);
  }

  private async live(record: TokenRecord): Promise<boolean> {
    const [state, generation] = await Promise.all([this.cache.get(`refresh-family:${record.family}`), this.cache.get(`refresh-gen:${record.username}`)]);
    return state === 'active' && Number(generation ?? 0) === record.generation;
  }

  private async mint(record: TokenRecord): Promise<string> {
    const token = `pmr_${randomBytes(32).toString('base64url')}`;
    await this.cache.set(`refresh:${digest(token)}`, JSON.stringify(record), this.ttl);
    this.counters.issued += 1;
    return token;
  }
}
