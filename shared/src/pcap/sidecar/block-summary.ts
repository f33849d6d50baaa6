/**
 * What one index block (a run of ~1 MiB of capture) may contain, in a compact form, and the
 * "may contain" queries extract's filter summary asks (filter/summary.ts BlockContents).
 *
 * - IPv4 addresses: a sorted list when ≤ 1024 distinct, else a Bloom filter (then masked
 *   queries answer "may").
 * - IPv6 addresses: 53-bit hashes of the 16 bytes, sorted when ≤ 512 distinct, else a Bloom
 *   filter of their low 32 bits; prefix queries (< /128) answer "may".
 * - TCP/UDP/SCTP ports: a sorted list when ≤ 2048 distinct, else an 8 KiB bitmap (exact).
 * - IP protocol numbers: a sorted list (exact).
 * - Posting lists (postings.ts): where each IPv4/IPv6 address's packets are in the block, for all
 *   but the densest addresses.
 * "false" is a promise that no packet of the block has it; "true" only means "read the block".
 */
import { bloomBits, bloomFrom, bloomHas } from './bloom.js';
import { POSTING_BUDGET, PostingAccumulator, decodeList, findKey, type BlockPostings, type PostingList } from './postings.js';
import type { Timestamp } from '../types.js';

const MAX_IPV4_LIST = 1024;
const MAX_IPV6_LIST = 512;
const MAX_PORT_LIST = 2048;
const TWO_POW_32 = 4_294_967_296;
const EMPTY = new Uint8Array(0);

/** The serialised form (file-format.ts stores it: typed arrays and numbers). */
export interface BlockRecord {
  /** File offset of the block's first packet record (a seek target). */
  offset: number;
  /** File offset where the next block starts (or where valid data ends). */
  end: number;
  packets: number;
  /** Captured bytes of the block's packets (what extract would write if all matched). */
  bytes: number;
  /** Earliest / latest packet time in the block. */
  first: Timestamp;
  last: Timestamp;
  /** The block holds the first packet of an interface: never skip it (pcapng IDB state). */
  mustRead: boolean;
  ipv4: Uint32Array | null;
  ipv4Bloom: Uint8Array | null;
  ipv6: Float64Array | null;
  ipv6Bloom: Uint8Array | null;
  ports: Uint16Array | null;
  portBitmap: Uint8Array | null;
  ipProtos: Uint8Array;
  /** Per-address packet lists (format 3); null = none kept (every address query reads the block). */
  postings: BlockPostings | null;
}

/** 53-bit key of the 16-byte IPv6 address at `data[at..at+16)`. */
export function ipv6Key(data: Uint8Array, at: number): number {
  let a = 0x811c9dc5;
  let b = 0x9747b28c;
  for (let i = 0; i < 16; i++) {
    const byte = data[at + i] as number;
    a = Math.imul(a ^ byte, 0x01000193);
    b = Math.imul(b ^ byte, 0x5bd1e995) ^ (b >>> 15);
  }
  return (a >>> 11) * TWO_POW_32 + (b >>> 0);
}

/** Collects one block's contents while packets stream by; `finish()` makes the record. */
export class BlockAccumulator {
  readonly ipv4 = new Set<number>();
  readonly ipv6 = new Set<number>();
  readonly ports = new Set<number>();
  readonly protos = new Set<number>();
  readonly postings = new PostingAccumulator();
  packets = 0;
  bytes = 0;
  mustRead = false;
  readonly first: Timestamp = { sec: 0, nsec: 0 };
  readonly last: Timestamp = { sec: 0, nsec: 0 };

  /** `postingBudget`: posting bytes kept at most, as a share of the block's bytes (see postings.ts). */
  constructor(
    readonly offset: number,
    private readonly postingBudget = POSTING_BUDGET,
  ) {}

  time(sec: number, nsec: number): void {
    if (this.packets === 0 || sec < this.first.sec || (sec === this.first.sec && nsec < this.first.nsec)) {
      this.first.sec = sec;
      this.first.nsec = nsec;
    }
    if (this.packets === 0 || sec > this.last.sec || (sec === this.last.sec && nsec > this.last.nsec)) {
      this.last.sec = sec;
      this.last.nsec = nsec;
    }
    this.packets++;
  }

  finish(end: number): BlockRecord {
    const v4 = Uint32Array.from(this.ipv4).sort();
    const v6 = Float64Array.from(this.ipv6).sort();
    const ports = Uint16Array.from(this.ports).sort();
    let portBitmap: Uint8Array | null = null;
    if (ports.length > MAX_PORT_LIST) {
      portBitmap = new Uint8Array(8192);
      for (const p of ports) portBitmap[p >>> 3]! |= 1 << (p & 7);
    }
    return {
      offset: this.offset,
      end,
      packets: this.packets,
      bytes: this.bytes,
      first: { ...this.first },
      last: { ...this.last },
      mustRead: this.mustRead,
      ipv4: v4.length <= MAX_IPV4_LIST ? v4 : null,
      ipv4Bloom: v4.length > MAX_IPV4_LIST ? bloomFrom(v4, bloomBits(v4.length)) : null,
      ipv6: v6.length <= MAX_IPV6_LIST ? v6 : null,
      ipv6Bloom:
        v6.length > MAX_IPV6_LIST
          ? bloomFrom(
              Array.from(v6, (k) => k % TWO_POW_32),
              bloomBits(v6.length),
            )
          : null,
      ports: portBitmap ? null : ports,
      portBitmap,
      ipProtos: Uint8Array.from(this.protos).sort(),
      postings: this.postings.finish(this.offset, Math.floor((end - this.offset) * this.postingBudget)),
    };
  }
}

/** Index of the first element ≥ x in a sorted array. */
function lowerBound(sorted: ArrayLike<number>, x: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] as number) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * Queries over a BlockRecord, shaped as filter/summary.ts's BlockContents.
 * @example
 * const mayMatch = filterSummary(parseFilter('host 10.0.0.1'));
 * for (const b of index.blocks) if (!b.mustRead && !mayMatch(b)) skip(b);
 */
export class IndexBlock {
  constructor(readonly record: BlockRecord) {}

  get offset(): number {
    return this.record.offset;
  }
  get end(): number {
    return this.record.end;
  }
  get packets(): number {
    return this.record.packets;
  }
  get bytes(): number {
    return this.record.bytes;
  }
  get first(): Timestamp {
    return this.record.first;
  }
  get last(): Timestamp {
    return this.record.last;
  }
  get mustRead(): boolean {
    return this.record.mustRead;
  }

  /** May the block hold a packet with time in [from, to] (null = unbounded)? */
  mayOverlap(from: Timestamp | null, to: Timestamp | null): boolean {
    const { first, last } = this.record;
    if (from && (last.sec < from.sec || (last.sec === from.sec && last.nsec < from.nsec))) return false;
    if (to && (first.sec > to.sec || (first.sec === to.sec && first.nsec > to.nsec))) return false;
    return true;
  }

  mayHaveIpv4(addr: number, mask: number): boolean {
    const { ipv4, ipv4Bloom } = this.record;
    const m = mask >>> 0;
    const net = (addr & m) >>> 0;
    if (ipv4) {
      if (m === 0xffff_ffff) {
        const i = lowerBound(ipv4, net);
        return i < ipv4.length && ipv4[i] === net;
      }
      // Addresses under a prefix form one contiguous run of the sorted list.
      const i = lowerBound(ipv4, net);
      return i < ipv4.length && ((ipv4[i] as number) & m) >>> 0 === net;
    }
    return ipv4Bloom ? (m === 0xffff_ffff ? bloomHas(ipv4Bloom, net) : true) : true;
  }

  mayHaveIpv6(bytes: Uint8Array, prefix: number): boolean {
    if (prefix < 128) return true;
    const { ipv6, ipv6Bloom } = this.record;
    const key = ipv6Key(bytes, 0);
    if (ipv6) {
      const i = lowerBound(ipv6, key);
      return i < ipv6.length && ipv6[i] === key;
    }
    return ipv6Bloom ? bloomHas(ipv6Bloom, key % TWO_POW_32) : true;
  }

  mayHavePort(from: number, to: number): boolean {
    const { ports, portBitmap } = this.record;
    if (ports) {
      const i = lowerBound(ports, from);
      return i < ports.length && (ports[i] as number) <= to;
    }
    if (portBitmap) {
      for (let p = Math.max(0, from); p <= Math.min(65535, to); p++) if (portBitmap[p >>> 3]! & (1 << (p & 7))) return true;
      return false;
    }
    return true;
  }

  /**
   * The packets of IPv4 address `addr` in this block (from its posting list), or null when the
   * block keeps no list for it (a dense address, or damage): read the whole block then. Only
   * meaningful when mayHaveIpv4(addr) is true.
   */
  packetsOfIpv4(addr: number): PostingList | null {
    const p = this.record.postings;
    if (!p) return null;
    const i = findKey(p.keys4, addr >>> 0);
    return i < 0 ? null : decodeList(p.bytes, p.starts4[i]!, p.starts4[i + 1]!, this.record.offset, this.record.end);
  }

  /** Like packetsOfIpv4 for the 16 bytes of an IPv6 address. */
  packetsOfIpv6(bytes: Uint8Array): PostingList | null {
    const p = this.record.postings;
    if (!p) return null;
    const i = findKey(p.keys6, ipv6Key(bytes, 0));
    return i < 0 ? null : decodeList(p.bytes, p.starts6[i]!, p.starts6[i + 1]!, this.record.offset, this.record.end);
  }

  /**
   * Where the posting list of IPv4 address `addr` lies in the block's list bytes, without decoding
   * it: span[0..1] = [start, end) of `postingBytes`; false when the block keeps no list for it
   * (read the block). The bounds are checked where the list is read (postings.ts listTotals).
   */
  postingSpan4(addr: number, span: Uint32Array): boolean {
    const p = this.record.postings;
    if (!p) return false;
    const i = findKey(p.keys4, addr >>> 0);
    if (i < 0) return false;
    span[0] = p.starts4[i]!;
    span[1] = p.starts4[i + 1]!;
    return true;
  }

  /** Like postingSpan4 for the 53-bit key of an IPv6 address (ipv6Key). */
  postingSpan6(key: number, span: Uint32Array): boolean {
    const p = this.record.postings;
    if (!p) return false;
    const i = findKey(p.keys6, key);
    if (i < 0) return false;
    span[0] = p.starts6[i]!;
    span[1] = p.starts6[i + 1]!;
    return true;
  }

  /** The block's posting list bytes (see postingSpan4), empty when it keeps none. */
  get postingBytes(): Uint8Array {
    return this.record.postings?.bytes ?? EMPTY;
  }

  /** The block's IPv4 addresses under `addr/mask` when it keeps an exact list, else null (a Bloom filter). */
  ipv4In(addr: number, mask: number): number[] | null {
    const { ipv4 } = this.record;
    if (!ipv4) return null;
    const m = mask >>> 0;
    const net = (addr & m) >>> 0;
    const out: number[] = [];
    for (let i = lowerBound(ipv4, net); i < ipv4.length && ((ipv4[i] as number) & m) >>> 0 === net; i++) out.push(ipv4[i] as number);
    return out;
  }

  mayHaveIpProto(proto: number): boolean {
    const i = lowerBound(this.record.ipProtos, proto);
    return i < this.record.ipProtos.length && this.record.ipProtos[i] === proto;
  }
}
