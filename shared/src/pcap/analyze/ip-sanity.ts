/**
 * Whether an IP header is sound enough to trust what follows it, by tshark's rules: the
 * version nibble matches the framing (4 or 6) and an IPv4 header length is at least 20 bytes
 * with a total length not below it (0 is allowed: TSO/GSO captures). The decoder reads
 * addresses and ports regardless (tcpdump filters do too); the analyser counts a frame with a
 * bogus IP header as IPv4/IPv6 only: no transport protocol, conversation, port or name.
 */
import { L3, type DecodedPacket } from '../types.js';

export function ipHeaderSane(d: Uint8Array, pkt: DecodedPacket): boolean {
  const at = pkt.l3Offset;
  if (at < 0 || at >= d.length) return false;
  const version = d[at]! >> 4;
  if (pkt.l3 === L3.IPV6) return version === 6;
  if (pkt.l3 !== L3.IPV4 || version !== 4) return false;
  const ihl = (d[at]! & 0x0f) * 4;
  if (ihl < 20 || at + 4 > d.length) return false;
  const total = (d[at + 2]! << 8) | d[at + 3]!;
  return total === 0 || total >= ihl;
}
