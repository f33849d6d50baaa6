/**
 * Run a cache test suite on every CacheStore: memory always, Redis when `PCAPMESH_TEST_REDIS_URL`
 * is set (e.g. redis://127.0.0.1:56379; scripts/services.sh starts one). Each suite gets its own
 * random key prefix, so suites share one Redis without seeing each other's keys or channels.
 * With CI=true and no URL the Redis variant FAILS; elsewhere it is skipped with a message.
 */
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { inCi } from '@pcapmesh/shared/util/testing';
import { openCache, type CacheStore } from '../cache/store.js';

export const TEST_REDIS_URL_ENV = 'PCAPMESH_TEST_REDIS_URL';

export interface CacheContext {
  readonly kind: 'memory' | 'redis';
  /** The suite's store (opened in `before`, closed in `after`). */
  readonly cache: CacheStore;
  /** The URL (undefined for memory) and prefix, to open a second store on the same namespace. */
  readonly url: string | undefined;
  readonly keyPrefix: string;
}

export function forEachCache(name: string, fn: (ctx: CacheContext) => void): void {
  for (const kind of ['memory', 'redis'] as const) {
    const title = `${name} [${kind}]`;
    const url = kind === 'redis' ? process.env[TEST_REDIS_URL_ENV] : undefined;
    if (kind === 'redis' && !url) {
      const missing = `${TEST_REDIS_URL_ENV} is not set (scripts/services.sh starts Redis and prints it)`;
      if (inCi()) {
        test(title, () => {
          throw new Error(`${missing}; CI=true requires Redis`);
        });
      } else {
        test(title, { skip: missing }, () => undefined);
      }
      continue;
    }
    describe(title, () => {
      const keyPrefix = `pcapmesh-test:${process.pid}:${randomBytes(4).toString('hex')}:`;
      let cache: CacheStore | undefined;
      const ctx: CacheContext = {
        kind,
        get cache() {
          if (!cache) throw new Error('the cache is opened in before(): use ctx.cache inside tests');
          return cache;
        },
        url,
        keyPrefix,
      };
      before(async () => {
        cache = await openCache({ url, keyPrefix });
      });
      after(async () => {
        await cache?.close();
      });
      fn(ctx);
    });
  }
}
