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
