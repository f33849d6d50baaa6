/**
 * The analysis report: what `pcapmesh-pcap analyze --json` prints, what the collector stores
 * as a job's analysis and what the dashboard renders. Stable: fields are only ever added;
 * `version` changes if a field's meaning does. Plain JSON (numbers, strings, arrays, objects).
 *
 * Counting rules (the same as tshark's where tshark has a counterpart):
 * - `bytes` are frame lengths on the wire (pcap "orig_len", tshark frame.len), not captured bytes.
 * - A protocol counts a frame once if the frame's outer header chain contains it:
 *   link → VLAN tags → IPv4/IPv6/ARP → TCP/UDP/ICMP/ICMPv6. Tunnelled inner headers (GRE,
 *   VXLAN, IP-in-IP, …) and MPLS/PPP payloads are not decoded: their frames count by their
 *   outer headers only (a frame whose network layer is not IPv4/IPv6/ARP counts as `other`).
 * - A non-first IP fragment has no transport header, so it counts for IPv4/IPv6 only; a first
 *   fragment counts for its transport protocol too.
 * - Timestamps are Unix seconds (fractional, µs precision or better).
 */
import type { CaptureProblem } from '../types.js';

export const REPORT_VERSION = 1;

/** Names of the protocol breakdown, in display order. */
export const PROTOCOL_NAMES = ['ethernet', 'vlan', 'ipv4', 'ipv6', 'arp', 'tcp', 'udp', 'icmp', 'icmpv6', 'other'] as const;
export type ProtocolName = (typeof PROTOCOL_NAMES)[number];

export interface Counted {
  packets: number;
  bytes: number;
}

export interface ProtocolRow extends Counted {
  protocol: ProtocolName;
}

export interface TalkerRow extends Counted {
  address: string;
  /** Bytes in frames this address sent / received. */
  sentBytes: number;
  receivedBytes: number;
  /** True when the row comes from the bounded sketch (past the exact-table cap): counts are estimates. */
  approximate?: true;
}

/** Counts of one direction of a conversation. */
export interface DirectionTotals {
  packets: number;
  bytes: number;
}

export interface IpConversationRow extends Counted {
  /** The source of the conversation's first packet. */
  a: string;
  b: string;
  aToB: DirectionTotals;
  bToA: DirectionTotals;
  /** First and last packet times (Unix seconds). */
  first: number;
  last: number;
  approximate?: true;
}

export interface FlowConversationRow extends IpConversationRow {
  /** "tcp" or "udp". */
  transport: 'tcp' | 'udp';
  aPort: number;
  bPort: number;
}

export interface PortRow extends Counted {
  transport: 'tcp' | 'udp';
  port: number;
}

export interface NameCount {
  name: string;
  count: number;
  approximate?: true;
}

/** Summary of one conversation table (exact up to `cap` entries, then a bounded sketch). */
export interface TableSummary {
  /** Distinct keys in the exact table; when `capped`, more keys exist beyond them. */
  distinct: number;
  cap: number;
  /** True when more distinct keys arrived than the exact table holds. */
  capped: boolean;
}

export interface AnalysisReport {
  version: typeof REPORT_VERSION;
  /** The files analysed, in order. */
  files: string[];
  capture: {
    packets: number;
    /** Sum of frame lengths on the wire. */
    bytes: number;
    /** Sum of captured lengths (smaller than `bytes` when snaplen cut packets). */
    capturedBytes: number;
    /** Earliest and latest packet time; null without packets. */
    first: number | null;
    last: number | null;
    durationSeconds: number;
    /** LINKTYPE_* values seen. */
    linkTypes: number[];
    /** Damage met while reading (reading stops at it; everything before was counted). */
    problems: CaptureProblem[];
  };
  protocols: ProtocolRow[];
  /** Addresses by bytes sent plus received, heaviest first. */
  topTalkers: TalkerRow[];
  conversations: {
    /** Per IPv4/IPv6 address pair, by bytes. */
    ip: IpConversationRow[];
    /** Per TCP/UDP 5-tuple, by bytes. */
    flows: FlowConversationRow[];
    ipTable: TableSummary;
    flowTable: TableSummary;
    talkerTable: TableSummary;
  };
  /** TCP and UDP ports by packets (a packet counts for both its ports, once if they are equal). */
  topPorts: PortRow[];
  /** Packets and bytes per bucket of `bucketSeconds`, the first bucket starting at `start`. */
  timeline: { start: number; bucketSeconds: number; packets: number[]; bytes: number[] };
  /** Names in DNS queries (UDP/TCP 53, mDNS 5353), SNI in TLS ClientHellos, Host in HTTP requests. */
  dns: NameCount[];
  tlsSni: NameCount[];
  httpHosts: NameCount[];
}
