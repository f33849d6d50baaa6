/**
 * Duplicate detection for merge: "the same packet seen by two sensors". A packet is a duplicate
 * when an earlier packet from ANOTHER input, at most `windowNs` before it, has the same original
 * length and byte-identical captured data.
 *
 * Memory is bounded by the traffic inside the window, not by input size, and the hot path
 * allocates nothing: the packets of the window live in a ring of typed arrays (their bytes in
 * a circular byte arena), found through a bucket table of hash chains. Packets must be offered
 * in time order (merge output order).
 */
import type { PacketView } from './types.js';

/** Bytes of each packet hashed (the rest is compared only on a hash hit). */
const HASHED_PREFIX = 128;
const INITIAL_ENTRIES = 1024;
const INITIAL_ARENA = 4 * 1024 * 1024;

export class DuplicateFilter {
  // Entry ring, indexed by virtual index v (monotonic) at slot v & (capacity - 1).
  private capacity = INITIAL_ENTRIES;
  private sec = new Float64Array(INITIAL_ENTRIES);
  private nsec = new Int32Array(INITIAL_ENTRIES);
  private input = new Int32Array(INITIAL_ENTRIES);
  private hash = new Int32Array(INITIAL_ENTRIES);
  private origLen = new Int32Array(INITIAL_ENTRIES);
  private length = new Int32Array(INITIAL_ENTRIES);
  /** Virtual arena offset of the entry's bytes. */
  private dataAt = new Float64Array(INITIAL_ENTRIES);
  /** Previous (older) entry in the same bucket, or -1. */
  private chain = new Float64Array(INITIAL_ENTRIES);
  /** Oldest live and next free virtual index. */
  private oldest = 0;
  private next = 0;
  // Bucket table: newest virtual index per bucket (or -1); stale values are older than `oldest`.
  private buckets = new Float64Array(4096).fill(-1);
  // Byte arena: virtual offsets, physical = virtual % arena.length; live bytes [arenaTail, arenaHead).
  private arena = new Uint8Array(INITIAL_ARENA);
  private arenaHead = 0;
  private arenaTail = 0;

  constructor(private readonly windowNs: number) {}

  /** True when `packet` duplicates a recent packet of another input; otherwise remembers it. */
  isDuplicate(packet: PacketView, input: number): boolean {
    this.evictBefore(packet.sec, packet.nsec);
    const data = packet.data;
    const h = hashPacket(data, packet.origLen);
    const mask = this.capacity - 1;
    for (let v = this.buckets[h & (this.buckets.length - 1)] as number; v >= this.oldest; v = this.chain[v & mask] as number) {
      const s = v & mask;
      if (
        this.hash[s] === h &&
        this.input[s] !== input &&
        this.origLen[s] === packet.origLen &&
        this.length[s] === data.length &&
        this.sameBytes(this.dataAt[s] as number, data)
      ) {
        return true;
      }
    }
    this.remember(packet, input, h);
    return false;
  }

  /** Packets remembered right now (for tests and counters). */
  get size(): number {
    return this.next - this.oldest;
  }

  private remember(packet: PacketView, input: number, h: number): void {
    const data = packet.data;
    if (this.next - this.oldest === this.capacity) this.growEntries();
    const at = this.store(data);
    const v = this.next++;
    const s = v & (this.capacity - 1);
    this.sec[s] = packet.sec;
    this.nsec[s] = packet.nsec;
    this.input[s] = input;
    this.hash[s] = h;
    this.origLen[s] = packet.origLen;
    this.length[s] = data.length;
    this.dataAt[s] = at;
    const b = h & (this.buckets.length - 1);
    this.chain[s] = this.buckets[b] as number;
    this.buckets[b] = v;
    if (this.size > this.buckets.length) this.growBuckets();
  }

  /** Copies `data` into the arena (growing it when the window holds more bytes); returns its virtual offset. */
  private store(data: Uint8Array): number {
    let size = this.arena.length;
    let phys = this.arenaHead % size;
    // A packet never wraps: skip the arena's end when it does not fit there.
    let pad = phys + data.length > size ? size - phys : 0;
    if (this.arenaHead + pad + data.length - this.arenaTail > size) {
      this.growArena(data.length);
      size = this.arena.length;
      phys = this.arenaHead % size;
      pad = phys + data.length > size ? size - phys : 0;
    }
    const at = this.arenaHead + pad;
    this.arena.set(data, at % size);
    this.arenaHead = at + data.length;
    return at;
  }

  private sameBytes(at: number, data: Uint8Array): boolean {
    const arena = this.arena;
    const from = at % arena.length;
    for (let i = 0; i < data.length; i++) if (arena[from + i] !== data[i]) return false;
    return true;
  }

  private evictBefore(sec: number, nsec: number): void {
    const mask = this.capacity - 1;
    while (this.oldest < this.next) {
      const s = this.oldest & mask;
      const ageNs = (sec - (this.sec[s] as number)) * 1e9 + (nsec - (this.nsec[s] as number));
      if (ageNs <= this.windowNs) break;
      this.oldest++;
      this.arenaTail = (this.dataAt[s] as number) + (this.length[s] as number);
    }
    if (this.oldest === this.next) this.arenaTail = this.arenaHead;
  }

  /** Doubles the entry ring, keeping live entries at their virtual indices. */
  private growEntries(): void {
    const old = this.capacity;
    const cap = old * 2;
    const move = <T extends Float64Array | Int32Array>(from: T, make: (n: number) => T): T => {
      const to = make(cap);
      for (let v = this.oldest; v < this.next; v++) to[v & (cap - 1)] = from[v & (old - 1)] as number;
      return to;
    };
    const f64 = (n: number) => new Float64Array(n);
    const i32 = (n: number) => new Int32Array(n);
    this.sec = move(this.sec, f64);
    this.nsec = move(this.nsec, i32);
    this.input = move(this.input, i32);
    this.hash = move(this.hash, i32);
    this.origLen = move(this.origLen, i32);
    this.length = move(this.length, i32);
    this.dataAt = move(this.dataAt, f64);
    this.chain = move(this.chain, f64);
    this.capacity = cap;
  }

  /** Doubles the bucket table and rebuilds the chains of the live entries. */
  private growBuckets(): void {
    this.buckets = new Float64Array(this.buckets.length * 2).fill(-1);
    const mask = this.capacity - 1;
    for (let v = this.oldest; v < this.next; v++) {
      const s = v & mask;
      const b = (this.hash[s] as number) & (this.buckets.length - 1);
      this.chain[s] = this.buckets[b] as number;
      this.buckets[b] = v;
    }
  }

  /** A bigger arena holding the live bytes at the same virtual offsets. */
  private growArena(need: number): void {
    const old = this.arena;
    let size = old.length * 2;
    while (size < this.arenaHead - this.arenaTail + 2 * need) size *= 2;
    const arena = new Uint8Array(size);
    for (let v = this.arenaTail; v < this.arenaHead;) {
      // Copy run by run (a run ends at the old arena's end).
      const phys = v % old.length;
      const run = Math.min(this.arenaHead - v, old.length - phys);
      for (let i = 0; i < run; i++) arena[(v + i) % size] = old[phys + i] as number;
      v += run;
    }
    this.arena = arena;
  }
}

/** FNV-1a over the original length and the first HASHED_PREFIX captured bytes (signed 32-bit). */
function hashPacket(data: Uint8Array, origLen: number): number {
  let h = 0x811c9dc5 ^ origLen ^ (data.length << 16);
  const n = Math.min(data.length, HASHED_PREFIX);
  for (let i = 0; i < n; i++) h = Math.imul(h ^ (data[i] as number), 0x01000193);
  return h | 0;
}
