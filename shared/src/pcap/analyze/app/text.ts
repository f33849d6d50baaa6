/**
 * Protocol bytes as display text: printable ASCII kept, anything else (and the backslash) as
 * `\DDD` (like dig). Names are built in NameText, lowercased byte by byte, and turned into a
 * string once; with a cache, a name seen before comes back as the same string without
 * allocating (the analyser meets the same DNS names, SNI and Host values again and again).
 */

/** Turns protocol bytes into display text: printable ASCII kept, anything else as `\DDD` (like dig). */
export function printable(d: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) {
    const c = d[i]!;
    s += c > 0x20 && c < 0x7f && c !== 0x5c ? String.fromCharCode(c) : `\\${c.toString().padStart(3, '0')}`;
  }
  return s;
}

/** Code units per String.fromCharCode call (far below the engine's argument limit). */
const CHUNK = 8192;

/**
 * A name being built from protocol bytes: `reset`, `append*`, then `text()`. Equal to
 * `printable(...)` of the appended ranges joined, lowercased. With `cacheEntries > 0`, up to
 * that many distinct texts (and `cacheBytes` of their bytes) are kept, and `text()` returns the
 * kept string for a text seen before; past either limit new texts are simply not kept.
 *
 * @example
 * const t = new NameText(1024);
 * t.reset();
 * t.appendPrintable(bytes, 10, 21);
 * t.text(); // "example.com"
 */
export class NameText {
  /** The text's bytes; grows for a long one (an SNI can claim 64 KiB). */
  private buf = new Uint8Array(1024);
  private len = 0;
  /** Open-addressing cache: slot → entry + 1. */
  private slots: Int32Array;
  private hashes: Int32Array;
  private starts: Int32Array;
  private lengths: Int32Array;
  private readonly strings: string[] = [];
  private arena: Uint8Array;
  private arenaUsed = 0;

  constructor(
    private readonly cacheEntries = 0,
    private readonly cacheBytes = 1 << 20,
  ) {
    const entries = Math.min(cacheEntries, 1024);
    this.slots = new Int32Array(cacheEntries > 0 ? nextPowerOfTwo(2 * entries) : 0);
    this.hashes = new Int32Array(entries);
    this.starts = new Int32Array(entries);
    this.lengths = new Int32Array(entries);
    this.arena = new Uint8Array(cacheEntries > 0 ? Math.min(cacheBytes, 16 * 1024) : 0);
  }

  /**
   * The cache entry (0, 1, …) of the text the last `text()` returned, or -1 when it is not kept
   * (no cache, or past its limits): callers may key their own per-name data by it.
   */
  lastEntry = -1;

  /** Texts kept in the cache. */
  get kept(): number {
    return this.strings.length;
  }

  reset(): void {
    this.len = 0;
  }

  /** Appends one byte as is (e.g. the '.' between DNS labels). */
  appendByte(c: number): void {
    if (this.len + 1 > this.buf.length) this.grow(1);
    this.buf[this.len++] = c;
  }

  /** Appends d[from, to) in printable form, ASCII letters lowercased. */
  appendPrintable(d: Uint8Array, from: number, to: number): void {
    if (this.len + 4 * (to - from) > this.buf.length) this.grow(4 * (to - from));
    const buf = this.buf;
    let n = this.len;
    for (let i = from; i < to; i++) {
      const c = d[i]!;
      if (c > 0x20 && c < 0x7f && c !== 0x5c) {
        buf[n++] = c >= 0x41 && c <= 0x5a ? c | 0x20 : c;
      } else {
        buf[n++] = 0x5c;
        buf[n++] = 0x30 + ((c / 100) | 0);
        buf[n++] = 0x30 + (((c / 10) | 0) % 10);
        buf[n++] = 0x30 + (c % 10);
      }
    }
    this.len = n;
  }

  /** The text built since `reset`. */
  text(): string {
    this.lastEntry = -1;
    if (this.slots.length === 0) return this.build();
    const buf = this.buf;
    const len = this.len;
    let h = 0x811c9dc5 ^ len;
    for (let i = 0; i < len; i++) h = Math.imul(h ^ buf[i]!, 0x01000193);
    h ^= h >>> 15;
    const mask = this.slots.length - 1;
    let s = h & mask;
    for (let e = this.slots[s]! - 1; e >= 0; s = (s + 1) & mask, e = this.slots[s]! - 1) {
      if (this.hashes[e] === h && this.lengths[e] === len && this.same(this.starts[e]!, len)) {
        this.lastEntry = e;
        return this.strings[e]!;
      }
    }
    const text = this.build();
    this.keep(text, h, s);
    return text;
  }

  private build(): string {
    const units = (from: number, to: number): string => String.fromCharCode.apply(null, this.buf.subarray(from, to) as unknown as number[]);
    if (this.len <= CHUNK) return units(0, this.len);
    const parts: string[] = [];
    for (let i = 0; i < this.len; i += CHUNK) parts.push(units(i, Math.min(this.len, i + CHUNK)));
    return parts.join('');
  }

  private grow(more: number): void {
    const buf = new Uint8Array(Math.max(2 * this.buf.length, this.len + more));
    buf.set(this.buf.subarray(0, this.len));
    this.buf = buf;
  }

  private same(start: number, len: number): boolean {
    const a = this.arena;
    const b = this.buf;
    for (let i = 0; i < len; i++) if (a[start + i] !== b[i]) return false;
    return true;
  }

  /** Keeps `text` (the bytes in buf) in free slot `s`, within the limits. */
  private keep(text: string, h: number, s: number): void {
    const e = this.strings.length;
    const len = this.len;
    if (e >= this.cacheEntries || this.arenaUsed + len > this.cacheBytes) return;
    if (this.arenaUsed + len > this.arena.length) {
      const arena = new Uint8Array(Math.min(this.cacheBytes, Math.max(2 * this.arena.length, this.arenaUsed + len)));
      arena.set(this.arena.subarray(0, this.arenaUsed));
      this.arena = arena;
    }
    if (e >= this.hashes.length) {
      const grow = (a: Int32Array): Int32Array => {
        const b = new Int32Array(Math.min(this.cacheEntries, 2 * a.length));
        b.set(a);
        return b;
      };
      this.hashes = grow(this.hashes);
      this.starts = grow(this.starts);
      this.lengths = grow(this.lengths);
    }
    this.arena.set(this.buf.subarray(0, len), this.arenaUsed);
    this.hashes[e] = h;
    this.starts[e] = this.arenaUsed;
    this.lengths[e] = len;
    this.strings.push(text);
    this.arenaUsed += len;
    this.slots[s] = e + 1;
    this.lastEntry = e;
    if (2 * (e + 1) > this.slots.length) this.rehash();
  }

  private rehash(): void {
    const slots = new Int32Array(2 * this.slots.length);
    const mask = slots.length - 1;
    for (let e = 0; e < this.strings.length; e++) {
      let s = this.hashes[e]! & mask;
      while (slots[s] !== 0) s = (s + 1) & mask;
      slots[s] = e + 1;
    }
    this.slots = slots;
  }
}

function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}
