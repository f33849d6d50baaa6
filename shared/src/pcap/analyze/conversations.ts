/**
 * Conversation tables: per IP address pair (both directions, as tshark `-z conv,ip` and
 * `-z conv,ipv6`) and per TCP/UDP 5-tuple, exact up to a cap, then bounded sketches (see
 * bounded-table.ts). Top talkers are derived from the pair table when the report is made.
 *
 * Keys are built in one `String.fromCharCode` call per table from the addresses in canonical
 * order (lower endpoint first): an IPv4 pair is 4 UTF-16 code units, an IPv6 pair 16, a flow
 * adds both ports and the protocol. Each entry remembers whether the lower endpoint sent
 * first, which is side A in the report.
 */
import { L3, type DecodedPacket, type PacketView } from '../types.js';
import { addressText } from './address-key.js';
import { BoundedTable } from './bounded-table.js';
import type { FlowConversationRow, IpConversationRow, TableSummary, TalkerRow } from './report.js';

interface Conv {
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

export interface TableLimits {
  /** Exact entries per table before the sketch takes over (default 100 000). */
  cap: number;
  /** Entries of the sketch behind each table (default 10 000). */
  sketch: number;
}

const blank = (): Conv => ({ lowFirst: true, lowPackets: 0, lowBytes: 0, highPackets: 0, highBytes: 0, first: Infinity, last: -Infinity });
const reset = (c: Conv): void => {
  Object.assign(c, blank());
};

/**
 * Which side sent the packet whose pair key was just built: the key's lower endpoint (0) or
 * its higher one (1). A module variable rather than a returned tuple: no allocation per packet.
 */
let sender = 0;

export class ConversationTables {
  private readonly pairs: BoundedTable<Conv>;
  private readonly flows: BoundedTable<Conv>;

  constructor(limits: TableLimits = { cap: 100_000, sketch: 10_000 }) {
    this.pairs = new BoundedTable(limits.cap, blank, reset, limits.sketch);
    this.flows = new BoundedTable(limits.cap, blank, reset, limits.sketch);
  }

  /** Counts an IPv4/IPv6 packet; ignored when its addresses were not captured. */
  add(view: PacketView, pkt: DecodedPacket, time: number): void {
    const d = view.data;
    const len = view.origLen;
    const v4 = pkt.l3 === L3.IPV4;
    const pairKey = v4 ? v4PairKey(pkt) : v6PairKey(d, pkt);
    if (pairKey === '') return;
    count(this.pairs.touch(pairKey, len), sender, len, time);

    const proto = pkt.ipProto;
    if ((proto !== 6 && proto !== 17) || pkt.sport < 0 || pkt.dport < 0 || pkt.laterFragment) return;
    // Same address on both ends: the lower port is the lower endpoint.
    const lowSide = samePair(pairKey) ? (pkt.sport <= pkt.dport ? 0 : 1) : sender;
    const lowPort = lowSide === 0 ? pkt.sport : pkt.dport;
    const highPort = lowSide === 0 ? pkt.dport : pkt.sport;
    // One string per key (no concatenation: a rope would be flattened again on lookup).
    const flowKey = v4
      ? String.fromCharCode(pairKey.charCodeAt(0), pairKey.charCodeAt(1), pairKey.charCodeAt(2), pairKey.charCodeAt(3), lowPort, highPort, proto)
      : v6FlowKey(pairKey, lowPort, highPort, proto);
    count(this.flows.touch(flowKey, len), lowSide, len, time);
  }

  /** The `n` heaviest IP pairs by bytes. */
  ipRows(n: number): IpConversationRow[] {
    return this.pairs.top(n, weight).map(({ key, value, approximate }) => {
      const half = key.length / 2;
      return convRow(value, key.slice(0, half), key.slice(half), approximate);
    });
  }

  /** The `n` heaviest 5-tuples by bytes. */
  flowRows(n: number): FlowConversationRow[] {
    return this.flows.top(n, weight).map(({ key, value, approximate }) => {
      const half = (key.length - 3) / 2;
      const lowPort = key.charCodeAt(2 * half);
      const highPort = key.charCodeAt(2 * half + 1);
      return {
        ...convRow(value, key.slice(0, half), key.slice(half, 2 * half), approximate),
        transport: key.charCodeAt(2 * half + 2) === 6 ? ('tcp' as const) : ('udp' as const),
        aPort: value.lowFirst ? lowPort : highPort,
        bPort: value.lowFirst ? highPort : lowPort,
      };
    });
  }

  /** Every IP pair (for exact comparisons in tests and exports). */
  allIpRows(): IpConversationRow[] {
    return this.ipRows(Infinity);
  }

  /**
   * The `n` addresses with the most bytes sent plus received, summed over the pair table
   * (exact while that table is; an address with a sketch-estimated pair is approximate).
   */
  talkerRows(n: number): TalkerRow[] {
    const talkers = new Map<string, TalkerRow>();
    const side = (key: string, packets: number, sent: number, received: number, approximate: boolean): void => {
      let t = talkers.get(key);
      if (!t) talkers.set(key, (t = { address: key, packets: 0, bytes: 0, sentBytes: 0, receivedBytes: 0 }));
      t.packets += packets;
      t.bytes += sent + received;
      t.sentBytes += sent;
      t.receivedBytes += received;
      if (approximate) t.approximate = true;
    };
    for (const { key, value: c, approximate } of this.pairs.rows()) {
      const half = key.length / 2;
      const low = key.slice(0, half);
      const high = key.slice(half);
      const packets = c.lowPackets + c.highPackets;
      side(low, packets, c.lowBytes, c.highBytes, approximate);
      if (high !== low) side(high, packets, c.highBytes, c.lowBytes, approximate);
    }
    return [...talkers.values()]
      .sort((x, y) => y.bytes - x.bytes || (x.address < y.address ? -1 : 1))
      .slice(0, n)
      .map((t) => ({ ...t, address: addressText(t.address) }));
  }

  /** Table summaries; talkers come from the pair table, so they share its summary. */
  summaries(): { ipTable: TableSummary; flowTable: TableSummary; talkerTable: TableSummary } {
    const summary = <V>(t: BoundedTable<V>): TableSummary => ({ distinct: t.size, cap: t.cap, capped: t.capped });
    return { ipTable: summary(this.pairs), flowTable: summary(this.flows), talkerTable: summary(this.pairs) };
  }
}

/** IPv4 pair key, lower address first; sets `sender`. */
function v4PairKey(pkt: DecodedPacket): string {
  const s = pkt.src4;
  const t = pkt.dst4;
  if (s < 0 || t < 0) return '';
  sender = s <= t ? 0 : 1;
  const lo = sender === 0 ? s : t;
  const hi = sender === 0 ? t : s;
  return String.fromCharCode(lo >>> 16, lo & 0xffff, hi >>> 16, hi & 0xffff);
}

/** IPv6 pair key, lower address first; sets `sender`. */
function v6PairKey(d: Uint8Array, pkt: DecodedPacket): string {
  let a = pkt.src6Offset;
  let b = pkt.dst6Offset;
  if (a < 0 || b < 0) return '';
  let i = 0;
  while (i < 15 && d[a + i] === d[b + i]) i++;
  sender = d[a + i]! <= d[b + i]! ? 0 : 1;
  if (sender === 1) [a, b] = [b, a];
  const w = (o: number): number => (d[o]! << 8) | d[o + 1]!;
  return String.fromCharCode(
    w(a),
    w(a + 2),
    w(a + 4),
    w(a + 6),
    w(a + 8),
    w(a + 10),
    w(a + 12),
    w(a + 14),
    w(b),
    w(b + 2),
    w(b + 4),
    w(b + 6),
    w(b + 8),
    w(b + 10),
    w(b + 12),
    w(b + 14),
  );
}

function v6FlowKey(k: string, lowPort: number, highPort: number, proto: number): string {
  const c = (i: number): number => k.charCodeAt(i);
  return String.fromCharCode(c(0), c(1), c(2), c(3), c(4), c(5), c(6), c(7), c(8), c(9), c(10), c(11), c(12), c(13), c(14), c(15), lowPort, highPort, proto);
}

/** True when both halves of a pair key are the same address. */
function samePair(key: string): boolean {
  const half = key.length / 2;
  return key.charCodeAt(0) === key.charCodeAt(half) && key.slice(0, half) === key.slice(half);
}

function count(c: Conv, side: number, len: number, time: number): void {
  if (c.lowPackets + c.highPackets === 0) c.lowFirst = side === 0;
  if (side === 0) {
    c.lowPackets++;
    c.lowBytes += len;
  } else {
    c.highPackets++;
    c.highBytes += len;
  }
  if (time < c.first) c.first = time;
  if (time > c.last) c.last = time;
}

function weight(c: Conv): number {
  return c.lowBytes + c.highBytes;
}

function convRow(c: Conv, low: string, high: string, approximate: boolean): IpConversationRow {
  const lowSide = { packets: c.lowPackets, bytes: c.lowBytes };
  const highSide = { packets: c.highPackets, bytes: c.highBytes };
  return {
    a: addressText(c.lowFirst ? low : high),
    b: addressText(c.lowFirst ? high : low),
    packets: c.lowPackets + c.highPackets,
    bytes: c.lowBytes + c.highBytes,
    aToB: c.lowFirst ? lowSide : highSide,
    bToA: c.lowFirst ? highSide : lowSide,
    first: c.first,
    last: c.last,
    ...(approximate ? { approximate: true as const } : {}),
  };
}
