/**
 * The location cache: the subnet map and the per-location totals (the default window of
 * `GET /network/locations`) kept in the cache store — Redis when configured, so every collector
 * shares them, process memory otherwise — for `network.cacheSeconds`.
 *
 * Contract: `get(key, load)` answers the cached JSON when present, else runs `load`, stores its
 * answer and returns it. `invalidate()` drops every entry (after the map or a location changed);
 * `clear()` does the same for an admin and says how many entries were there.
 */
import type { CacheStore } from '../../cache/store.js';

export const CACHE_KEYS = { subnets: 'network:subnets', locations: 'network:locations' } as const;
export type CacheKey = (typeof CACHE_KEYS)[keyof typeof CACHE_KEYS];

export class LocationCache {
  constructor(
    private readonly cache: Pick<CacheStore, 'get' | 'set' | 'del'>,
    private readonly ttlSeconds: number,
  ) {}

  async get<T>(key: CacheKey, load: () => Promise<T>): Promise<T> {
    const hit = await this.cache.get(key);
    if (hit !== null) return JSON.parse(hit) as T;
    const value = await load();
    await this.cache.set(key, JSON.stringify(value), this.ttlSeconds);
    return value;
  }

  /** True when the entry is cached now (tests, admin views). */
  async has(key: CacheKey): Promise<boolean> {
    return (await this.cache.get(key)) !== null;
  }

  /** Drops every entry; returns how many there were. */
  async clear(): Promise<number> {
    let n = 0;
    for (const key of Object.values(CACHE_KEYS)) if (await this.cache.del(key)) n += 1;
    return n;
  }

  async invalidate(): Promise<void> {
    await this.clear();
  }
}
