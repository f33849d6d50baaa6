/**
 * A keyed table with bounded memory: exact while it holds fewer than `cap` keys, after which
 * new keys go to a Space-Saving sketch of `sketchCapacity` entries (weighted by bytes) whose
 * rows are reported as approximate. Totals of keys admitted before the cap stay exact.
 */
import { SpaceSaving } from './space-saving.js';
import { topRows } from './top.js';

export interface TableRow<V> {
  key: string;
  value: V;
  /** True for rows from the sketch (counts may include evicted keys' weight). */
  approximate: boolean;
}

export class BoundedTable<V> {
  private readonly exact = new Map<string, V>();
  private readonly sketch: SpaceSaving<string, V>;
  /** Items that arrived for keys outside the exact table. */
  overflowItems = 0;

  constructor(
    readonly cap: number,
    private readonly make: () => V,
    reset: (value: V) => void,
    sketchCapacity = 10_000,
  ) {
    this.sketch = new SpaceSaving<string, V>(sketchCapacity, make, reset);
  }

  /**
   * The value for `key`, created blank when new; `weight` ranks sketch entries. A blank value
   * (from `make`, or reset after an eviction) is the caller's cue to initialise it.
   */
  touch(key: string, weight: number): V {
    const hit = this.exact.get(key);
    if (hit !== undefined) return hit;
    if (this.exact.size < this.cap) {
      const v = this.make();
      this.exact.set(key, v);
      return v;
    }
    this.overflowItems++;
    return this.sketch.add(key, weight).data;
  }

  /** True when `key` is in the exact table (its value object then stays the key's for good). */
  holdsExactly(key: string): boolean {
    return this.exact.has(key);
  }

  /** Exact keys held. */
  get size(): number {
    return this.exact.size;
  }

  /** True once a key arrived that the exact table had no room for. */
  get capped(): boolean {
    return this.overflowItems > 0;
  }

  /** Every exact row, then every sketch row. */
  *rows(): Generator<TableRow<V>> {
    for (const [key, value] of this.exact) yield { key, value, approximate: false };
    for (const e of this.sketch.entries()) yield { key: e.key, value: e.data, approximate: true };
  }

  /** The `n` rows with the largest `score`, largest first. */
  top(n: number, score: (v: V) => number): TableRow<V>[] {
    return topRows(
      [...this.rows()],
      n,
      (r) => score(r.value),
      (r) => r.key,
    );
  }
}
