/**
 * Compact map keys for IP addresses: an IPv4 address is 2 UTF-16 code units, an IPv6 address 8,
 * so keys of either family never collide and cost one short string per packet. Turned back
 * into text only when a report is written.
 */
import { formatIpv4, formatIpv6 } from '../decode.js';
import { L3, type DecodedPacket } from '../types.js';

/** Key of the packet's source (`which` = 0) or destination (1) address; '' when not IP or not captured. */
export function addressKey(d: Uint8Array, pkt: DecodedPacket, which: 0 | 1): string {
  if (pkt.l3 === L3.IPV4) {
    const a = which === 0 ? pkt.src4 : pkt.dst4;
    return a < 0 ? '' : String.fromCharCode(a >>> 16, a & 0xffff);
  }
  if (pkt.l3 === L3.IPV6) {
    const o = which === 0 ? pkt.src6Offset : pkt.dst6Offset;
    if (o < 0) return '';
    return String.fromCharCode(
      (d[o]! << 8) | d[o + 1]!, (d[o + 2]! << 8) | d[o + 3]!, (d[o + 4]! << 8) | d[o + 5]!, (d[o + 6]! << 8) | d[o + 7]!,
      (d[o + 8]! << 8) | d[o + 9]!, (d[o + 10]! << 8) | d[o + 11]!, (d[o + 12]! << 8) | d[o + 13]!, (d[o + 14]! << 8) | d[o + 15]!,
    );
  }
  return '';
}

/** The text form of an address key ("10.0.0.1", "2001:db8::1"). */
export function addressText(key: string): string {
  if (key.length === 2) return formatIpv4(((key.charCodeAt(0) << 16) | key.charCodeAt(1)) >>> 0);
  const bytes = new Uint8Array(16);
  for (let i = 0; i < 8; i++) {
    const w = key.charCodeAt(i);
    bytes[2 * i] = w >>> 8;
    bytes[2 * i + 1] = w & 0xff;
  }
  return formatIpv6(bytes, 0);
}
