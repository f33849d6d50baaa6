/**
 * Secrets that recently passed the database check, or were read in bulk at start (`preload`), so a
 * sensor connecting does not wait in the database queue behind ingest writes (broker/policy.ts). Holds, per sensor name, the SHA-256 of
 * the secret that verified — never the secret — for `ttlMs` (default 10 min); at most
 * `maxEntries` sensors (the longest-cached dropped first).
 *
 * Contract: `matches(name, secret)` is true only for the exact secret that last verified for that
 * name within the TTL; a wrong secret is never cached and always goes to the database. `forget`
 * drops names (called when the collector disconnects a revoked or rotated sensor); another
 * collector sharing the database that revokes a sensor is seen here within the TTL (ingest's own
 * standing check refuses a revoked sensor's messages within 5 s regardless).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isSha256Hash } from '../domain/accounts/machine-secrets.js';

export interface SecretCacheOptions {
  ttlMs?: number;
  maxEntries?: number;
  now?: () => number;
}

const digest = (secret: string): Buffer => createHash('sha256').update(secret, 'utf8').digest();

export class SecretCache {
  private readonly entries = new Map<string, { digest: Buffer; expiresAt: number }>();
  private readonly ttlMs: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  /** Connects answered from the cache, and ones that went to the database. */
  readonly counters = { hits: 0, misses: 0 };

  constructor(opts: SecretCacheOptions = {}) {
    this.ttlMs = opts.ttlMs ?? 10 * 60_000;
    this.maxEntries = opts.maxEntries ?? 100_000;
    this.now = opts.now ?? Date.now;
  }

  /** True when `secret` is the one that verified for `name` within the TTL (constant-time compare). */
  matches(name: string, secret: string): boolean {
    const entry = this.entries.get(name);
    if (entry === undefined || entry.expiresAt <= this.now()) {
      if (entry !== undefined) this.entries.delete(name);
      this.counters.misses += 1;
      return false;
    }
    const ok = timingSafeEqual(entry.digest, digest(secret));
    if (ok) this.counters.hits += 1;
    else this.counters.misses += 1;
    return ok;
  }

  /** Records that `secret` verified for `name` against the database. */
  remember(name: string, secret: string): void {
    this.put(name, digest(secret));
  }

  private put(name: string, value: Buffer): void {
    this.entries.delete(name);
    this.entries.set(name, { digest: value, expiresAt: this.now() + this.ttlMs });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }

  /**
   * Fills the cache from stored hashes (`sha256:` + hex, the sensors table's form), so CONNECTs right
   * after a start — a whole fleet reconnecting — need no database read. Other forms (legacy argon2)
   * are skipped: those sensors are checked against the database. Returns how many were taken.
   */
  preload(rows: Iterable<{ name: string; secretHash: string }>): number {
    let n = 0;
    for (const { name, secretHash } of rows) {
      if (!isSha256Hash(secretHash)) continue;
      this.put(name, Buffer.from(secretHash.slice('sha256:'.length), 'hex'));
      n += 1;
    }
    return n;
  }

  /** Drops every name `match` accepts; returns how many. */
  forget(match: (name: string) => boolean): number {
    let n = 0;
    for (const name of [...this.entries.keys()]) {
      if (!match(name)) continue;
      this.entries.delete(name);
      n += 1;
    }
    return n;
  }

  get size(): number {
    return this.entries.size;
  }
}
