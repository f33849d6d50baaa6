/**
 * The Space-Saving sketch behind a conversation table (see space-saving.ts for the algorithm
 * and its guarantees), for keys of 32-bit words as KeyIndex writes them: no string, Map or
 * object per packet. It makes exactly the moves of SpaceSaving — the same binary min-heap by
 * weight, the same swaps, the same victim — so its rows equal those of a
 * SpaceSaving<string, Conv> fed the same keys; only the bookkeeping is in typed arrays: heap of
 * entry numbers, key words per entry, an open-addressing key map with backward-shift deletion,
 * and the conversation counters as columns.
 */
import type { KeyIndex } from './key-index.js';

export class ConvSketch {
  /** Entries in use. */
  size = 0;
  /** Per entry: conversation counters (read by ConvStore; see Conv in conv-store.ts). */
  readonly lowFirst: Uint8Array;
  readonly lowPackets: Float64Array;
  readonly lowBytes: Float64Array;
  readonly highPackets: Float64Array;
  readonly highBytes: Float64Array;
  readonly first: Float64Array;
  readonly last: Float64Array;
  /** Per entry: estimated weight (bytes), never below the true one. */
  readonly weight: Float64Array;
  /** Heap position → entry, and entry → heap position. */
  private readonly heap: Int32Array;
  private readonly pos: Int32Array;
  /** Per entry: its key's KeyIndex, hash and words (at entry × maxWidth). */
  private readonly owners: (KeyIndex | null)[];
  private readonly hashes: Int32Array;
  private readonly words: Int32Array;
  /** Key map: slot → entry + 1, 0 = empty; at most half full. */
  private readonly slots: Int32Array;
  private readonly mask: number;

  constructor(
    readonly capacity: number,
    private readonly maxWidth: number,
  ) {
    if (!(Number.isInteger(capacity) && capacity > 0)) throw new Error(`Space-Saving capacity must be a positive integer, got ${capacity}`);
    const f64 = (): Float64Array => new Float64Array(capacity);
    this.lowFirst = new Uint8Array(capacity);
    this.lowPackets = f64();
    this.lowBytes = f64();
    this.highPackets = f64();
    this.highBytes = f64();
    this.first = f64();
    this.last = f64();
    this.weight = f64();
    this.heap = new Int32Array(capacity);
    this.pos = new Int32Array(capacity);
    this.owners = new Array<KeyIndex | null>(capacity).fill(null);
    this.hashes = new Int32Array(capacity);
    this.words = new Int32Array(capacity * maxWidth);
    let slots = 1;
    while (slots < 2 * capacity) slots *= 2;
    this.slots = new Int32Array(slots);
    this.mask = slots - 1;
  }

  /**
   * Adds `weight` to the scratch key of `index` (hash `h`) and returns its entry; an entry new
   * to this key (admitted, or taken over from the evicted lightest key) has blank counters.
   */
  add(index: KeyIndex, h: number, weight: number): number {
    let s = h & this.mask;
    for (let e = this.slots[s]! - 1; e >= 0; s = (s + 1) & this.mask, e = this.slots[s]! - 1) {
      if (this.hashes[e] === h && this.owners[e] === index && this.sameKey(e, index.key)) {
        this.weight[e] = this.weight[e]! + weight;
        this.down(this.pos[e]!);
        return e;
      }
    }
    let e: number;
    if (this.size < this.capacity) {
      e = this.size++;
      this.heap[e] = e;
      this.pos[e] = e;
      this.weight[e] = weight;
      this.setKey(e, index, h, s);
      this.blank(e);
      this.up(e);
      return e;
    }
    e = this.heap[0]!;
    this.unmap(e);
    // The free slot found above may have moved with the deletion: look again.
    s = h & this.mask;
    while (this.slots[s] !== 0) s = (s + 1) & this.mask;
    this.setKey(e, index, h, s);
    this.weight[e] = this.weight[e]! + weight;
    this.blank(e);
    this.down(0);
    return e;
  }

  /** Entry numbers, heaviest first (ties in heap order, as SpaceSaving.entries). */
  entries(): number[] {
    const out = Array.from(this.heap.subarray(0, this.size));
    return out.sort((a, b) => this.weight[b]! - this.weight[a]!);
  }

  /** Entry `e`'s key as the string its KeyIndex would give. */
  keyString(e: number): string {
    return this.owners[e]!.wordsString(this.words, e * this.maxWidth);
  }

  private blank(e: number): void {
    this.lowFirst[e] = 1;
    this.lowPackets[e] = this.lowBytes[e] = this.highPackets[e] = this.highBytes[e] = 0;
    this.first[e] = Infinity;
    this.last[e] = -Infinity;
  }

  private sameKey(e: number, key: Int32Array): boolean {
    const at = e * this.maxWidth;
    for (let i = 0; i < key.length; i++) if (this.words[at + i] !== key[i]) return false;
    return true;
  }

  private setKey(e: number, index: KeyIndex, h: number, slot: number): void {
    this.words.set(index.key, e * this.maxWidth);
    this.owners[e] = index;
    this.hashes[e] = h;
    this.slots[slot] = e + 1;
  }

  /** Removes entry `e` from the key map (backward-shift deletion keeps probe chains whole). */
  private unmap(e: number): void {
    const slots = this.slots;
    const mask = this.mask;
    let i = this.hashes[e]! & mask;
    while (slots[i] !== e + 1) i = (i + 1) & mask;
    slots[i] = 0;
    for (let j = (i + 1) & mask; slots[j] !== 0; j = (j + 1) & mask) {
      const home = this.hashes[slots[j]! - 1]! & mask;
      // The entry at j may fill the hole at i unless its home lies cyclically in (i, j].
      const stays = i <= j ? home > i && home <= j : home > i || home <= j;
      if (stays) continue;
      slots[i] = slots[j]!;
      slots[j] = 0;
      i = j;
    }
  }

  private up(i: number): void {
    const h = this.heap;
    const w = this.weight;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (w[h[parent]!]! <= w[h[i]!]!) return;
      this.swap(i, parent);
      i = parent;
    }
  }

  private down(i: number): void {
    const h = this.heap;
    const w = this.weight;
    const n = this.size;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && w[h[l]!]! < w[h[m]!]!) m = l;
      if (r < n && w[h[r]!]! < w[h[m]!]!) m = r;
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
    this.pos[b] = i;
    this.pos[a] = j;
  }
}
