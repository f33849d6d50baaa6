/**
 * Conversation counters in bounded memory without a string or an object per packet: exact
 * while fewer than `cap` keys were seen, after which new keys go to a Space-Saving sketch of
 * `sketchCapacity` entries (weighted by bytes) whose rows are approximate — the same contract
 * and the same rows, in the same order, as a BoundedTable<Conv> (bounded-table.ts).
 *
 * Keys are looked up in KeyIndex instances made by `index()` (one per key shape, e.g.
 * IPv4 and IPv6 pairs); all of them share the cap and one numbering in arrival order. Exact
 * counters of key number id are the 8 numbers at id × 8 of one Float64Array (LOW_PACKETS …
 * LOW_FIRST below), one 64-byte cache line per conversation instead of one miss per column
 * once the table outgrows the cache; past the cap, ConvSketch keeps the same words.
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
  /** Key number id's counters at id × STRIDE + LOW_PACKETS … LOW_FIRST. */
  private counters: Float64Array;
  /** Keys the counters have room for. */
  private room: number;

  constructor(
    readonly cap: number,
    private readonly sketchCapacity = 10_000,
  ) {
    if (!(Number.isInteger(sketchCapacity) && sketchCapacity > 0)) throw new Error(`Space-Saving capacity must be a positive integer, got ${sketchCapacity}`);
    this.room = Math.max(16, Math.min(cap, 1024));
    this.counters = new Float64Array(this.room * STRIDE);
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
      if (id >= this.room) this.grow();
      index.set(h, id);
      const at = id * STRIDE;
      const c = this.counters;
      c[at + LOW_FIRST] = side === 0 ? 1 : 0;
      c[at + FIRST] = time;
      c[at + LAST] = time;
      c[at + side * 2] = 1;
      c[at + side * 2 + 1] = len;
      return;
    }
    const c = this.counters;
    const at = id * STRIDE;
    if (time < c[at + FIRST]!) c[at + FIRST] = time;
    if (time > c[at + LAST]!) c[at + LAST] = time;
    // side 0: LOW_PACKETS/LOW_BYTES, side 1: HIGH_PACKETS/HIGH_BYTES.
    const p = at + side * 2;
    c[p] = c[p]! + 1;
    c[p + 1] = c[p + 1]! + len;
  }

  /** Every exact row in arrival order, then every sketch row (heaviest first). */
  *rows(): Generator<TableRow<Conv>> {
    const keys = new Array<string>(this.size);
    for (const index of this.indexes) for (let e = 0; e < index.size; e++) keys[index.value(e)] = index.keyString(e);
    const c = this.counters;
    for (let id = 0; id < this.size; id++) {
      const at = id * STRIDE;
      const value: Conv = {
        lowFirst: c[at + LOW_FIRST] === 1,
        lowPackets: c[at + LOW_PACKETS]!,
        lowBytes: c[at + LOW_BYTES]!,
        highPackets: c[at + HIGH_PACKETS]!,
        highBytes: c[at + HIGH_BYTES]!,
        first: c[at + FIRST]!,
        last: c[at + LAST]!,
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
    this.room = Math.min(this.cap, this.room * 2);
    const counters = new Float64Array(this.room * STRIDE);
    counters.set(this.counters);
    this.counters = counters;
  }
}

/** Offsets of one key's counters; packets/bytes of side s at 2s/2s+1 (count relies on it). */
const LOW_PACKETS = 0;
const LOW_BYTES = 1;
const HIGH_PACKETS = 2;
const HIGH_BYTES = 3;
const FIRST = 4;
const LAST = 5;
/** 1 when the lower endpoint sent first. */
const LOW_FIRST = 6;
/** Numbers per key (one 64-byte cache line). */
const STRIDE = 8;
