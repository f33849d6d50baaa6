/**
 * Space-Saving heavy hitters (Metwally, Agrawal, El Abbadi, 2005) in fixed memory: at most
 * `capacity` keys are tracked; an untracked key evicts the smallest one and inherits its count
 * as possible over-estimate (`error`). Any key whose true weight exceeds total/capacity is
 * guaranteed to be tracked, and `weight - error ≤ true weight ≤ weight`.
 *
 * A binary min-heap ordered by weight keeps updates O(log capacity); each entry knows its heap
 * slot, so the key map is touched only when a key is admitted or evicted, never per heap move.
 *
 * Each entry carries a caller-owned `data` object (made by `make`, cleared by `reset` when its
 * key is evicted) so callers can keep details such as per-direction counts for tracked keys.
 *
 * @example
 * const top = new SpaceSaving<string, { hits: number }>(1000, () => ({ hits: 0 }), (d) => (d.hits = 0));
 * top.add('10.0.0.1', 1514).data.hits++;
 * top.entries(); // [{ key: '10.0.0.1', weight: 1514, error: 0, count: 1, data: { hits: 1 } }]
 */
export interface SketchEntry<K, V> {
  key: K;
  /** Estimated total weight (never below the true weight). */
  weight: number;
  /** How much of `weight` may belong to evicted keys. */
  error: number;
  /** Items counted for this key since it was (last) admitted. */
  count: number;
  data: V;
}

/** An entry with its slot in the heap array. */
interface Slot<K, V> extends SketchEntry<K, V> {
  at: number;
}

export class SpaceSaving<K, V = undefined> {
  private readonly heap: Slot<K, V>[] = [];
  private readonly index = new Map<K, Slot<K, V>>();

  constructor(
    readonly capacity: number,
    private readonly make: () => V = () => undefined as V,
    private readonly reset: (data: V) => void = () => {},
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new Error(`Space-Saving capacity must be a positive integer, got ${capacity}`);
  }

  /** Adds `weight` to `key` (one item); returns the key's entry (valid until the next add). */
  add(key: K, weight: number): SketchEntry<K, V> {
    const hit = this.index.get(key);
    if (hit !== undefined) {
      hit.weight += weight;
      hit.count++;
      this.down(hit.at);
      return hit;
    }
    if (this.heap.length < this.capacity) {
      const e: Slot<K, V> = { key, weight, error: 0, count: 1, data: this.make(), at: this.heap.length };
      this.heap.push(e);
      this.index.set(key, e);
      this.up(e.at);
      return e;
    }
    const min = this.heap[0]!;
    this.index.delete(min.key);
    min.key = key;
    min.error = min.weight;
    min.weight += weight;
    min.count = 1;
    this.reset(min.data);
    this.index.set(key, min);
    this.down(0);
    return min;
  }

  /** Number of keys tracked. */
  get size(): number {
    return this.heap.length;
  }

  /** Tracked entries, heaviest first. */
  entries(): SketchEntry<K, V>[] {
    return this.heap.map(({ key, weight, error, count, data }) => ({ key, weight, error, count, data })).sort((a, b) => b.weight - a.weight);
  }

  private up(i: number): void {
    const h = this.heap;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (h[parent]!.weight <= h[i]!.weight) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && h[l]!.weight < h[m]!.weight) m = l;
      if (r < h.length && h[r]!.weight < h[m]!.weight) m = r;
      if (m === i) return;
      this.swap(i, m);
      i = m;
    }
  }

  private swap(i: number, j: number): void {
    const h = this.heap;
    const a = h[i]!;
    const b = h[j]!;
    h[i] = b;
    h[j] = a;
    b.at = i;
    a.at = j;
  }
}
