/**
 * A hash index from fixed-length keys of 32-bit words to int values, for the per-packet
 * lookups of the conversation tables: the caller writes the key into `key` (reused, no
 * allocation), then `get` / `set`. No string is built per packet; `keyString` gives the key as
 * a string only when a report is made: each word as two UTF-16 code units (high 16 bits
 * first), cut to `stringUnits` units (so a last word holding `x << 16` ends the string in x).
 *
 * Open addressing with linear probing over a power-of-two slot array kept at most half full.
 * A slot is 4 words — entry + 1 (0 = empty), the key's hash and its value — so a probe reads
 * one cache line and only a matching hash reads the key's words (past ~100k keys the tables
 * do not fit in cache, and each separate array read was a miss). Entries (key words, hash,
 * value) also live in arrays indexed by insertion order that grow by doubling. Keys are
 * never removed.
 *
 * @example
 * const index = new KeyIndex(2);
 * index.key[0] = 0x000a0001;
 * index.key[1] = 0x000a0002;
 * const h = index.hash();
 * if (index.get(h) < 0) index.set(h, 0);
 * index.keyString(0); // '\u000a\u0001\u000a\u0002'
 */
export class KeyIndex {
  /** Scratch key: write its `width` words before calling hash/get/set. */
  readonly key: Int32Array;
  /** Entries held. */
  size = 0;
  /** Words of entry i at [i * width, (i + 1) * width). */
  private keys: Int32Array;
  private hashes: Int32Array;
  private values: Int32Array;
  /** Per slot, SLOT words: entry index + 1 (0 = empty), hash, value, unused. */
  private slots: Int32Array;
  private mask: number;
  /** Slot where the last missed `get` stopped: where `set` puts the key. */
  private freeSlot = -1;
  /** Code units of a key being turned into a string (reused). */
  private readonly units: number[];

  /**
   * @param width words per key
   * @param stringUnits UTF-16 code units of `keyString` (default all: 2 per word)
   */
  constructor(
    readonly width: number,
    readonly stringUnits = 2 * width,
    initialEntries = 256,
  ) {
    if (!(Number.isInteger(width) && width > 0)) throw new Error(`key width must be a positive integer, got ${width}`);
    if (!(Number.isInteger(stringUnits) && stringUnits > 0 && stringUnits <= 2 * width)) {
      throw new Error(`stringUnits must be an integer in 1..${2 * width}, got ${stringUnits}`);
    }
    const entries = Math.max(16, initialEntries);
    this.key = new Int32Array(width);
    this.units = new Array<number>(stringUnits).fill(0);
    this.keys = new Int32Array(entries * width);
    this.hashes = new Int32Array(entries);
    this.values = new Int32Array(entries);
    const slotCount = nextPowerOfTwo(entries * 2);
    this.slots = new Int32Array(slotCount * SLOT);
    this.mask = slotCount - 1;
  }

  /** Hash of the scratch key (a multiply-xorshift step per word, then the murmur3 finaliser). */
  hash(): number {
    const k = this.key;
    let h = this.width;
    for (let i = 0; i < k.length; i++) {
      h = Math.imul(h ^ k[i]!, 0x9e3779b1);
      h ^= h >>> 15;
    }
    h ^= h >>> 16;
    h = Math.imul(h, 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return h ^ (h >>> 16);
  }

  /** The value of the scratch key (whose hash is `h`), or -1 when it is not held. */
  get(h: number): number {
    const slots = this.slots;
    const mask = this.mask;
    for (let s = h & mask; ; s = (s + 1) & mask) {
      const at = s * SLOT;
      const e = slots[at]! - 1;
      if (e < 0) {
        this.freeSlot = s;
        return -1;
      }
      if (slots[at + 1] === h && this.sameKey(e)) return slots[at + 2]!;
    }
  }

  /**
   * Adds the scratch key with `value`; only right after a `get(h)` of the same key returned -1.
   * Returns the new entry's index (entries are numbered in insertion order).
   */
  set(h: number, value: number): number {
    if (this.freeSlot < 0) throw new Error('KeyIndex.set without a missed get before it');
    const e = this.size++;
    if (e * this.width >= this.keys.length) this.growEntries();
    this.keys.set(this.key, e * this.width);
    this.hashes[e] = h;
    this.values[e] = value;
    const at = this.freeSlot * SLOT;
    this.slots[at] = e + 1;
    this.slots[at + 1] = h;
    this.slots[at + 2] = value;
    this.freeSlot = -1;
    if (this.size * 2 > this.mask + 1) this.rehash();
    return e;
  }

  /** The value stored with entry `e`. */
  value(e: number): number {
    return this.values[e]!;
  }

  /** Entry `e`'s key as a string of `stringUnits` UTF-16 code units. */
  keyString(e: number): string {
    return this.wordsString(this.keys, e * this.width);
  }

  /**
   * A key of this index stored elsewhere (at `at` of `words`) as a string: `stringUnits` code
   * units, high half of each word first; one flat string (no rope: report code compares and
   * slices keys).
   */
  wordsString(words: Int32Array, at: number): string {
    const units = this.units;
    for (let i = 0; i < units.length; i++) {
      const w = words[at + (i >> 1)]!;
      units[i] = (i & 1) === 0 ? w >>> 16 : w & 0xffff;
    }
    return String.fromCharCode.apply(null, units);
  }

  private sameKey(e: number): boolean {
    const keys = this.keys;
    const k = this.key;
    const w = this.width;
    const at = e * w;
    for (let i = 0; i < w; i++) if (keys[at + i] !== k[i]) return false;
    return true;
  }

  private growEntries(): void {
    const entries = this.hashes.length * 2;
    const keys = new Int32Array(entries * this.width);
    keys.set(this.keys);
    this.keys = keys;
    const hashes = new Int32Array(entries);
    hashes.set(this.hashes);
    this.hashes = hashes;
    const values = new Int32Array(entries);
    values.set(this.values);
    this.values = values;
  }

  private rehash(): void {
    const slotCount = (this.mask + 1) * 2;
    const slots = new Int32Array(slotCount * SLOT);
    const mask = slotCount - 1;
    for (let e = 0; e < this.size; e++) {
      const h = this.hashes[e]!;
      let s = h & mask;
      while (slots[s * SLOT] !== 0) s = (s + 1) & mask;
      slots[s * SLOT] = e + 1;
      slots[s * SLOT + 1] = h;
      slots[s * SLOT + 2] = this.values[e]!;
    }
    this.slots = slots;
    this.mask = mask;
  }
}

/** Words per slot (a power of two, so slots stay aligned to 16 bytes). */
const SLOT = 4;

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
