/**
 * Conversation and talker tables: per IP address pair (both directions, as tshark `-z conv,ip`
 * and `-z conv,ipv6`), per TCP/UDP 5-tuple, and per address. Exact up to a cap, then bounded
 * sketches (see bounded-table.ts).
 */
import { type DecodedPacket, type PacketView } from '../types.js';
import { addressKey, addressText } from './address-key.js';
import { BoundedTable } from './bounded-table.js';
import type { FlowConversationRow, IpConversationRow, TableSummary, TalkerRow } from './report.js';

interface Conv {
  /** Address key (and port, for flows) of the side that sent the first packet. */
  a: string;
  aPort: number;
  abPackets: number;
  abBytes: number;
  baPackets: number;
  baBytes: number;
  first: number;
  last: number;
}

interface Talker {
  packets: number;
  sent: number;
  received: number;
}

export interface TableLimits {
  /** Exact entries per table before the sketch takes over (default 100 000). */
  cap: number;
  /** Entries of the sketch behind each table (default 10 000). */
  sketch: number;
}

const blankConv = (): Conv => ({ a: '', aPort: -1, abPackets: 0, abBytes: 0, baPackets: 0, baBytes: 0, first: Infinity, last: -Infinity });
const resetConv = (c: Conv): void => {
  Object.assign(c, blankConv());
};
const blankTalker = (): Talker => ({ packets: 0, sent: 0, received: 0 });
const resetTalker = (t: Talker): void => {
  Object.assign(t, blankTalker());
};

export class ConversationTables {
  private readonly pairs: BoundedTable<Conv>;
  private readonly flows: BoundedTable<Conv>;
  private readonly talkers: BoundedTable<Talker>;

  constructor(limits: TableLimits = { cap: 100_000, sketch: 10_000 }) {
    this.pairs = new BoundedTable(limits.cap, blankConv, resetConv, limits.sketch);
    this.flows = new BoundedTable(limits.cap, blankConv, resetConv, limits.sketch);
    this.talkers = new BoundedTable(limits.cap, blankTalker, resetTalker, limits.sketch);
  }

  /** Counts an IPv4/IPv6 packet whose source and destination were captured. */
  add(view: PacketView, pkt: DecodedPacket, time: number): void {
    const src = addressKey(view.data, pkt, 0);
    const dst = addressKey(view.data, pkt, 1);
    if (src === '' || dst === '') return;
    const len = view.origLen;

    const pairKey = src < dst ? src + dst : dst + src;
    const pair = this.pairs.touch(pairKey, len);
    if (pair.abPackets + pair.baPackets === 0) pair.a = src;
    count(pair, pair.a === src, len, time);

    const sender = this.talkers.touch(src, len);
    sender.packets++;
    sender.sent += len;
    if (dst !== src) {
      const receiver = this.talkers.touch(dst, len);
      receiver.packets++;
      receiver.received += len;
    } else {
      sender.received += len;
    }

    const proto = pkt.ipProto;
    if ((proto !== 6 && proto !== 17) || pkt.sport < 0 || pkt.laterFragment) return;
    const sp = String.fromCharCode(pkt.sport);
    const dp = String.fromCharCode(pkt.dport);
    const srcFirst = src < dst || (src === dst && pkt.sport <= pkt.dport);
    const flowKey = (proto === 6 ? 't' : 'u') + (srcFirst ? src + sp + dst + dp : dst + dp + src + sp);
    const flow = this.flows.touch(flowKey, len);
    if (flow.abPackets + flow.baPackets === 0) {
      flow.a = src;
      flow.aPort = pkt.sport;
    }
    count(flow, flow.a === src && flow.aPort === pkt.sport, len, time);
  }

  /** The `n` heaviest IP pairs by bytes. */
  ipRows(n: number): IpConversationRow[] {
    return this.pairs.top(n, weight).map(({ key, value, approximate }) => {
      const b = key.length === 4 ? (key.slice(0, 2) === value.a ? key.slice(2) : key.slice(0, 2))
        : key.slice(0, 8) === value.a ? key.slice(8) : key.slice(0, 8);
      return convRow(value, b, approximate);
    });
  }

  /** The `n` heaviest 5-tuples by bytes. */
  flowRows(n: number): FlowConversationRow[] {
    return this.flows.top(n, weight).map(({ key, value, approximate }) => {
      const addrLen = (key.length - 3) / 2; // 't'/'u' + two (address + port) halves
      const first = key.slice(1, 1 + addrLen);
      const firstPort = key.charCodeAt(1 + addrLen);
      const second = key.slice(2 + addrLen, 2 + 2 * addrLen);
      const secondPort = key.charCodeAt(2 + 2 * addrLen);
      const aIsFirst = first === value.a && firstPort === value.aPort;
      return {
        ...convRow(value, aIsFirst ? second : first, approximate),
        transport: key[0] === 't' ? 'tcp' as const : 'udp' as const,
        aPort: value.aPort,
        bPort: aIsFirst ? secondPort : firstPort,
      };
    });
  }

  /** Every IP pair (for exact comparisons in tests and exports). */
  allIpRows(): IpConversationRow[] {
    return this.ipRows(Infinity);
  }

  /** The `n` addresses with the most bytes sent plus received. */
  talkerRows(n: number): TalkerRow[] {
    return this.talkers.top(n, (t) => t.sent + t.received).map(({ key, value, approximate }) => ({
      address: addressText(key),
      packets: value.packets,
      bytes: value.sent + value.received,
      sentBytes: value.sent,
      receivedBytes: value.received,
      ...(approximate ? { approximate: true as const } : {}),
    }));
  }

  summaries(): { ipTable: TableSummary; flowTable: TableSummary; talkerTable: TableSummary } {
    const summary = <V>(t: BoundedTable<V>): TableSummary => ({ distinct: t.size, cap: t.cap, capped: t.capped });
    return { ipTable: summary(this.pairs), flowTable: summary(this.flows), talkerTable: summary(this.talkers) };
  }
}

function count(c: Conv, forward: boolean, len: number, time: number): void {
  if (forward) {
    c.abPackets++;
    c.abBytes += len;
  } else {
    c.baPackets++;
    c.baBytes += len;
  }
  if (time < c.first) c.first = time;
  if (time > c.last) c.last = time;
}

function weight(c: Conv): number {
  return c.abBytes + c.baBytes;
}

function convRow(c: Conv, bKey: string, approximate: boolean): IpConversationRow {
  return {
    a: addressText(c.a),
    b: addressText(bKey),
    packets: c.abPackets + c.baPackets,
    bytes: c.abBytes + c.baBytes,
    aToB: { packets: c.abPackets, bytes: c.abBytes },
    bToA: { packets: c.baPackets, bytes: c.baBytes },
    first: c.first,
    last: c.last,
    ...(approximate ? { approximate: true as const } : {}),
  };
}
