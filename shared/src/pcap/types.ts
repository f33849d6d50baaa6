/**
 * The contract every part of the PCAP library shares: the packet view readers hand out, the
 * decoded-header struct the filter and the analyser read, and how problems in a capture are
 * reported. Nothing here does I/O.
 */

/** Link-layer header types (LINKTYPE_* of the tcpdump.org registry) the library decodes. */
export const LinkType = {
  NULL: 0, // BSD loopback, host byte order family
  ETHERNET: 1,
  RAW: 101, // raw IPv4 or IPv6, version nibble decides
  LOOP: 108, // OpenBSD loopback, network byte order family
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** A point in time with nanosecond precision; `nsec` is 0..999_999_999. */
export interface Timestamp {
  sec: number;
  nsec: number;
}

/**
 * One packet as a reader hands it out.
 *
 * Flyweight: a reader reuses one PacketView, and `data` is a view into the reader's buffer, so
 * both are valid only until that reader's next `next()` call. Copy what you keep
 * (`data.slice()`, `{ sec, nsec }`).
 */
export interface PacketView extends Timestamp {
  /** Bytes captured (length of `data`). */
  caplen: number;
  /** Length of the packet on the wire. */
  origLen: number;
  /** LINKTYPE_* of the interface the packet was captured on. */
  linkType: number;
  /** The captured bytes. */
  data: Uint8Array;
  /** Interface index within the file (pcapng); 0 for classic pcap. */
  interfaceId: number;
  /** Byte offset of this packet's record (pcap record header or pcapng block) in the file. */
  offset: number;
}

/**
 * Something wrong in a capture: a truncated last record, garbage after a record, a bad block.
 * Readers keep every valid packet before the problem and report it; they never throw for
 * damaged content (only for I/O errors such as a missing file).
 */
export interface CaptureProblem {
  file: string;
  /** Byte offset in the file where the problem starts. */
  offset: number;
  /** What was wrong, e.g. "record at 6423 wants 1414 bytes, 707 left". */
  reason: string;
}

/** Network-layer kinds a decoded packet can carry. */
export const L3 = { NONE: 0, IPV4: 4, IPV6: 6, ARP: 0x0806 } as const;
export type L3Kind = (typeof L3)[keyof typeof L3];

/**
 * Headers of one packet, decoded from link layer to transport layer into a reusable struct
 * (decoders fill one instance per call; no allocation per packet). Offsets index `data` of the
 * PacketView the struct was decoded from. A field that does not apply holds -1 (numbers) or
 * L3.NONE.
 */
export interface DecodedPacket {
  /** Number of 802.1Q/802.1ad tags, outermost first in `vlanIds`. */
  vlanCount: number;
  /** VLAN ids (12 bits), outermost first; only the first `vlanCount` entries are meaningful. */
  vlanIds: number[];
  /** EtherType after the tags (Ethernet, SLL, SLL2), or the one implied by raw/loopback framing. */
  etherType: number;
  l3: L3Kind;
  /** Offset of the network-layer header. */
  l3Offset: number;
  /** IPv4 source/destination (and ARP sender/target protocol address) as unsigned 32-bit ints. */
  src4: number;
  dst4: number;
  /** Offsets of the 16-byte IPv6 source/destination addresses in `data`. */
  src6Offset: number;
  dst6Offset: number;
  /** Transport protocol number (after IPv6 extension headers), -1 when none. */
  ipProto: number;
  /** True for a fragment that is not the first (no transport header in it). */
  laterFragment: boolean;
  /** Offset of the transport header, -1 when absent or not captured. */
  l4Offset: number;
  sport: number;
  dport: number;
  /** TCP flags byte, -1 for non-TCP. */
  tcpFlags: number;
  /** ICMP / ICMPv6 type, -1 otherwise. */
  icmpType: number;
  /** Offset and captured length of the transport payload (-1 / 0 when none). */
  payloadOffset: number;
  payloadLength: number;
}
