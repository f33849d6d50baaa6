/**
 * A bounded map with least-recently-used eviction and optional per-entry expiry.
 *
 * Contract:
 * - never holds more than `maxEntries` entries: a `set` that would exceed it first evicts the
 *   least recently used entry (read or written), counted in `evicted`;
 * - an entry whose expiry has passed reads as absent and is removed when met;
 * - `ttlMs` (per entry, else the map's `defaultTtlMs`; undefined = no expiry).
 *
 * @example
 *   const owners = new Lru<string, string | null>({ maxEntries: 10_000, defaultTtlMs: 60_000 });
 *   owners.set('task-1', 'alpha');
 *   owners.get('task-1'); // 'alpha' (and now the most recently used)
 */
export interface LruOptions {
  maxEntries: number;
  defaultTtlMs?: number;
  now?: () => number;
}

interface Slot<V> {
  value: V;
  /** ms since the epoch; undefined: never. */
  expiresAt: number | undefined;
}

export class Lru<K, V> {
  private readonly slots = new Map<K, Slot<V>>();
  private readonly maxEntries: number;
  private readonly defaultTtlMs: number | undefined;
  private readonly now: () => number;
  /** Entries dropped to keep the cap. */
  evicted = 0;

  constructor(opts: LruOptions) {
    if (!Number.isInteger(opts.maxEntries) || opts.maxEntries < 1) throw new Error(`Lru: maxEntries must be a positive integer, got ${opts.maxEntries}`);
    this.maxEntries = opts.maxEntries;
    this.defaultTtlMs = opts.defaultTtlMs;
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.slots.size;
  }

  /** The live entry (marked most recently used), else undefined. */
  get(key: K): V | undefined {
    const slot = this.live(key);
    if (slot === undefined) return undefined;
    this.slots.delete(key);
    this.slots.set(key, slot);
    return slot.value;
  }

  /** Like get, but without changing the order or extending anything. */
  peek(key: K): V | undefined {
    return this.live(key)?.value;
  }

  /** Remaining life of the entry in ms; undefined when absent or without expiry. */
  ttlOf(key: K): number | undefined {
    const slot = this.live(key);
    return slot?.expiresAt === undefined ? undefined : slot.expiresAt - this.now();
  }

  set(key: K, value: V, ttlMs: number | undefined = this.defaultTtlMs): void {
    this.slots.delete(key);
    while (this.slots.size >= this.maxEntries) {
      const oldest = this.slots.keys().next();
      if (oldest.done === true) break;
      this.slots.delete(oldest.value);
      this.evicted += 1;
    }
    this.slots.set(key, { value, expiresAt: ttlMs === undefined ? undefined : this.now() + ttlMs });
  }

  delete(key: K): boolean {
    const existed = this.live(key) !== undefined;
    this.slots.delete(key);
    return existed;
  }

  clear(): void {
    this.slots.clear();
  }

  /** Removes every expired entry (callers with many short-lived keys sweep now and then). */
  sweep(): void {
    const now = this.now();
    for (const [key, slot] of this.slots) if (slot.expiresAt !== undefined && slot.expiresAt <= now) this.slots.delete(key);
  }

  private live(key: K): Slot<V> | undefined {
    const slot = this.slots.get(key);
    if (slot !== undefined && slot.expiresAt !== undefined && slot.expiresAt <= this.now()) {
      this.slots.delete(key);
      return undefined;
    }
    return slot;
  }
}
