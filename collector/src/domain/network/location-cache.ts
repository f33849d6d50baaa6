/**
 * The location cache: the subnet map and the per-location totals (the default window of
 * `GET /network/locations`) kept in the cache store — Redis when configured, so every collector
 * shares them, process memory otherwise — for `network.cacheSeconds`.
 *
 * Contract:
 * - `get(key, load)` answers the cached JSON when present AND loaded under the current version,
 *   else runs `load`, stores its answer tagged with the version read BEFORE `load` ran, and returns it.
 * - Read-your-write: every change of the map or of a location bumps the version (storage:
 *   `network_cache_version`, sql/0017) in its transaction or right after its commit, before the
 *   change's caller gets its answer. A `get` that starts after that reads the new version, so it
 *   accepts no entry loaded before the change — not even one a slower reader (or another collector)
 *   stored after the change's invalidation: that entry carries the old version.
 * - Keys carry the database's scope (a random token per database and its name), so collectors of
 *   different databases that share one Redis never read each other's entries.
 * - `invalidate()` drops this database's entries (tidiness: the version already makes them stale);
 *   `clear()` does the same for an admin and says how many entries were there.
 */
import type { CacheStore } from '../../cache/store.js';

export const CACHE_KEYS = { subnets: 'network:subnets', locations: 'network:locations' } as const;
export type CacheKey = (typeof CACHE_KEYS)[keyof typeof CACHE_KEYS];

/** The version entries are valid for (storage/network-map.repo.ts cacheVersion). */
export interface CacheVersionSource {
  (): Promise<{ scope: string; generation: string }>;
}

interface Entry {
  generation: string;
  value: unknown;
}

export class LocationCache {
  constructor(
    private readonly cache: Pick<CacheStore, 'get' | 'set' | 'del'>,
    private readonly ttlSeconds: number,
    private readonly version: CacheVersionSource,
  ) {}

  async get<T>(key: CacheKey, load: () => Promise<T>): Promise<T> {
    const { scope, generation } = await this.version();
    const hit = await this.entry(key, scope);
    if (hit !== null && hit.generation === generation) return hit.value as T;
    const value = await load();
    await this.cache.set(keyOf(key, scope), JSON.stringify({ generation, value } satisfies Entry), this.ttlSeconds);
    return value;
  }

  /** True when the entry is cached and current now (tests, admin views). */
  async has(key: CacheKey): Promise<boolean> {
    const { scope, generation } = await this.version();
    return (await this.entry(key, scope))?.generation === generation;
  }

  /** Drops this database's entries; returns how many there were. */
  async clear(): Promise<number> {
    const { scope } = await this.version();
    let n = 0;
    for (const key of Object.values(CACHE_KEYS)) if (await this.cache.del(keyOf(key, scope))) n += 1;
    return n;
  }

  async invalidate(): Promise<void> {
    await this.clear();
  }

  private async entry(key: CacheKey, scope: string): Promise<Entry | null> {
    const raw = await this.cache.get(keyOf(key, scope));
    if (raw === null) return null;
    const parsed = JSON.parse(raw) as Partial<Entry>;
    // An entry of another shape (written by an older collector) is a miss.
    return typeof parsed.generation === 'string' && 'value' in parsed ? (parsed as Entry) : null;
  }
}

function keyOf(key: CacheKey, scope: string): string {
  return `${key}:${scope}`;
}
