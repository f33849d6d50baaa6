/**
 * Conversation counters in bounded memory without a string or an object per packet: exact
 * while fewer than `cap` keys were seen, after which new keys go to a Space-Saving sketch of
 * `sketchCapacity` entries (weighted by bytes) whose rows are approximate — the same contract
 * and the same rows, in the same order, as a BoundedTable<Conv> (bounded-table.ts).
 *
 * Keys are looked up in KeyIndex instances made by `index()` (one per key shape, e.g.
 * IPv4 and IPv6 pairs); all of them share the cap and one numbering in arrival order. Exact
 * counters are columns indexed by that number; past the cap, ConvSketch keeps the same words.
 * A key becomes a string only when rows are read.
 */
import { ConvSketch } from './conv-sketch.js';
import { KeyIndex } from './key-index.js';
import type { TableRow } from './bounded-table.js';
import { topRows } from './top.js';

/** One conversation as the report code reads it (see conversations.ts). */
export interface Conv {
  /** True when the lower endpoint of the key sent the first packet (it is side A). */
  lowFirst: boolean;
  /** Packets/bytes sent by the lower and by the higher endpoint of the key. */
  lowPackets: number;
  lowBytes: number;
  highPackets: number;
  highBytes: number;
  first: number;
  last: number;
}

export class ConvStore {
  /** Exact keys held (over every index). */
  size = 0;
  /** Packets that arrived for keys outside the exact table. */
  overflowItems = 0;
  /** Made at the first key past the cap. */
  private sketch: ConvSketch | null = null;
  private readonly indexes: KeyIndex[] = [];
  private lowFirst: Uint8Array;
  private lowPackets: Float64Array;
  private lowBytes: Float64Array;
  private highPackets: Float64Array;
  private highBytes: Float64Array;
  private first: Float64Array;
  private last: Float64Array;

  constructor(
    readonly cap: number,
    private readonly sketchCapacity = 10_000,
  ) {
    if (!(Number.isInteger(sketchCapacity) && sketchCapacity > 0)) throw new Error(`Space-Saving capacity must be a positive integer, got ${sketchCapacity}`);
    const n = Math.max(16, Math.min(cap, 1024));
    this.lowFirst = new Uint8Array(n);
    this.lowPackets = new Float64Array(n);
    this.lowBytes = new Float64Array(n);
    this.highPackets = new Float64Array(n);
    this.highBytes = new Float64Array(n);
    this.first = new Float64Array(n);
    this.last = new Float64Array(n);
  }

  /** A new key index (see KeyIndex) whose keys count in this store. */
  index(width: number, stringUnits?: number): KeyIndex {
    const index = new KeyIndex(width, stringUnits);
    this.indexes.push(index);
    return index;
  }

  /** True once a key arrived that the exact table had no room for. */
  get capped(): boolean {
    return this.overflowItems > 0;
  }

  /**
   * Counts a packet of `len` wire bytes at `time` for the key written in `index.key`; `side`
   * 0 when the key's lower endpoint sent it, 1 for the higher one.
   */
  count(index: KeyIndex, side: number, len: number, time: number): void {
    const h = index.hash();
    let id = index.get(h);
    if (id < 0) {
      if (this.size >= this.cap) {
        this.overflowItems++;
        this.countSketch(index, h, side, len, time);
        return;
      }
      id = this.size++;
      if (id >= this.first.length) this.grow();
      index.set(h, id);
      this.lowFirst[id] = side === 0 ? 1 : 0;
      this.first[id] = time;
      this.last[id] = time;
    } else {
      if (time < this.first[id]!) this.first[id] = time;
      if (time > this.last[id]!) this.last[id] = time;
    }
    if (side === 0) {
      this.lowPackets[id] = this.lowPackets[id]! + 1;
      this.lowBytes[id] = this.lowBytes[id]! + len;
    } else {
      this.highPackets[id] = this.highPackets[id]! + 1;
      this.highBytes[id] = this.highBytes[id]! + len;
    }
  }

  /** Every exact row in arrival order, then every sketch row (heaviest first). */
  *rows(): Generator<TableRow<Conv>> {
    const keys = new Array<string>(this.size);
    for (const index of this.indexes) for (let e = 0; e < index.size; e++) keys[index.value(e)] = index.keyString(e);
    for (let id = 0; id < this.size; id++) {
      const value: Conv = {
        lowFirst: this.lowFirst[id] === 1,
        lowPackets: this.lowPackets[id]!,
        lowBytes: this.lowBytes[id]!,
        highPackets: this.highPackets[id]!,
        highBytes: this.highBytes[id]!,
        first: this.first[id]!,
        last: this.last[id]!,
      };
      yield { key: keys[id]!, value, approximate: false };
    }
    const sk = this.sketch;
    if (sk === null) return;
    for (const e of sk.entries()) {
      const value: Conv = {
        lowFirst: sk.lowFirst[e] === 1,
        lowPackets: sk.lowPackets[e]!,
        lowBytes: sk.lowBytes[e]!,
        highPackets: sk.highPackets[e]!,
        highBytes: sk.highBytes[e]!,
        first: sk.first[e]!,
        last: sk.last[e]!,
      };
      yield { key: sk.keyString(e), value, approximate: true };
    }
  }

  /** The `n` rows with the largest `score`, largest first (ties: key order). */
  top(n: number, score: (v: Conv) => number): TableRow<Conv>[] {
    return topRows(
      [...this.rows()],
      n,
      (r) => score(r.value),
      (r) => r.key,
    );
  }

  /** Counts a packet for a key past the cap in the sketch (a new or taken-over entry is blank). */
  private countSketch(index: KeyIndex, h: number, side: number, len: number, time: number): void {
    const sk = (this.sketch ??= new ConvSketch(this.sketchCapacity, Math.max(...this.indexes.map((i) => i.width))));
    const e = sk.add(index, h, len);
    if (sk.lowPackets[e]! + sk.highPackets[e]! === 0) sk.lowFirst[e] = side === 0 ? 1 : 0;
    if (side === 0) {
      sk.lowPackets[e] = sk.lowPackets[e]! + 1;
      sk.lowBytes[e] = sk.lowBytes[e]! + len;
    } else {
      sk.highPackets[e] = sk.highPackets[e]! + 1;
      sk.highBytes[e] = sk.highBytes[e]! + len;
    }
    if (time < sk.first[e]!) sk.first[e] = time;
    if (time > sk.last[e]!) sk.last[e] = time;
  }

  private grow(): void {
    const n = Math.min(this.cap, this.first.length * 2);
    const more = <T extends Float64Array | Uint8Array>(a: T, make: (n: number) => T): T => {
      const b = make(n);
      b.set(a);
      return b;
    };
    const f64 = (k: number): Float64Array => new Float64Array(k);
    this.lowFirst = more(this.lowFirst, (k) => new Uint8Array(k));
    this.lowPackets = more(this.lowPackets, f64);
    this.lowBytes = more(this.lowBytes, f64);
    this.highPackets = more(this.highPackets, f64);
    this.highBytes = more(this.highBytes, f64);
    this.first = more(this.first, f64);
    this.last = more(this.last, f64);
  }
}
