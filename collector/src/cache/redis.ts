/** The Redis CacheStore (ioredis). See store.types.ts for the contract. */
import { Redis } from 'ioredis';
import { redactUrl } from '../log.js';
import { checkTtl, deliver } from './backend.js';
import type { CacheStore } from './store.types.js';

export async function openRedisCache(url: string, keyPrefix: string): Promise<CacheStore> {
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 3, enableAutoPipelining: true });
  client.on('error', () => undefined); // reconnects on its own; commands report failures to callers
  try {
    await client.connect();
    await client.ping();
  } catch (err) {
    client.disconnect();
    throw new Error(`cannot connect to Redis at ${redactUrl(url)}: ${(err as Error).message}`, { cause: err });
  }
  return new RedisCache(client, keyPrefix);
}

class RedisCache implements CacheStore {
  readonly kind = 'redis' as const;
  private subscriber: Redis | undefined;
  private readonly handlers = new Map<string, Set<(message: string) => void>>();
  private closing: Promise<void> | undefined;

  constructor(
    private readonly client: Redis,
    private readonly keyPrefix: string,
  ) {}

  get(key: string): Promise<string | null> {
    return this.client.get(this.keyPrefix + key);
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    checkTtl(ttlSeconds);
    if (ttlSeconds === undefined) await this.client.set(this.keyPrefix + key, value);
    else await this.client.set(this.keyPrefix + key, value, 'EX', ttlSeconds);
  }

  async del(key: string): Promise<boolean> {
    return (await this.client.del(this.keyPrefix + key)) === 1;
  }

  async incr(key: string, ttlSeconds?: number): Promise<number> {
    checkTtl(ttlSeconds);
    const full = this.keyPrefix + key;
    if (ttlSeconds === undefined) return this.client.incr(full);
    // Create with the TTL if missing (NX), then count: the window does not slide.
    const result = await this.client.multi().set(full, '0', 'EX', ttlSeconds, 'NX').incr(full).exec();
    const failed = result?.find(([err]) => err);
    if (!result || failed) throw new Error(`cache incr of ${key} failed`, { cause: failed?.[0] });
    return Number(result[1]![1]);
  }

  async publish(channel: string, message: string): Promise<void> {
    await this.client.publish(this.keyPrefix + channel, message);
  }

  async subscribe(channel: string, handler: (message: string) => void): Promise<() => Promise<void>> {
    const full = this.keyPrefix + channel;
    const sub = this.subscriberConnection();
    let set = this.handlers.get(full);
    if (!set) {
      this.handlers.set(full, (set = new Set()));
      await sub.subscribe(full);
    }
    const own = (m: string) => handler(m);
    set.add(own);
    return async () => {
      set.delete(own);
      if (set.size === 0 && this.handlers.get(full) === set) {
        this.handlers.delete(full);
        if (this.subscriber?.status === 'ready') await this.subscriber.unsubscribe(full);
      }
    };
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      this.handlers.clear();
      await Promise.allSettled([this.client.quit(), this.subscriber?.quit()]);
    })();
    return this.closing;
  }

  /** Subscribing puts a Redis connection in subscriber mode: use a second one, created on first use. */
  private subscriberConnection(): Redis {
    if (!this.subscriber) {
      const sub = this.client.duplicate();
      sub.on('error', () => undefined);
      sub.on('message', (channel: string, message: string) => {
        const name = channel.slice(this.keyPrefix.length);
        for (const handler of this.handlers.get(channel) ?? []) deliver(handler, name, message);
      });
      this.subscriber = sub;
    }
    return this.subscriber;
  }
}
