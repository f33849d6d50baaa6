/**
 * Posting lists of one index block (sidecar format 3): for each IPv4 address and each IPv6
 * address (53-bit hash, see ipv6Key) seen in the block, where its packets are — so extract reads
 * only those packets' bytes and estimate counts them without reading the capture.
 *
 * Encoding: keys sorted ascending (u32 for IPv4, f64 hash for IPv6) with `starts[i]..starts[i+1]`
 * the key's bytes in the block's posting area; a list is varint pairs (delta of the packet's file
 * offset from the previous one of the list — the first from the block's offset — and the packet's
 * captured length). A packet with the same address as source and destination is listed once.
 *
 * Two levels: a key whose list would cost too much (see `POSTING_BUDGET`) keeps no list — the
 * block summary still knows it is there, and a query for it reads the whole block. The densest keys
 * go first, so sparse keys (a DNS server's few packets of every block) keep their lists and dense
 * ones (a host with half the traffic, read whole anyway) do not.
 */

/** Posting bytes kept per block at most, as a share of the block's capture bytes (index ≤ 3 % overall). */
export const POSTING_BUDGET = 0.015;

/** A key's packets: file offsets ascending and their captured lengths. */
export interface PostingList {
  offsets: number[];
  lengths: number[];
}

/** The serialised posting section of a block (file-format.ts stores it). */
export interface BlockPostings {
  keys4: Uint32Array;
  /** keys4.length + 1 entries: list i is bytes[starts4[i], starts4[i+1]). */
  starts4: Uint32Array;
  keys6: Float64Array;
  starts6: Uint32Array;
  bytes: Uint8Array;
}

/** Collects one block's lists while packets stream by (build.ts). */
export class PostingAccumulator {
  /** key → flat [offset, caplen, offset, caplen, …] */
  private readonly v4 = new Map<number, number[]>();
  private readonly v6 = new Map<number, number[]>();

  add4(key: number, offset: number, caplen: number): void {
    add(this.v4, key, offset, caplen);
  }

  add6(key: number, offset: number, caplen: number): void {
    add(this.v6, key, offset, caplen);
  }

  /** Encodes the lists relative to `blockOffset`, dropping the densest ones beyond `budgetBytes`. */
  finish(blockOffset: number, budgetBytes: number): BlockPostings {
    const entries: Array<{ family: 4 | 6; key: number; list: number[]; size: number }> = [];
    let total = 0;
    for (const [family, map] of [
      [4, this.v4],
      [6, this.v6],
    ] as const) {
      for (const [key, list] of map) {
        // Entry cost: the list's varints plus the key-table entry (4 or 8 bytes of key, 4 of start).
        const size = listSize(list, blockOffset) + (family === 4 ? 8 : 12);
        entries.push({ family, key, list, size });
        total += size;
      }
    }
    if (total > budgetBytes) {
      // Longest lists first: they are the keys whose whole block is read anyway.
      entries.sort((a, b) => b.list.length - a.list.length);
      let k = 0;
      while (total > budgetBytes && k < entries.length) total -= entries[k++]!.size;
      entries.splice(0, k);
    }
    const v4 = entries.filter((e) => e.family === 4).sort((a, b) => a.key - b.key);
    const v6 = entries.filter((e) => e.family === 6).sort((a, b) => a.key - b.key);
    const out = new VarintWriter();
    const starts4 = new Uint32Array(v4.length + 1);
    v4.forEach((e, i) => {
      starts4[i] = out.length;
      writeList(out, e.list, blockOffset);
    });
    starts4[v4.length] = out.length;
    const starts6 = new Uint32Array(v6.length + 1);
    v6.forEach((e, i) => {
      starts6[i] = out.length;
      writeList(out, e.list, blockOffset);
    });
    starts6[v6.length] = out.length;
    return {
      keys4: Uint32Array.from(v4, (e) => e.key),
      starts4,
      keys6: Float64Array.from(v6, (e) => e.key),
      starts6,
      bytes: out.bytes(),
    };
  }
}

function add(map: Map<number, number[]>, key: number, offset: number, caplen: number): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [offset, caplen]);
  else if (list[list.length - 2] !== offset) list.push(offset, caplen);
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function listSize(list: number[], blockOffset: number): number {
  let size = 0;
  let previous = blockOffset;
  for (let i = 0; i < list.length; i += 2) {
    size += varintSize(list[i]! - previous) + varintSize(list[i + 1]!);
    previous = list[i]!;
  }
  return size;
}

function writeList(out: VarintWriter, list: number[], blockOffset: number): void {
  let previous = blockOffset;
  for (let i = 0; i < list.length; i += 2) {
    out.write(list[i]! - previous);
    out.write(list[i + 1]!);
    previous = list[i]!;
  }
}

class VarintWriter {
  private buf = new Uint8Array(1024);
  length = 0;

  write(n: number): void {
    if (this.length + 8 > this.buf.length) {
      const bigger = new Uint8Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    while (n >= 0x80) {
      this.buf[this.length++] = (n & 0x7f) | 0x80;
      n = Math.floor(n / 128);
    }
    this.buf[this.length++] = n;
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.length);
  }
}

/** Index of `key` in a sorted array, or -1. */
export function findKey(sorted: ArrayLike<number>, key: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < key) lo = mid + 1;
    else hi = mid;
  }
  return lo < sorted.length && sorted[lo] === key ? lo : -1;
}

/**
 * Decodes list bytes[start, end) of a block starting at `blockOffset` and ending at `blockEnd`.
 * Null when [start, end) is not a range of `bytes` (starts out of order: the loader does not walk
 * every block's starts, a cold process would spend more on that than on the query) or the list
 * leaves the block — damage the checksums missed: the caller reads the block.
 */
export function decodeList(bytes: Uint8Array, start: number, end: number, blockOffset: number, blockEnd: number): PostingList | null {
  if (!(start <= end && end <= bytes.length)) return null;
  const offsets: number[] = [];
  const lengths: number[] = [];
  let at = start;
  let previous = blockOffset;
  let expectOffset = true;
  while (at < end) {
    let n = 0;
    let scale = 1;
    let byte: number;
    do {
      if (at >= end) return null;
      byte = bytes[at++]!;
      n += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80 && scale < 2 ** 49);
    if (byte & 0x80) return null;
    if (expectOffset) {
      previous += n;
      if (previous >= blockEnd || (offsets.length > 0 && n === 0)) return null;
      offsets.push(previous);
    } else {
      lengths.push(n);
    }
    expectOffset = !expectOffset;
  }
  return expectOffset ? { offsets, lengths } : null;
}

/**
 * Packets and captured bytes of list bytes[start, end) without decoding it into arrays (estimate's
 * and the planner's single-address path: a cold process pays for every array it grows). Writes
 * out[0] = packets, out[1] = captured bytes; false under exactly the conditions decodeList
 * returns null for (the caller then reads the block).
 */
export function listTotals(bytes: Uint8Array, start: number, end: number, blockOffset: number, blockEnd: number, out: Float64Array): boolean {
  if (!(start <= end && end <= bytes.length)) return false;
  let at = start;
  let previous = blockOffset;
  let packets = 0;
  let captured = 0;
  while (at < end) {
    // The offset delta, then the captured length.
    let n = 0;
    let scale = 1;
    let byte: number;
    do {
      if (at >= end) return false;
      byte = bytes[at++]!;
      n += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80 && scale < 2 ** 49);
    if (byte & 0x80) return false;
    previous += n;
    if (previous >= blockEnd || (packets > 0 && n === 0)) return false;
    n = 0;
    scale = 1;
    do {
      if (at >= end) return false;
      byte = bytes[at++]!;
      n += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80 && scale < 2 ** 49);
    if (byte & 0x80) return false;
    packets++;
    captured += n;
  }
  out[0] = packets;
  out[1] = captured;
  return true;
}

/** Calls `visit(offset, caplen)` for each packet of a list that listTotals accepted (no checks repeated). */
export function forEachPosting(bytes: Uint8Array, start: number, end: number, blockOffset: number, visit: (offset: number, caplen: number) => void): void {
  let at = start;
  let previous = blockOffset;
  while (at < end) {
    let n = 0;
    let scale = 1;
    let byte: number;
    do {
      byte = bytes[at++]!;
      n += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    previous += n;
    n = 0;
    scale = 1;
    do {
      byte = bytes[at++]!;
      n += (byte & 0x7f) * scale;
      scale *= 128;
    } while (byte & 0x80);
    visit(previous, n);
  }
}

/** Packets of both lists (sorted merge). */
export function intersect(a: PostingList, b: PostingList): PostingList {
  const out: PostingList = { offsets: [], lengths: [] };
  for (let i = 0, j = 0; i < a.offsets.length && j < b.offsets.length;) {
    const x = a.offsets[i]!;
    const y = b.offsets[j]!;
    if (x === y) {
      out.offsets.push(x);
      out.lengths.push(a.lengths[i]!);
      i++;
      j++;
    } else if (x < y) i++;
    else j++;
  }
  return out;
}

/** Packets of either list (sorted merge, each once). */
export function union(a: PostingList, b: PostingList): PostingList {
  const out: PostingList = { offsets: [], lengths: [] };
  let i = 0;
  let j = 0;
  while (i < a.offsets.length || j < b.offsets.length) {
    const x = i < a.offsets.length ? a.offsets[i]! : Infinity;
    const y = j < b.offsets.length ? b.offsets[j]! : Infinity;
    if (x <= y) {
      out.offsets.push(x);
      out.lengths.push(a.lengths[i]!);
      i++;
      if (x === y) j++;
    } else {
      out.offsets.push(y);
      out.lengths.push(b.lengths[j]!);
      j++;
    }
  }
  return out;
}
