/**
 * Conversation tables: per IP address pair (both directions, as tshark `-z conv,ip` and
 * `-z conv,ipv6`) and per TCP/UDP 5-tuple, exact up to a cap, then bounded sketches (see
 * conv-store.ts). Top talkers are derived from the pair table when the report is made.
 *
 * Keys are 32-bit words written into a reused scratch key per packet (no string, no object):
 * the addresses in canonical order (lower endpoint first), so an IPv4 pair is 2 words, an IPv6
 * pair 8, and a flow adds a word of both ports (lower endpoint's first) and one of the protocol.
 * The report reads them back as strings of 16-bit code units: an IPv4 pair 4, an IPv6 pair 16,
 * a flow 3 more (ports and protocol). Each entry remembers whether the lower endpoint sent first, which is
 * side A in the report.
 */
import { L3, type DecodedPacket, type PacketView } from '../types.js';
import { addressText } from './address-key.js';
import { type Conv, ConvStore } from './conv-store.js';
import type { KeyIndex } from './key-index.js';
import { topRows } from './top.js';
import type { FlowConversationRow, IpConversationRow, TableSummary, TalkerRow } from './report.js';

export interface TableLimits {
  /** Exact entries per table before the sketch takes over (default 100 000). */
  cap: number;
  /** Entries of the sketch behind each table (default 10 000). */
  sketch: number;
}

export class ConversationTables {
  private readonly pairs: ConvStore;
  private readonly flows: ConvStore;
  /** Key indexes: IPv4 pair (2 words), IPv6 pair (8), and the flows with ports and protocol (+2). */
  private readonly pair4: KeyIndex;
  private readonly pair6: KeyIndex;
  private readonly flow4: KeyIndex;
  private readonly flow6: KeyIndex;

  constructor(limits: TableLimits = { cap: 100_000, sketch: 10_000 }) {
    this.pairs = new ConvStore(limits.cap, limits.sketch);
    this.flows = new ConvStore(limits.cap, limits.sketch);
    this.pair4 = this.pairs.index(2);
    this.pair6 = this.pairs.index(8);
    // The protocol word holds proto << 16: its string is one code unit (the last is cut).
    this.flow4 = this.flows.index(4, 7);
    this.flow6 = this.flows.index(10, 19);
  }

  /** Counts an IPv4/IPv6 packet; ignored when its addresses were not captured. */
  add(view: PacketView, pkt: DecodedPacket, time: number): void {
    const len = view.origLen;
    const v4 = pkt.l3 === L3.IPV4;
    const pair = v4 ? this.pair4 : this.pair6;
    // sender: which side sent the packet, the key's lower endpoint (0) or its higher one (1).
    const sender = v4 ? v4PairKey(pkt, pair.key) : v6PairKey(view.data, pkt, pair.key);
    if (sender < 0) return;
    this.pairs.count(pair, sender, len, time);

    const proto = pkt.ipProto;
    if ((proto !== 6 && proto !== 17) || pkt.sport < 0 || pkt.dport < 0 || pkt.laterFragment) return;
    // Same address on both ends: the lower port is the lower endpoint.
    const lowSide = samePair(pair.key) ? (pkt.sport <= pkt.dport ? 0 : 1) : sender;
    const flow = v4 ? this.flow4 : this.flow6;
    const k = flow.key;
    const p = pair.key;
    const n = p.length;
    for (let i = 0; i < n; i++) k[i] = p[i]!;
    k[n] = lowSide === 0 ? (pkt.sport << 16) | pkt.dport : (pkt.dport << 16) | pkt.sport;
    k[n + 1] = proto << 16;
    this.flows.count(flow, lowSide, len, time);
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
    return topRows(
      [...talkers.values()],
      n,
      (t) => t.bytes,
      (t) => t.address,
    ).map((t) => ({ ...t, address: addressText(t.address) }));
  }

  /** Table summaries; talkers come from the pair table, so they share its summary. */
  summaries(): { ipTable: TableSummary; flowTable: TableSummary; talkerTable: TableSummary } {
    const summary = (t: ConvStore): TableSummary => ({ distinct: t.size, cap: t.cap, capped: t.capped });
    return { ipTable: summary(this.pairs), flowTable: summary(this.flows), talkerTable: summary(this.pairs) };
  }
}

/** Writes the IPv4 pair key (lower address first) into `k`; returns the sender side, -1 without addresses. */
function v4PairKey(pkt: DecodedPacket, k: Int32Array): number {
  const s = pkt.src4;
  const t = pkt.dst4;
  if (s < 0 || t < 0) return -1;
  const sender = s <= t ? 0 : 1;
  k[0] = sender === 0 ? s : t;
  k[1] = sender === 0 ? t : s;
  return sender;
}

/** Writes the IPv6 pair key (lower address first) into `k`; returns the sender side, -1 without addresses. */
function v6PairKey(d: Uint8Array, pkt: DecodedPacket, k: Int32Array): number {
  let a = pkt.src6Offset;
  let b = pkt.dst6Offset;
  if (a < 0 || b < 0) return -1;
  let i = 0;
  while (i < 15 && d[a + i] === d[b + i]) i++;
  const sender = d[a + i]! <= d[b + i]! ? 0 : 1;
  if (sender === 1) {
    const t = a;
    a = b;
    b = t;
  }
  for (let j = 0; j < 16; j += 4) {
    k[j >> 2] = (d[a + j]! << 24) | (d[a + j + 1]! << 16) | (d[a + j + 2]! << 8) | d[a + j + 3]!;
    k[4 + (j >> 2)] = (d[b + j]! << 24) | (d[b + j + 1]! << 16) | (d[b + j + 2]! << 8) | d[b + j + 3]!;
  }
  return sender;
}

/** True when both halves of a pair key are the same address. */
function samePair(k: Int32Array): boolean {
  const half = k.length / 2;
  for (let i = 0; i < half; i++) if (k[i] !== k[half + i]) return false;
  return true;
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
