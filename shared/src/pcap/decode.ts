/**
 * Packet decoder: link layer (Ethernet with 802.1Q/802.1ad/0x9100 tags, Linux SLL and SLL2, raw IP,
 * BSD/OpenBSD loopback) → IPv4 / IPv6 (extension headers) / ARP → TCP, UDP, SCTP, ICMP, ICMPv6.
 *
 * Contract: `decodePacket` never throws and never reads at or past `view.caplen`; what was not
 * captured is reported as absent (-1 / L3.NONE), never guessed. It fills the caller's struct and
 * allocates nothing, so one `DecodedPacket` can serve a whole file.
 *
 * @example
 * const pkt = newDecodedPacket();
 * for (let v = reader.next(); v; v = reader.next()) {
 *   decodePacket(v, pkt);
 *   if (pkt.l3 === L3.IPV4 && pkt.dport === 443) count++;
 * }
 */
import { L3, LinkType, type DecodedPacket, type PacketView } from './types.js';

/** EtherTypes the decoder knows. */
export const EtherType = {
  IPV4: 0x0800,
  ARP: 0x0806,
  RARP: 0x8035,
  IPV6: 0x86dd,
  VLAN_8021Q: 0x8100,
  VLAN_8021AD: 0x88a8,
  VLAN_QINQ: 0x9100,
} as const;

/** IP protocol numbers the decoder reads ports or types from. */
export const IpProto = {
  HOPOPTS: 0,
  ICMP: 1,
  TCP: 6,
  UDP: 17,
  ROUTING: 43,
  FRAGMENT: 44,
  ESP: 50,
  AH: 51,
  ICMPV6: 58,
  NONE: 59,
  DSTOPTS: 60,
  SCTP: 132,
} as const;

/** Link types `decodePacket` understands (others decode to nothing: l3 NONE). */
export const DECODED_LINK_TYPES: ReadonlySet<number> = new Set([0, 1, 9, 50, 101, 104, 108, 113, 228, 229, 276]);

/** Most VLAN tags recorded in `vlanIds` (deeper tags are skipped but still counted). */
export const MAX_VLAN_IDS = 8;

/** BSD address-family values for IPv6 in NULL/LOOP headers (BSD, FreeBSD, Darwin) and Linux. */
const AF_INET = 2;
const AF_INET6_VALUES = new Set([24, 28, 30, 10]);

/** A fresh struct with every field absent. */
export function newDecodedPacket(): DecodedPacket {
  const out: DecodedPacket = {
    vlanCount: 0,
    vlanIds: new Array<number>(MAX_VLAN_IDS).fill(-1),
    etherType: -1,
    l3: L3.NONE,
    l3Offset: -1,
    src4: -1,
    dst4: -1,
    src6Offset: -1,
    dst6Offset: -1,
    ipProto: -1,
    laterFragment: false,
    l4Offset: -1,
    sport: -1,
    dport: -1,
    tcpFlags: -1,
    icmpType: -1,
    payloadOffset: -1,
    payloadLength: 0,
  };
  return out;
}

function reset(out: DecodedPacket): void {
  out.vlanCount = 0;
  out.etherType = -1;
  out.l3 = L3.NONE;
  out.l3Offset = -1;
  out.src4 = -1;
  out.dst4 = -1;
  out.src6Offset = -1;
  out.dst6Offset = -1;
  out.ipProto = -1;
  out.laterFragment = false;
  out.l4Offset = -1;
  out.sport = -1;
  out.dport = -1;
  out.tcpFlags = -1;
  out.icmpType = -1;
  out.payloadOffset = -1;
  out.payloadLength = 0;
}

/** True for the tag protocol identifiers of 802.1Q, 802.1ad and the old QinQ 0x9100. */
export function isVlanTpid(etherType: number): boolean {
  return etherType === 0x8100 || etherType === 0x88a8 || etherType === 0x9100;
}

/**
 * Decodes `view` into `out` (and returns `out`). Fields that do not apply or were not captured
 * hold -1 / L3.NONE. IPv4 source/destination are unsigned 32-bit ints; for ARP and RARP they are
 * the sender/target protocol addresses (RARP keeps `l3` = NONE and `etherType` 0x8035).
 */
export function decodePacket(view: PacketView, out: DecodedPacket): DecodedPacket {
  reset(out);
  const d = view.data;
  const caplen = Math.min(view.caplen, d.length);
  switch (view.linkType) {
    case LinkType.ETHERNET:
      if (caplen >= 14) decodeEtherTyped(d, caplen, 12, out);
      break;
    case LinkType.LINUX_SLL:
      if (caplen >= 16) decodeEtherTyped(d, caplen, 14, out);
      break;
    case LinkType.LINUX_SLL2:
      if (caplen >= 20) {
        out.etherType = (d[0]! << 8) | d[1]!;
        decodeNetwork(d, caplen, 20, out);
      }
      break;
    case LinkType.RAW:
    case 12: // DLT_RAW as written by some BSDs; libpcap and tshark read it as raw IP
    case 14: // DLT_RAW of BSD/OS, likewise
      if (caplen >= 1) decodeRawIp(d, caplen, 0, out);
      break;
    case LinkType.IPV4:
      out.etherType = EtherType.IPV4;
      decodeNetwork(d, caplen, 0, out);
      break;
    case LinkType.IPV6:
      out.etherType = EtherType.IPV6;
      decodeNetwork(d, caplen, 0, out);
      break;
    case LinkType.NULL:
    case LinkType.LOOP:
      if (caplen >= 4) decodeLoopback(d, caplen, out);
      break;
    case 9: // PPP: address, control, 2-byte PPP protocol
    case 50: // PPP in HDLC-like framing
      if (caplen >= 4) {
        const proto = (d[2]! << 8) | d[3]!;
        out.etherType = proto === 0x0021 ? EtherType.IPV4 : proto === 0x0057 ? EtherType.IPV6 : -1;
        decodeNetwork(d, caplen, 4, out);
      }
      break;
    case 104: // Cisco HDLC: address, control, EtherType
      if (caplen >= 4) {
        out.etherType = (d[2]! << 8) | d[3]!;
        decodeNetwork(d, caplen, 4, out);
      }
      break;
    default:
      break;
  }
  return out;
}

/** Ethernet or SLL: EtherType at `typeAt`, then any number of VLAN tags. */
function decodeEtherTyped(d: Uint8Array, caplen: number, typeAt: number, out: DecodedPacket): void {
  let type = (d[typeAt]! << 8) | d[typeAt + 1]!;
  let off = typeAt + 2;
  while (isVlanTpid(type)) {
    if (off + 4 > caplen) {
      out.etherType = type;
      return;
    }
    if (out.vlanCount < MAX_VLAN_IDS) out.vlanIds[out.vlanCount] = ((d[off]! << 8) | d[off + 1]!) & 0x0fff;
    out.vlanCount++;
    type = (d[off + 2]! << 8) | d[off + 3]!;
    off += 4;
  }
  out.etherType = type;
  decodeNetwork(d, caplen, off, out);
}

function decodeRawIp(d: Uint8Array, caplen: number, off: number, out: DecodedPacket): void {
  const version = d[off]! >> 4;
  if (version === 4) out.etherType = EtherType.IPV4;
  else if (version === 6) out.etherType = EtherType.IPV6;
  else return;
  decodeNetwork(d, caplen, off, out);
}

/** NULL (host byte order) and LOOP (network order) headers: a 4-byte address family. */
function decodeLoopback(d: Uint8Array, caplen: number, out: DecodedPacket): void {
  const le = d[0]! | (d[1]! << 8) | (d[2]! << 16) | (d[3]! << 24);
  const be = ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0;
  const family = le >>> 0 < 256 ? le : be;
  if (family === AF_INET) out.etherType = EtherType.IPV4;
  else if (AF_INET6_VALUES.has(family)) out.etherType = EtherType.IPV6;
  else return;
  decodeNetwork(d, caplen, 4, out);
}

function decodeNetwork(d: Uint8Array, caplen: number, off: number, out: DecodedPacket): void {
  switch (out.etherType) {
    case EtherType.IPV4:
      decodeIpv4(d, caplen, off, out);
      break;
    case EtherType.IPV6:
      decodeIpv6(d, caplen, off, out);
      break;
    case EtherType.ARP:
    case EtherType.RARP:
      decodeArp(d, caplen, off, out);
      break;
    default:
      break;
  }
}

function read32(d: Uint8Array, at: number): number {
  return ((d[at]! << 24) | (d[at + 1]! << 16) | (d[at + 2]! << 8) | d[at + 3]!) >>> 0;
}

/** ARP/RARP for IPv4 over any hardware: addresses located through hlen/plen. */
function decodeArp(d: Uint8Array, caplen: number, off: number, out: DecodedPacket): void {
  if (out.etherType === EtherType.ARP) {
    out.l3 = L3.ARP;
    out.l3Offset = off;
  }
  if (off + 8 > caplen) return;
  const hlen = d[off + 4]!;
  const plen = d[off + 5]!;
  if (plen !== 4) return;
  const spa = off + 8 + hlen;
  const tpa = spa + 4 + hlen;
  if (spa + 4 <= caplen) out.src4 = read32(d, spa);
  if (tpa + 4 <= caplen) out.dst4 = read32(d, tpa);
}

function decodeIpv4(d: Uint8Array, caplen: number, off: number, out: DecodedPacket): void {
  out.l3 = L3.IPV4;
  out.l3Offset = off;
  if (off + 20 > caplen) {
    if (off + 16 <= caplen) out.src4 = read32(d, off + 12);
    if (off + 10 <= caplen) out.ipProto = d[off + 9]!;
    return;
  }
  const ihl = (d[off]! & 0x0f) * 4;
  out.src4 = read32(d, off + 12);
  out.dst4 = read32(d, off + 16);
  out.ipProto = d[off + 9]!;
  out.laterFragment = (((d[off + 6]! << 8) | d[off + 7]!) & 0x1fff) !== 0;
  if (ihl < 20 || out.laterFragment) return;
  // Transport payload ends at the IP total length when it is sane (BIG TCP/GSO frames carry 0).
  const total = (d[off + 2]! << 8) | d[off + 3]!;
  const end = total >= ihl && off + total <= caplen ? off + total : caplen;
  decodeTransport(d, end, off + ihl, out);
}

function decodeIpv6(d: Uint8Array, caplen: number, off: number, out: DecodedPacket): void {
  out.l3 = L3.IPV6;
  out.l3Offset = off;
  if (off + 24 <= caplen) out.src6Offset = off + 8;
  if (off + 40 > caplen) return;
  out.dst6Offset = off + 24;
  const payloadLen = (d[off + 4]! << 8) | d[off + 5]!;
  const end = payloadLen > 0 && off + 40 + payloadLen <= caplen ? off + 40 + payloadLen : caplen;
  let next = d[off + 6]!;
  let at = off + 40;
  // Walk extension headers; each step needs its 2 (or 8 for a fragment) leading bytes captured.
  for (let hops = 0; hops < 16; hops++) {
    if (next === IpProto.HOPOPTS || next === IpProto.ROUTING || next === IpProto.DSTOPTS) {
      if (at + 2 > end) break;
      const len = (d[at + 1]! + 1) * 8;
      next = d[at]!;
      at += len;
    } else if (next === IpProto.AH) {
      if (at + 2 > end) break;
      const len = (d[at + 1]! + 2) * 4;
      next = d[at]!;
      at += len;
    } else if (next === IpProto.FRAGMENT) {
      if (at + 8 > end) break;
      const fragOffset = ((d[at + 2]! << 8) | d[at + 3]!) >> 3;
      next = d[at]!;
      at += 8;
      if (fragOffset !== 0) {
        out.laterFragment = true;
        out.ipProto = next;
        return;
      }
    } else {
      out.ipProto = next;
      decodeTransport(d, end, at, out);
      return;
    }
  }
  // Extension headers not fully captured (or absurdly many): the transport is unknown.
  out.ipProto = -1;
}

/** Ports, flags, ICMP type and payload bounds; `end` is one past the last usable byte. */
function decodeTransport(d: Uint8Array, end: number, at: number, out: DecodedPacket): void {
  const proto = out.ipProto;
  if (at >= end) return;
  out.l4Offset = at;
  let headerLen = 0;
  switch (proto) {
    case IpProto.TCP:
      if (at + 4 <= end) {
        out.sport = (d[at]! << 8) | d[at + 1]!;
        out.dport = (d[at + 2]! << 8) | d[at + 3]!;
      }
      if (at + 14 <= end) out.tcpFlags = d[at + 13]!;
      if (at + 13 <= end) headerLen = (d[at + 12]! >> 4) * 4;
      break;
    case IpProto.UDP:
    case IpProto.SCTP:
      if (at + 4 <= end) {
        out.sport = (d[at]! << 8) | d[at + 1]!;
        out.dport = (d[at + 2]! << 8) | d[at + 3]!;
      }
      headerLen = proto === IpProto.UDP ? 8 : 12;
      break;
    case IpProto.ICMP:
    case IpProto.ICMPV6:
      out.icmpType = d[at]!;
      headerLen = proto === IpProto.ICMP ? 8 : 4;
      break;
    default:
      return;
  }
  if (headerLen > 0 && at + headerLen <= end) {
    out.payloadOffset = at + headerLen;
    out.payloadLength = end - out.payloadOffset;
  }
}

/** Formats the IPv6 address at `offset` of `data` in RFC 5952 form (for logs and tests). */
export function formatIpv6(data: Uint8Array, offset: number): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((data[offset + i]! << 8) | data[offset + i + 1]!);
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** Formats an unsigned 32-bit IPv4 address as dotted quad. */
export function formatIpv4(addr: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}`;
}
