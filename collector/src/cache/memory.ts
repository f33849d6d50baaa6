/**
 * The in-process CacheStore (no Redis configured). See store.types.ts for the contract.
 *
 * Bounded: at most `maxEntries` keys (default 100,000); a write beyond that evicts the least
 * recently used key (counted in `evicted`), and expired keys go when met and in a sweep every
 * 1,000 writes — so a flood of keys (login attempts from many addresses, a refresh loop) cannot
 * grow the heap without bound. An evicted key reads as absent: a rate-limit counter restarts, a
 * refresh token must be replaced by a new login.
 */
import { Lru } from '@pcapmesh/shared/util/lru';
import { checkTtl, deliver } from './backend.js';
import type { CacheStore } from './store.types.js';

/** Expired entries are removed when read, and by a sweep every this many writes. */
const SWEEP_EVERY_WRITES = 1000;

/** Default bound of keys held. */
export const MEMORY_CACHE_MAX_ENTRIES = 100_000;

export class MemoryCache implements CacheStore {
  readonly kind = 'memory' as const;
  private readonly entries: Lru<string, string>;
  private readonly channels = new Map<string, Set<(message: string) => void>>();
  private writes = 0;
  private closed = false;

  constructor(
    private readonly keyPrefix: string,
    now: () => number = Date.now,
    maxEntries: number = MEMORY_CACHE_MAX_ENTRIES,
  ) {
    this.entries = new Lru({ maxEntries, now });
  }

  /** Keys held now (expired ones not yet met included). */
  get size(): number {
    return this.entries.size;
  }

  /** Keys evicted to keep the bound. */
  get evicted(): number {
    return this.entries.evicted;
  }

  async get(key: string): Promise<string | null> {
    this.check();
    return this.entries.get(this.keyPrefix + key) ?? null;
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    this.check();
    checkTtl(ttlSeconds);
    this.write(this.keyPrefix + key, value, ttlSeconds === undefined ? undefined : ttlSeconds * 1000);
  }

  async del(key: string): Promise<boolean> {
    this.check();
    return this.entries.delete(this.keyPrefix + key);
  }

  async incr(key: string, ttlSeconds?: number): Promise<number> {
    this.check();
    checkTtl(ttlSeconds);
    const full = this.keyPrefix + key;
    const current = this.entries.get(full);
    const n = current === undefined ? 0 : Number(current);
    if (!Number.isSafeInteger(n) || (current !== undefined && !/^-?\d+$/.test(current))) {
      throw new Error(`cache key ${key} does not hold an integer`);
    }
    // The TTL is set only when the key is created: an existing key keeps what remains of its own.
    const ttlMs = current !== undefined ? this.entries.ttlOf(full) : ttlSeconds === undefined ? undefined : ttlSeconds * 1000;
    this.write(full, String(n + 1), ttlMs);
    return n + 1;
  }

  async publish(channel: string, message: string): Promise<void> {
    this.check();
    const handlers = [...(this.channels.get(this.keyPrefix + channel) ?? [])];
    if (handlers.length === 0) return;
    setImmediate(() => {
      for (const handler of handlers) deliver(handler, channel, message);
    });
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    this.check();
    const full = this.keyPrefix + channel;
    let set = this.channels.get(full);
    if (!set) this.channels.set(full, (set = new Set()));
    const own = (m: string) => handler(m); // a distinct function per subscription, so one handler may subscribe twice
    set.add(own);
    return async () => {
      set.delete(own);
    };
  }

  async ping(): Promise<void> {
    this.check();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.entries.clear();
    this.channels.clear();
  }

  private write(full: string, value: string, ttlMs: number | undefined): void {
    this.entries.set(full, value, ttlMs);
    if (++this.writes % SWEEP_EVERY_WRITES === 0) this.entries.sweep();
  }

  private check(): void {
    if (this.closed) throw new Error('cache is closed');
  }
}
