/**
 * Cache, token store and live-event fan-out behind one interface: Redis (ioredis) when
 * redis.url / REDIS_URL is set, process memory otherwise. Values are strings (JSON is the
 * caller's business). Keys and channels are namespaced by `keyPrefix` (default `pcapmesh:`).
 *
 * Contract, identical on both:
 * - `set(key, value, ttlSeconds?)` replaces the value; a TTL makes it vanish after that time.
 * - `incr(key, ttlSeconds?)` adds 1 (a missing key counts from 0); the TTL is set only when the
 *   key is created, so a counter window does not slide (rate limits).
 * - `publish`/`subscribe` deliver asynchronously to every subscriber of the channel (in this
 *   process for memory, in every connected process for Redis); `subscribe` resolves once the
 *   subscription is active and returns the function that removes it.
 *
 * @example
 *   const cache = await openCache({ url: process.env.REDIS_URL });
 *   await cache.set('session:abc', JSON.stringify(s), 3600);
 *   const off = await cache.subscribe('events', (m) => console.log(m));
 */
export interface CacheStore {
  readonly kind: 'memory' | 'redis';
  get(key: string): Promise<string | null>;
  set(key: string, value: string, ttlSeconds?: number): Promise<void>;
  /** True when the key existed. */
  del(key: string): Promise<boolean>;
  incr(key: string, ttlSeconds?: number): Promise<number>;
  publish(channel: string, message: string): Promise<void>;
  subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>>;
  ping(): Promise<void>;
  /** Closes connections and drops subscriptions. Idempotent. */
  close(): Promise<void>;
}

export interface OpenCacheOptions {
  /** redis:// or rediss:// URL; undefined → memory. */
  url?: string | undefined;
  /** Namespace of keys and channels. Default 'pcapmesh:'. */
  keyPrefix?: string;
}

export const DEFAULT_KEY_PREFIX = 'pcapmesh:';

/** Opens the store `opts` point to; a Redis that does not answer is an error naming the URL (no password). */
export async function openCache(opts: OpenCacheOptions = {}): Promise<CacheStore> {
  const keyPrefix = opts.keyPrefix ?? DEFAULT_KEY_PREFIX;
  if (opts.url === undefined || opts.url === '') {
    const { MemoryCache } = await import('./memory.js');
    return new MemoryCache(keyPrefix);
  }
  const { openRedisCache } = await import('./redis.js');
  return openRedisCache(opts.url, keyPrefix);
}

/** Calls a subscriber; what it throws is reported on stderr and never reaches the store. */
export function deliver(handler: (message: string) => void, channel: string, message: string): void {
  try {
    handler(message);
  } catch (err) {
    console.error(`cache subscriber of ${channel} failed:`, err);
  }
}

/** Checks a TTL argument (whole seconds ≥ 1). */
export function checkTtl(ttlSeconds: number | undefined): void {
  if (ttlSeconds !== undefined && (!Number.isInteger(ttlSeconds) || ttlSeconds < 1)) {
    throw new Error(`cache TTL must be a whole number of seconds ≥ 1, got ${ttlSeconds}`);
  }
}
