/**
 * Per-protocol packet and byte totals over the outer header chain (see report.ts for the
 * counting rules). Twenty numbers, no allocation per packet.
 */
import { L3, LinkType, type DecodedPacket, type PacketView } from '../types.js';
import { PROTOCOL_NAMES, type ProtocolRow } from './report.js';

/** Row indexes, in PROTOCOL_NAMES order. */
const P = { ETHERNET: 0, VLAN: 1, IPV4: 2, IPV6: 3, ARP: 4, TCP: 5, UDP: 6, ICMP: 7, ICMPV6: 8, OTHER: 9 } as const;

export class ProtocolCounter {
  private readonly packets = new Float64Array(PROTOCOL_NAMES.length);
  private readonly bytes = new Float64Array(PROTOCOL_NAMES.length);

  /** `ipSane`: false for a bogus IP header (see ip-sanity.ts): its transport is not counted. */
  add(view: PacketView, pkt: DecodedPacket, ipSane: boolean): void {
    const len = view.origLen;
    if (view.linkType === LinkType.ETHERNET) this.count(P.ETHERNET, len);
    if (pkt.vlanCount > 0) this.count(P.VLAN, len);
    switch (pkt.l3) {
      case L3.IPV4:
        this.count(P.IPV4, len);
        break;
      case L3.IPV6:
        this.count(P.IPV6, len);
        break;
      case L3.ARP:
        this.count(P.ARP, len);
        return;
      default:
        this.count(P.OTHER, len);
        return;
    }
    // A later fragment, a transport header not captured, or an IP header not to be trusted.
    if (pkt.l4Offset < 0 || !ipSane) return;
    switch (pkt.ipProto) {
      case 6:
        this.count(P.TCP, len);
        break;
      case 17:
        this.count(P.UDP, len);
        break;
      case 1:
        this.count(P.ICMP, len);
        break;
      case 58:
        this.count(P.ICMPV6, len);
        break;
      default:
        break;
    }
  }

  rows(): ProtocolRow[] {
    return PROTOCOL_NAMES.map((protocol, i) => ({ protocol, packets: this.packets[i]!, bytes: this.bytes[i]! }));
  }

  private count(p: number, len: number): void {
    this.packets[p] = this.packets[p]! + 1;
    this.bytes[p] = this.bytes[p]! + len;
  }
}
