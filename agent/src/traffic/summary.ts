/**
 * Per-minute traffic of one capture file by (source subnet, destination subnet): packets and
 * bytes, computed while the file is read for its sidecar index (a PacketObserver, see
 * shared/src/pcap/sidecar/build.ts), so the bytes are read once.
 *
 * Contract:
 * - A packet counts in the minute of its capture time (`floor(sec / 60) * 60`, UTC), under the
 *   networks of its IP source and destination masked to `ipv4Prefix` / `ipv6Prefix`, written as
 *   canonical CIDRs (`10.1.2.0/24`, `2001:db8:1::/64`, RFC 5952). Bytes are the packet's length
 *   on the wire (pcap orig_len, tshark's frame.len), as `tshark -z conv,ip` counts them.
 * - Non-IP packets (ARP, LLDP, …) and IP packets whose addresses were not captured are not
 *   counted anywhere (only `skipped` says how many): the summaries are IP traffic between subnets.
 * - Bounded: a minute has at most `maxPairsPerMinute` rows. When it has more pairs, the largest
 *   `maxPairsPerMinute - 1` by bytes (then packets, then the pair's text) are kept and every other
 *   pair is added to one row `{ srcNet: 'other', dstNet: 'other' }`. Totals are exact whatever
 *   folds. Memory is bounded too: a minute tracks at most `trackedPairsPerMinute` pairs (new
 *   pairs beyond go straight to `other`), a file at most MAX_NETS distinct networks (packets of
 *   networks beyond go to `other`), and minutes the file has left behind are folded early
 *   (FOLD_BEHIND_MINUTES) — a late packet still adds to its pair if kept, else to `other`.
 *
 * @example
 * const acc = new TrafficAccumulator({ ipv4Prefix: 24, ipv6Prefix: 64, maxPairsPerMinute: 1000 });
 * buildIndex(path, { observe: acc.observe });
 * const { minutes } = acc.finish(); // [{ intervalStart, flows: [{ srcNet, dstNet, packets, bytes }] }]
 */
import { formatIpv4, formatIpv6 } from '@pcapmesh/shared/pcap/decode';
import { L3, type DecodedPacket, type PacketView } from '@pcapmesh/shared/pcap/types';

export interface TrafficSettings {
  /** Prefix length IPv4 addresses are grouped by (0..32). */
  ipv4Prefix: number;
  /** Prefix length IPv6 addresses are grouped by (0..128). */
  ipv6Prefix: number;
  /** Most rows per minute (the last one may be the folded `other` row). */
  maxPairsPerMinute: number;
  /** Most pairs a minute tracks before new ones go straight to `other` (default max(100 000, 10 × maxPairsPerMinute)). */
  trackedPairsPerMinute?: number;
}

export interface TrafficFlow {
  srcNet: string;
  dstNet: string;
  packets: number;
  bytes: number;
}

export interface MinuteTraffic {
  /** Start of the minute, ms since the epoch (a multiple of 60 000). */
  intervalStart: number;
  /** Largest first; at most maxPairsPerMinute rows. */
  flows: TrafficFlow[];
}

export interface FileTraffic {
  /** Minutes with at least one IP packet, oldest first. */
  minutes: MinuteTraffic[];
  /** IP packets counted. */
  packets: number;
  /** Packets not counted: not IP, or their addresses not captured. */
  skipped: number;
}

/** The label of the folded row (and of networks beyond the file's MAX_NETS). */
export const OTHER_NET = 'other';
/** Distinct networks one file may name; more (a flood of random sources) count under `other`. */
export const MAX_NETS = 1 << 20;
/** A minute this far behind the newest packet's minute is folded (its memory released). */
export const FOLD_BEHIND_MINUTES = 2;

const NET_SPAN = 2 ** 26; // large-id pair key = -(srcId * NET_SPAN + dstId) - 1, |key| < 2^52: exact in a double
const SMALL_ID = 2 ** 15; // both ids below: pair key = srcId * SMALL_ID + dstId < 2^30, a small integer
const OTHER_ID = 0;
const CACHE_SHIFT = 24;
const CACHE_SLOTS = 2 ** (32 - CACHE_SHIFT);

class Cell {
  constructor(
    public packets = 0,
    public bytes = 0,
  ) {}
}

class MinuteTable {
  readonly cells = new Map<number, Cell>();
  readonly other = new Cell();
  sealed = false;
}

export class TrafficAccumulator {
  private readonly mask4: number;
  private readonly shift4: number;
  private readonly v6Words: number;
  private readonly v6Mask: number[];
  private readonly maxPairs: number;
  private readonly tracked: number;
  /** IPv4: masked network → id. IPv6: first word → (second word → id) for prefixes ≤ 64, else text key → id. */
  private readonly nets4 = new Map<number, number>();
  private readonly nets6 = new Map<number, Map<number, number>>();
  private readonly nets6Long = new Map<string, number>();
  /** id → CIDR text (index 0 is `other`). */
  private readonly names: string[] = [OTHER_NET];
  private readonly minutes = new Map<number, MinuteTable>();
  private curMinute = -1;
  private cur: MinuteTable | null = null;
  private newestMinute = -1;
  private packets = 0;
  private skipped = 0;
  private readonly scratch = new Uint8Array(16);
  /** Direct-mapped cache (IPv4): slot → the raw addresses and minute it holds, and their cell. Cleared when a minute is folded. */
  private readonly cacheSrc = new Float64Array(CACHE_SLOTS).fill(-1);
  private readonly cacheDst = new Float64Array(CACHE_SLOTS).fill(-1);
  private readonly cacheMinute = new Float64Array(CACHE_SLOTS).fill(-1);
  private readonly cacheCell: (Cell | null)[] = new Array<Cell | null>(CACHE_SLOTS).fill(null);

  constructor(private readonly settings: TrafficSettings) {
    const { ipv4Prefix, ipv6Prefix, maxPairsPerMinute } = settings;
    if (!Number.isInteger(ipv4Prefix) || ipv4Prefix < 0 || ipv4Prefix > 32) throw new RangeError(`traffic.ipv4Prefix must be 0..32, got ${ipv4Prefix}`);
    if (!Number.isInteger(ipv6Prefix) || ipv6Prefix < 0 || ipv6Prefix > 128) throw new RangeError(`traffic.ipv6Prefix must be 0..128, got ${ipv6Prefix}`);
    if (!Number.isInteger(maxPairsPerMinute) || maxPairsPerMinute < 1) throw new RangeError(`traffic.maxPairsPerMinute must be ≥ 1, got ${maxPairsPerMinute}`);
    this.mask4 = ipv4Prefix === 0 ? 0 : (0xffff_ffff << (32 - ipv4Prefix)) >>> 0;
    this.shift4 = ipv4Prefix === 0 ? 0 : 32 - ipv4Prefix;
    this.v6Words = Math.ceil(ipv6Prefix / 32);
    this.v6Mask = [0, 1, 2, 3].map((w) => {
      const bits = Math.max(0, Math.min(32, ipv6Prefix - 32 * w));
      return bits === 0 ? 0 : (0xffff_ffff << (32 - bits)) >>> 0;
    });
    this.maxPairs = maxPairsPerMinute;
    this.tracked = settings.trackedPairsPerMinute ?? Math.max(100_000, 10 * maxPairsPerMinute);
  }

  /** The PacketObserver: counts one packet (bound, so it can be passed as is). */
  readonly observe = (p: PacketView, d: DecodedPacket): void => {
    let src: number;
    let dst: number;
    let slot = -1;
    const minute = Math.floor(p.sec / 60);
    if (d.l3 === L3.IPV4 && d.src4 >= 0 && d.dst4 >= 0) {
      // Fast path: the cell this (minute, source, destination) counted into last time.
      slot = (d.src4 ^ Math.imul(d.dst4, 0x9e3779b1)) >>> CACHE_SHIFT;
      if (this.cacheSrc[slot] === d.src4 && this.cacheDst[slot] === d.dst4 && this.cacheMinute[slot] === minute) {
        const cell = this.cacheCell[slot]!;
        cell.packets++;
        cell.bytes += p.origLen;
        this.packets++;
        return;
      }
      src = this.net4(d.src4);
      dst = this.net4(d.dst4);
    } else if (d.l3 === L3.IPV6 && d.src6Offset >= 0 && d.dst6Offset >= 0) {
      src = this.net6(p.data, d.src6Offset);
      dst = this.net6(p.data, d.dst6Offset);
    } else {
      this.skipped++;
      return;
    }
    this.packets++;
    if (minute !== this.curMinute) this.enterMinute(minute);
    const table = this.cur!;
    let cell: Cell | undefined;
    if (src === OTHER_ID || dst === OTHER_ID) {
      cell = table.other;
    } else {
      // Small ids (the usual case) give a small-integer key, which V8's Map hashes fastest.
      const key = src < SMALL_ID && dst < SMALL_ID ? src * SMALL_ID + dst : -(src * NET_SPAN + dst) - 1;
      cell = table.cells.get(key);
      if (cell === undefined) {
        if (table.sealed || table.cells.size >= this.tracked) {
          cell = table.other;
        } else {
          cell = new Cell();
          table.cells.set(key, cell);
        }
      }
    }
    cell.packets++;
    cell.bytes += p.origLen;
    if (slot >= 0) {
      this.cacheSrc[slot] = d.src4;
      this.cacheDst[slot] = d.dst4;
      this.cacheMinute[slot] = minute;
      this.cacheCell[slot] = cell;
    }
  };

  /** Every minute folded to its rows, oldest first. The accumulator is spent afterwards. */
  finish(): FileTraffic {
    const minutes = [...this.minutes.keys()].sort((a, b) => a - b).map((m) => ({ intervalStart: m * 60_000, flows: this.rows(this.minutes.get(m)!) }));
    this.minutes.clear();
    this.cur = null;
    this.curMinute = -1;
    return { minutes, packets: this.packets, skipped: this.skipped };
  }

  private enterMinute(minute: number): void {
    let table = this.minutes.get(minute);
    if (table === undefined) {
      table = new MinuteTable();
      this.minutes.set(minute, table);
    }
    this.cur = table;
    this.curMinute = minute;
    if (minute > this.newestMinute) {
      this.newestMinute = minute;
      for (const [m, t] of this.minutes) if (!t.sealed && m < minute - FOLD_BEHIND_MINUTES) this.seal(t);
    }
  }

  /** Folds a minute in place: keeps the rows `rows()` would name, the rest joins `other`. */
  private seal(t: MinuteTable): void {
    t.sealed = true;
    this.cacheSrc.fill(-1); // cached cells may be folded away below
    if (t.cells.size < this.maxPairs) return;
    const ranked = this.ranked(t);
    for (const [key, cell] of ranked.slice(this.maxPairs - 1)) {
      t.other.packets += cell.packets;
      t.other.bytes += cell.bytes;
      t.cells.delete(key);
    }
  }

  private ranked(t: MinuteTable): [number, Cell][] {
    return [...t.cells].sort(([ka, a], [kb, b]) => b.bytes - a.bytes || b.packets - a.packets || compareText(this.pairText(ka), this.pairText(kb)));
  }

  private rows(t: MinuteTable): TrafficFlow[] {
    const other = new Cell(t.other.packets, t.other.bytes);
    let ranked = this.ranked(t);
    const room = other.packets > 0 ? this.maxPairs - 1 : this.maxPairs;
    if (ranked.length > room) {
      for (const [, cell] of ranked.slice(this.maxPairs - 1)) {
        other.packets += cell.packets;
        other.bytes += cell.bytes;
      }
      ranked = ranked.slice(0, this.maxPairs - 1);
    }
    const flows = ranked.map(([key, c]) => {
      const [src, dst] = this.pairIds(key);
      return { srcNet: this.names[src]!, dstNet: this.names[dst]!, packets: c.packets, bytes: c.bytes };
    });
    if (other.packets > 0) flows.push({ srcNet: OTHER_NET, dstNet: OTHER_NET, packets: other.packets, bytes: other.bytes });
    return flows;
  }

  private pairIds(key: number): [number, number] {
    if (key >= 0) return [Math.floor(key / SMALL_ID), key % SMALL_ID];
    const k = -(key + 1);
    return [Math.floor(k / NET_SPAN), k % NET_SPAN];
  }

  private pairText(key: number): string {
    const [src, dst] = this.pairIds(key);
    return `${this.names[src]} ${this.names[dst]}`;
  }

  private net4(addr: number): number {
    // The network shifted down: below 2^30 (a small integer, fast to hash) for prefixes up to /30.
    const key = (addr & this.mask4) >>> this.shift4;
    const id = this.nets4.get(key);
    if (id !== undefined) return id;
    return this.intern(
      () => `${formatIpv4((addr & this.mask4) >>> 0)}/${this.settings.ipv4Prefix}`,
      (i) => this.nets4.set(key, i),
    );
  }

  private net6(d: Uint8Array, at: number): number {
    const w0 = ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) & this.v6Mask[0]!;
    if (this.v6Words <= 2) {
      const w1 = this.v6Words === 2 ? ((d[at + 4]! << 24) | (d[at + 5]! << 16) | (d[at + 6]! << 8) | d[at + 7]!) & this.v6Mask[1]! : 0;
      let inner = this.nets6.get(w0);
      if (inner === undefined) {
        inner = new Map();
        this.nets6.set(w0, inner);
      }
      const id = inner.get(w1);
      if (id !== undefined) return id;
      const target = inner;
      return this.intern(
        () => this.format6(d, at),
        (i) => target.set(w1, i),
      );
    }
    let key = '';
    for (let w = 0; w < 4; w++) {
      const o = at + 4 * w;
      key += `${(((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) & this.v6Mask[w]!) >>> 0}:`;
    }
    const id = this.nets6Long.get(key);
    if (id !== undefined) return id;
    return this.intern(
      () => this.format6(d, at),
      (i) => this.nets6Long.set(key, i),
    );
  }

  /** The masked IPv6 network at `d[at..at+16)` as canonical CIDR text. */
  private format6(d: Uint8Array, at: number): string {
    const s = this.scratch;
    for (let w = 0; w < 4; w++) {
      const o = at + 4 * w;
      const v = (((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) & this.v6Mask[w]!) >>> 0;
      s[4 * w] = v >>> 24;
      s[4 * w + 1] = (v >>> 16) & 255;
      s[4 * w + 2] = (v >>> 8) & 255;
      s[4 * w + 3] = v & 255;
    }
    return `${formatIpv6(s, 0)}/${this.settings.ipv6Prefix}`;
  }

  /** A new network's id (its text stored), or `other` once the file has MAX_NETS networks (not remembered: memory stays bounded). */
  private intern(text: () => string, remember: (id: number) => void): number {
    if (this.names.length > MAX_NETS) return OTHER_ID;
    const id = this.names.length;
    this.names.push(text());
    remember(id);
    return id;
  }
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
