/**
 * Packet dissection for people: what a packet list row and a packet detail pane show, built on
 * `decodePacket` (decode.ts finds the headers; this file names their fields).
 *
 * Contract: pure and total — `summarizePacket` and `dissectPacket` never throw and never read at or
 * past the captured length; a header cut short is shown as far as it was captured and marked
 * `truncated`. Layer byte ranges (`offset`, `length`) index the packet's captured bytes, so a hex
 * view can highlight them. Application names come from the analyser's parsers (DNS query, TLS SNI,
 * HTTP request), so the list agrees with the job's analysis.
 *
 * @example
 * const row = summarizePacket(view);            // { protocol: 'DNS', source: '10.0.0.1', info: 'Standard query example.com', … }
 * const layers = dissectPacket(view).layers;    // Frame, Ethernet, IPv4, UDP, DNS
 */
import { dnsQueryName } from './analyze/app/dns.js';
import { httpRequestHost } from './analyze/app/http.js';
import { tlsClientHelloSni } from './analyze/app/tls.js';
import { decodePacket, EtherType, formatIpv4, formatIpv6, IpProto, newDecodedPacket } from './decode.js';
import { linkTypeName } from './info.js';
import { timestampToDecimal } from './timestamp.js';
import { L3, LinkType, type DecodedPacket, type PacketView } from './types.js';

/** One named value of a header. */
export interface PacketField {
  name: string;
  value: string;
}

/** One protocol layer of a packet, outermost first. */
export interface PacketLayer {
  /** Short protocol name: Frame, Ethernet, 802.1Q, IPv4, IPv6, ARP, TCP, UDP, SCTP, ICMP, ICMPv6, DNS, TLS, HTTP. */
  name: string;
  /** Byte range of the layer in the captured bytes (Frame: all of them). */
  offset: number;
  length: number;
  /** The header was not fully captured: `fields` hold what was. */
  truncated: boolean;
  fields: PacketField[];
}

/** A packet list row (Wireshark's columns, without the number and the time). */
export interface PacketSummary {
  /** Highest layer understood: DNS, TLS, HTTP, TCP, UDP, SCTP, ICMP, ICMPv6, ARP, IPv4, IPv6, or the link type's name. */
  protocol: string;
  /** Network addresses (IP or ARP), else link-layer addresses, else "". */
  source: string;
  destination: string;
  /** One line about the packet (ports and flags, a DNS name, an HTTP request line, …). */
  info: string;
}

const pkt = newDecodedPacket();

const TCP_FLAGS = ['FIN', 'SYN', 'RST', 'PSH', 'ACK', 'URG', 'ECE', 'CWR'] as const;
const ICMP_TYPES: Record<number, string> = {
  0: 'Echo (ping) reply',
  3: 'Destination unreachable',
  5: 'Redirect',
  8: 'Echo (ping) request',
  11: 'Time-to-live exceeded',
};
const ICMPV6_TYPES: Record<number, string> = {
  1: 'Destination unreachable',
  2: 'Packet too big',
  3: 'Time exceeded',
  128: 'Echo (ping) request',
  129: 'Echo (ping) reply',
  133: 'Router solicitation',
  134: 'Router advertisement',
  135: 'Neighbor solicitation',
  136: 'Neighbor advertisement',
};
const PROTO_NAMES: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6', 132: 'SCTP', 50: 'ESP', 51: 'AH', 47: 'GRE', 2: 'IGMP' };

const u16 = (d: Uint8Array, at: number): number => (d[at]! << 8) | d[at + 1]!;
const u32 = (d: Uint8Array, at: number): number => ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;
const hex = (n: number, digits: number): string => `0x${n.toString(16).padStart(digits, '0')}`;
const mac = (d: Uint8Array, at: number): string => Array.from(d.subarray(at, at + 6), (b) => b.toString(16).padStart(2, '0')).join(':');

/** Bytes from..to as text: printable ASCII (space included) as is, anything else as '.'. */
function asciiLine(d: Uint8Array, from: number, to: number): string {
  let out = '';
  for (let i = from; i < to; i++) out += d[i]! >= 0x20 && d[i]! < 0x7f ? String.fromCharCode(d[i]!) : '.';
  return out;
}

function etherTypeName(type: number): string {
  switch (type) {
    case EtherType.IPV4:
      return 'IPv4';
    case EtherType.IPV6:
      return 'IPv6';
    case EtherType.ARP:
      return 'ARP';
    case EtherType.RARP:
      return 'RARP';
    case EtherType.VLAN_8021Q:
      return '802.1Q';
    case EtherType.VLAN_8021AD:
      return '802.1ad';
    default:
      return hex(type, 4);
  }
}

function tcpFlagText(flags: number): string {
  return TCP_FLAGS.filter((_, i) => flags & (1 << i)).join(', ');
}

function srcAddress(view: PacketView, p: DecodedPacket): string {
  if (p.src4 >= 0) return formatIpv4(p.src4);
  if (p.src6Offset >= 0) return formatIpv6(view.data, p.src6Offset);
  return '';
}

function dstAddress(view: PacketView, p: DecodedPacket): string {
  if (p.dst4 >= 0) return formatIpv4(p.dst4);
  if (p.dst6Offset >= 0) return formatIpv6(view.data, p.dst6Offset);
  return '';
}

/** The application protocol of the payload, when the analyser's parsers recognise it. */
function application(view: PacketView, p: DecodedPacket): { name: string; info: string; fields: PacketField[] } | null {
  if (p.payloadOffset < 0 || p.payloadLength === 0 || (p.ipProto !== IpProto.TCP && p.ipProto !== IpProto.UDP)) return null;
  const d = view.data;
  const off = p.payloadOffset;
  const len = Math.min(p.payloadLength, view.caplen - off);
  if (p.sport === 53 || p.dport === 53 || p.sport === 5353 || p.dport === 5353) {
    const name = dnsQueryName(d, off, len, p.ipProto === IpProto.TCP);
    if (name !== null) return { name: 'DNS', info: `Standard query ${name}`, fields: [{ name: 'Query name', value: name }] };
    const msg = p.ipProto === IpProto.TCP ? off + 2 : off;
    if (msg + 12 <= off + len && d[msg + 2]! & 0x80) {
      const rcode = d[msg + 3]! & 0x0f;
      const answers = u16(d, msg + 6);
      const value = `${answers} answer${answers === 1 ? '' : 's'}, rcode ${rcode}`;
      return { name: 'DNS', info: `Standard query response, ${value}`, fields: [{ name: 'Response', value }] };
    }
  }
  if (p.ipProto === IpProto.TCP) {
    const sni = tlsClientHelloSni(d, off, len);
    if (sni !== null) return { name: 'TLS', info: `Client Hello (SNI=${sni})`, fields: [{ name: 'Server name (SNI)', value: sni }] };
    if (len >= 6 && d[off] === 0x16 && d[off + 1] === 3) return { name: 'TLS', info: 'Handshake', fields: [{ name: 'Record', value: 'handshake' }] };
    if (len >= 6 && d[off] === 0x17 && d[off + 1] === 3)
      return { name: 'TLS', info: 'Application Data', fields: [{ name: 'Record', value: 'application data' }] };
    const host = httpRequestHost(d, off, len);
    if (host !== null) {
      let eol = off;
      while (eol < off + len && eol - off < 200 && d[eol] !== 0x0d && d[eol] !== 0x0a) eol++;
      const line = asciiLine(d, off, eol);
      return {
        name: 'HTTP',
        info: line,
        fields: [
          { name: 'Request line', value: line },
          { name: 'Host', value: host },
        ],
      };
    }
    if (len >= 12 && asciiLine(d, off, off + 9) === 'HTTP/1.1 ') {
      let eol = off;
      while (eol < off + len && eol - off < 200 && d[eol] !== 0x0d) eol++;
      const line = asciiLine(d, off, eol);
      return { name: 'HTTP', info: line, fields: [{ name: 'Status line', value: line }] };
    }
  }
  return null;
}

function transportInfo(view: PacketView, p: DecodedPacket): string {
  const d = view.data;
  const at = p.l4Offset;
  switch (p.ipProto) {
    case IpProto.TCP: {
      if (p.sport < 0) return 'TCP (header not captured)';
      let text = `${p.sport} → ${p.dport}`;
      if (p.tcpFlags >= 0) text += ` [${tcpFlagText(p.tcpFlags)}]`;
      if (at + 16 <= view.caplen) text += ` Seq=${u32(d, at + 4)} Ack=${u32(d, at + 8)} Win=${u16(d, at + 14)}`;
      return `${text} Len=${p.payloadLength}`;
    }
    case IpProto.UDP:
    case IpProto.SCTP:
      return p.sport < 0 ? `${PROTO_NAMES[p.ipProto]} (header not captured)` : `${p.sport} → ${p.dport} Len=${p.payloadLength}`;
    case IpProto.ICMP:
      return ICMP_TYPES[p.icmpType] ?? `Type ${p.icmpType}`;
    case IpProto.ICMPV6:
      return ICMPV6_TYPES[p.icmpType] ?? `Type ${p.icmpType}`;
    default:
      return p.laterFragment ? `Fragmented IP protocol (proto=${p.ipProto})` : `IP protocol ${p.ipProto}`;
  }
}

/** The list row of one packet. */
export function summarizePacket(view: PacketView): PacketSummary {
  const p = decodePacket(view, pkt);
  let source = srcAddress(view, p);
  let destination = dstAddress(view, p);
  if (source === '' && view.linkType === LinkType.ETHERNET && view.caplen >= 14) {
    source = mac(view.data, 6);
    destination = mac(view.data, 0);
  }
  if (p.l3 === L3.ARP || p.etherType === EtherType.RARP) {
    const op = p.l3Offset + 8 <= view.caplen ? u16(view.data, p.l3Offset + 6) : 0;
    const info = op === 1 ? `Who has ${destination}? Tell ${source}` : op === 2 ? `${source} is at ${arpSenderMac(view, p)}` : `ARP opcode ${op}`;
    return { protocol: p.l3 === L3.ARP ? 'ARP' : 'RARP', source, destination, info };
  }
  if (p.l3 === L3.NONE) {
    const kind = p.etherType >= 0 ? etherTypeName(p.etherType) : linkTypeName(view.linkType);
    return { protocol: kind, source, destination, info: `${kind}, ${view.caplen} bytes captured` };
  }
  const ipName = p.l3 === L3.IPV4 ? 'IPv4' : 'IPv6';
  if (p.ipProto < 0) return { protocol: ipName, source, destination, info: `${ipName} (header not fully captured)` };
  if (p.l4Offset < 0 && !p.laterFragment) return { protocol: PROTO_NAMES[p.ipProto] ?? ipName, source, destination, info: transportInfo(view, p) };
  const app = p.laterFragment ? null : application(view, p);
  if (app) return { protocol: app.name, source, destination, info: app.info };
  const protocol = p.laterFragment ? ipName : (PROTO_NAMES[p.ipProto] ?? ipName);
  return { protocol, source, destination, info: transportInfo(view, p) };
}

function arpSenderMac(view: PacketView, p: DecodedPacket): string {
  const d = view.data;
  const at = p.l3Offset;
  return at + 14 <= view.caplen && d[at + 4] === 6 ? mac(d, at + 8) : '?';
}

/** Frame, link, network, transport and application layers of one packet, with their fields. */
export function dissectPacket(view: PacketView): { layers: PacketLayer[] } {
  const p = decodePacket(view, pkt);
  const d = view.data;
  const caplen = Math.min(view.caplen, d.length);
  const layers: PacketLayer[] = [
    {
      name: 'Frame',
      offset: 0,
      length: caplen,
      truncated: caplen < view.origLen,
      fields: [
        { name: 'Arrival time (Unix seconds)', value: timestampToDecimal(view) },
        { name: 'Length on the wire', value: `${view.origLen} bytes` },
        { name: 'Captured length', value: `${caplen} bytes` },
        { name: 'Link type', value: `${linkTypeName(view.linkType)} (${view.linkType})` },
        { name: 'Interface', value: String(view.interfaceId) },
      ],
    },
  ];
  const l3At = p.l3Offset >= 0 ? p.l3Offset : caplen;
  if (view.linkType === LinkType.ETHERNET && caplen >= 14) {
    layers.push({
      name: 'Ethernet',
      offset: 0,
      length: 14,
      truncated: false,
      fields: [
        { name: 'Destination', value: mac(d, 0) },
        { name: 'Source', value: mac(d, 6) },
        { name: 'Type', value: `${etherTypeName(u16(d, 12))} (${hex(u16(d, 12), 4)})` },
      ],
    });
    for (let i = 0; i < p.vlanCount; i++) {
      const at = 14 + i * 4;
      if (at + 4 > caplen) break;
      const tci = u16(d, at);
      layers.push({
        name: '802.1Q',
        offset: at - 2,
        length: 4,
        truncated: false,
        fields: [
          { name: 'Priority', value: String(tci >> 13) },
          { name: 'VLAN id', value: String(tci & 0x0fff) },
          { name: 'Type', value: `${etherTypeName(u16(d, at + 2))} (${hex(u16(d, at + 2), 4)})` },
        ],
      });
    }
  } else if (l3At > 0) {
    layers.push({ name: linkTypeName(view.linkType), offset: 0, length: Math.min(l3At, caplen), truncated: false, fields: [] });
  }
  if (p.l3 === L3.IPV4) layers.push(ipv4Layer(d, caplen, p));
  else if (p.l3 === L3.IPV6) layers.push(ipv6Layer(view, caplen, p));
  else if (p.l3 === L3.ARP) layers.push(arpLayer(view, caplen, p));
  if (p.l4Offset >= 0) {
    const transport = transportLayer(d, caplen, p);
    if (transport) layers.push(transport);
    const app = application(view, p);
    if (app && p.payloadOffset >= 0)
      layers.push({
        name: app.name,
        offset: p.payloadOffset,
        length: Math.min(p.payloadLength, caplen - p.payloadOffset),
        truncated: false,
        fields: app.fields,
      });
  }
  return { layers };
}

function ipv4Layer(d: Uint8Array, caplen: number, p: DecodedPacket): PacketLayer {
  const at = p.l3Offset;
  const fields: PacketField[] = [];
  const have = (n: number) => at + n <= caplen;
  if (have(1)) fields.push({ name: 'Version', value: String(d[at]! >> 4) }, { name: 'Header length', value: `${(d[at]! & 0x0f) * 4} bytes` });
  if (have(2)) fields.push({ name: 'DSCP / ECN', value: `${d[at + 1]! >> 2} / ${d[at + 1]! & 3}` });
  if (have(4)) fields.push({ name: 'Total length', value: String(u16(d, at + 2)) });
  if (have(6)) fields.push({ name: 'Identification', value: hex(u16(d, at + 4), 4) });
  if (have(8)) {
    const ff = u16(d, at + 6);
    const flags = [ff & 0x4000 ? "Don't fragment" : '', ff & 0x2000 ? 'More fragments' : ''].filter(Boolean).join(', ') || 'none';
    fields.push({ name: 'Flags', value: flags }, { name: 'Fragment offset', value: String((ff & 0x1fff) * 8) });
  }
  if (have(9)) fields.push({ name: 'Time to live', value: String(d[at + 8]) });
  if (have(10)) fields.push({ name: 'Protocol', value: `${PROTO_NAMES[d[at + 9]!] ?? 'other'} (${d[at + 9]})` });
  if (have(12)) fields.push({ name: 'Header checksum', value: hex(u16(d, at + 10), 4) });
  if (p.src4 >= 0) fields.push({ name: 'Source', value: formatIpv4(p.src4) });
  if (p.dst4 >= 0) fields.push({ name: 'Destination', value: formatIpv4(p.dst4) });
  const ihl = have(1) ? (d[at]! & 0x0f) * 4 : 20;
  return { name: 'IPv4', offset: at, length: Math.min(ihl, caplen - at), truncated: !have(Math.max(ihl, 20)), fields };
}

function ipv6Layer(view: PacketView, caplen: number, p: DecodedPacket): PacketLayer {
  const d = view.data;
  const at = p.l3Offset;
  const fields: PacketField[] = [];
  if (at + 8 <= caplen) {
    const w = u32(d, at);
    fields.push(
      { name: 'Version', value: String(w >>> 28) },
      { name: 'Traffic class', value: hex((w >>> 20) & 0xff, 2) },
      { name: 'Flow label', value: hex(w & 0xfffff, 5) },
      { name: 'Payload length', value: String(u16(d, at + 4)) },
      { name: 'Next header', value: `${PROTO_NAMES[d[at + 6]!] ?? 'other'} (${d[at + 6]})` },
      { name: 'Hop limit', value: String(d[at + 7]) },
    );
  }
  if (p.src6Offset >= 0) fields.push({ name: 'Source', value: formatIpv6(d, p.src6Offset) });
  if (p.dst6Offset >= 0) fields.push({ name: 'Destination', value: formatIpv6(d, p.dst6Offset) });
  const end = p.l4Offset >= 0 ? p.l4Offset : Math.min(at + 40, caplen);
  return { name: 'IPv6', offset: at, length: end - at, truncated: at + 40 > caplen, fields };
}

function arpLayer(view: PacketView, caplen: number, p: DecodedPacket): PacketLayer {
  const d = view.data;
  const at = p.l3Offset;
  const fields: PacketField[] = [];
  if (at + 8 <= caplen) {
    const op = u16(d, at + 6);
    fields.push({ name: 'Opcode', value: op === 1 ? 'request (1)' : op === 2 ? 'reply (2)' : String(op) });
    const hlen = d[at + 4]!;
    if (hlen === 6 && at + 14 <= caplen) fields.push({ name: 'Sender MAC', value: mac(d, at + 8) });
    if (p.src4 >= 0) fields.push({ name: 'Sender IP', value: formatIpv4(p.src4) });
    if (hlen === 6 && at + 24 <= caplen) fields.push({ name: 'Target MAC', value: mac(d, at + 18) });
    if (p.dst4 >= 0) fields.push({ name: 'Target IP', value: formatIpv4(p.dst4) });
  }
  return { name: 'ARP', offset: at, length: Math.min(28, caplen - at), truncated: at + 28 > caplen, fields };
}

function transportLayer(d: Uint8Array, caplen: number, p: DecodedPacket): PacketLayer | null {
  const at = p.l4Offset;
  const header = p.payloadOffset >= 0 ? p.payloadOffset - at : caplen - at;
  const truncated = p.payloadOffset < 0;
  const ports =
    p.sport >= 0
      ? [
          { name: 'Source port', value: String(p.sport) },
          { name: 'Destination port', value: String(p.dport) },
        ]
      : [];
  switch (p.ipProto) {
    case IpProto.TCP: {
      const fields = [...ports];
      if (at + 8 <= caplen) fields.push({ name: 'Sequence number', value: String(u32(d, at + 4)) });
      if (at + 12 <= caplen) fields.push({ name: 'Acknowledgment number', value: String(u32(d, at + 8)) });
      if (at + 13 <= caplen) fields.push({ name: 'Header length', value: `${(d[at + 12]! >> 4) * 4} bytes` });
      if (p.tcpFlags >= 0) fields.push({ name: 'Flags', value: `${hex(p.tcpFlags, 2)} (${tcpFlagText(p.tcpFlags) || 'none'})` });
      if (at + 16 <= caplen) fields.push({ name: 'Window', value: String(u16(d, at + 14)) });
      if (at + 18 <= caplen) fields.push({ name: 'Checksum', value: hex(u16(d, at + 16), 4) });
      if (at + 20 <= caplen) fields.push({ name: 'Urgent pointer', value: String(u16(d, at + 18)) });
      fields.push({ name: 'Payload length', value: String(p.payloadLength) });
      return { name: 'TCP', offset: at, length: header, truncated, fields };
    }
    case IpProto.UDP: {
      const fields = [...ports];
      if (at + 6 <= caplen) fields.push({ name: 'Length', value: String(u16(d, at + 4)) });
      if (at + 8 <= caplen) fields.push({ name: 'Checksum', value: hex(u16(d, at + 6), 4) });
      return { name: 'UDP', offset: at, length: header, truncated, fields };
    }
    case IpProto.SCTP:
      return { name: 'SCTP', offset: at, length: header, truncated, fields: ports };
    case IpProto.ICMP:
    case IpProto.ICMPV6: {
      const names = p.ipProto === IpProto.ICMP ? ICMP_TYPES : ICMPV6_TYPES;
      const fields = [{ name: 'Type', value: `${p.icmpType} (${names[p.icmpType] ?? 'other'})` }];
      if (at + 2 <= caplen) fields.push({ name: 'Code', value: String(d[at + 1]) });
      if (at + 4 <= caplen) fields.push({ name: 'Checksum', value: hex(u16(d, at + 2), 4) });
      return { name: p.ipProto === IpProto.ICMP ? 'ICMP' : 'ICMPv6', offset: at, length: header, truncated, fields };
    }
    default:
      return null;
  }
}
