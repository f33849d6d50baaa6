/** The in-process CacheStore (no Redis configured). See store.types.ts for the contract. */
import { checkTtl, deliver } from './backend.js';
import type { CacheStore } from './store.types.js';

interface Entry {
  value: string;
  /** ms since the epoch; undefined: no expiry. */
  expiresAt: number | undefined;
}

/** Expired entries are removed when read, and by a sweep every this many writes. */
const SWEEP_EVERY_WRITES = 1000;

export class MemoryCache implements CacheStore {
  readonly kind = 'memory' as const;
  private readonly entries = new Map<string, Entry>();
  private readonly channels = new Map<string, Set<(message: string) => void>>();
  private writes = 0;
  private closed = false;

  constructor(
    private readonly keyPrefix: string,
    private readonly now: () => number = Date.now,
  ) {}

  async get(key: string): Promise<string | null> {
    this.check();
    return this.live(this.keyPrefix + key)?.value ?? null;
  }

  async set(key: string, value: string, ttlSeconds?: number): Promise<void> {
    this.check();
    checkTtl(ttlSeconds);
    this.write(this.keyPrefix + key, { value, expiresAt: ttlSeconds === undefined ? undefined : this.now() + ttlSeconds * 1000 });
  }

  async del(key: string): Promise<boolean> {
    this.check();
    const existed = this.live(this.keyPrefix + key) !== undefined;
    this.entries.delete(this.keyPrefix + key);
    return existed;
  }

  async incr(key: string, ttlSeconds?: number): Promise<number> {
    this.check();
    checkTtl(ttlSeconds);
    const full = this.keyPrefix + key;
    const current = this.live(full);
    const n = current === undefined ? 0 : Number(current.value);
    if (!Number.isSafeInteger(n) || (current !== undefined && !/^-?\d+$/.test(current.value))) {
      throw new Error(`cache key ${key} does not hold an integer`);
    }
    const expiresAt = current ? current.expiresAt : ttlSeconds === undefined ? undefined : this.now() + ttlSeconds * 1000;
    this.write(full, { value: String(n + 1), expiresAt });
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

  private live(full: string): Entry | undefined {
    const e = this.entries.get(full);
    if (e && e.expiresAt !== undefined && e.expiresAt <= this.now()) {
      this.entries.delete(full);
      return undefined;
    }
    return e;
  }

  private write(full: string, entry: Entry): void {
    this.entries.set(full, entry);
    if (++this.writes % SWEEP_EVERY_WRITES === 0) {
      const now = this.now();
      for (const [k, e] of this.entries) if (e.expiresAt !== undefined && e.expiresAt <= now) this.entries.delete(k);
    }
  }

  private check(): void {
    if (this.closed) throw new Error('cache is closed');
  }
}
