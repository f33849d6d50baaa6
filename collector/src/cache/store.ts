/**
 * Opens the cache: Redis when a URL is given, process memory otherwise. The contract both keep is in
 * store.types.ts (re-exported here); what the two backends share is in backend.ts.
 */
import type { CacheStore } from './store.types.js';

export type { CacheStore };

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
