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
 *   absolute lifetime, after which the user logs in again. Every key of a family expires with it.
 *
 * Bounds (so a refresh loop or a login loop cannot grow the store without bound):
 * - a family keeps the records of its last `chainLength` tokens (default 16): rotating drops the
 *   oldest, and presenting a token that old reads as 'unknown' (refused, without revoking the
 *   family — reuse is detected within the last `chainLength` rotations);
 * - a user keeps at most `familiesPerUser` families (default 50, i.e. 50 signed-in browsers): a
 *   new login beyond that ends the oldest family. The lists are read-modify-write, so two logins
 *   of one user at the same instant may both be kept past the bound once; the next login trims.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { CacheStore } from '../../cache/store.js';

interface TokenRecord {
  family: string;
  username: string;
  /** The user's generation when the family started (revokeUser raises it). */
  generation: number;
  /** When the family ends, ms since the epoch (absent in records written before the bound). */
  endsAt?: number;
}

export interface RefreshTokenBounds {
  /** Token records kept per family (the newest). Default 16. */
  chainLength?: number;
  /** Families kept per user (the newest). Default 50. */
  familiesPerUser?: number;
  now?: () => number;
}

export type RotateResult = { ok: true; username: string; token: string } | { ok: false; reason: 'unknown' | 'reused' | 'revoked'; username?: string };

const digest = (token: string) => createHash('sha256').update(token).digest('base64url');

export class RefreshTokens {
  readonly counters = { issued: 0, rotated: 0, reused: 0, refused: 0 };
  private readonly ttl: number;
  private readonly chainLength: number;
  private readonly familiesPerUser: number;
  private readonly now: () => number;

  constructor(
    private readonly cache: CacheStore,
    days: number,
    bounds: RefreshTokenBounds = {},
  ) {
    this.ttl = days * 86_400;
    this.chainLength = bounds.chainLength ?? 16;
    this.familiesPerUser = bounds.familiesPerUser ?? 50;
    this.now = bounds.now ?? Date.now;
  }

  async issue(username: string): Promise<string> {
    const family = randomBytes(16).toString('base64url');
    const generation = Number((await this.cache.get(`refresh-gen:${username}`)) ?? 0);
    const endsAt = this.now() + this.ttl * 1000;
    await this.cache.set(`refresh-family:${family}`, 'active', this.ttl);
    const families = await this.pushBounded(`refresh-families:${username}`, family, this.familiesPerUser, this.ttl);
    for (const old of families) await this.endFamily(old);
    return this.mint({ family, username, generation, endsAt });
  }

  async rotate(token: string): Promise<RotateResult> {
    const key = digest(token);
    const raw = token.length <= 256 ? await this.cache.get(`refresh:${key}`) : null;
    if (raw === null) {
      this.counters.refused += 1;
      return { ok: false, reason: 'unknown' };
    }
    const record = JSON.parse(raw) as TokenRecord;
    const claims = await this.cache.incr(`refresh-used:${key}`, this.remaining(record));
    if (claims > 1) {
      this.counters.reused += 1;
      await this.cache.set(`refresh-family:${record.family}`, 'revoked', this.remaining(record));
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
    await this.cache.set(`refresh-family:${record.family}`, 'revoked', this.remaining(record));
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
    const key = digest(token);
    const ttl = this.remaining(record);
    await this.cache.set(`refresh:${key}`, JSON.stringify(record), ttl);
    for (const old of await this.pushBounded(`refresh-chain:${record.family}`, key, this.chainLength, ttl)) {
      await Promise.all([this.cache.del(`refresh:${old}`), this.cache.del(`refresh-used:${old}`)]);
    }
    this.counters.issued += 1;
    return token;
  }

  /** Seconds until the record's family ends (at least 1). */
  private remaining(record: TokenRecord): number {
    if (record.endsAt === undefined) return this.ttl;
    return Math.max(1, Math.ceil((record.endsAt - this.now()) / 1000));
  }

  /** Appends `item` to the JSON list at `key`, keeps the newest `max`, and returns those dropped. */
  private async pushBounded(key: string, item: string, max: number, ttl: number): Promise<string[]> {
    const raw = await this.cache.get(key);
    const list = raw === null ? [] : (JSON.parse(raw) as string[]);
    list.push(item);
    const dropped = list.length > max ? list.splice(0, list.length - max) : [];
    await this.cache.set(key, JSON.stringify(list), ttl);
    return dropped;
  }

  /** Ends a family pushed out by newer logins: its state (absent = not active) and token records removed. */
  private async endFamily(family: string): Promise<void> {
    await this.cache.del(`refresh-family:${family}`);
    const raw = await this.cache.get(`refresh-chain:${family}`);
    for (const key of raw === null ? [] : (JSON.parse(raw) as string[])) {
      await Promise.all([this.cache.del(`refresh:${key}`), this.cache.del(`refresh-used:${key}`)]);
    }
    await this.cache.del(`refresh-chain:${family}`);
  }
}
