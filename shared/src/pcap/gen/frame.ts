/**
 * Writes whole frames (link header, optional VLAN tags, IPv4/IPv6, TCP/UDP/ICMP/ICMPv6/ARP,
 * payload) straight into the generator's output buffer, with correct lengths and checksums.
 * No allocation per frame: callers set `pos`, call one method, get the frame length back.
 */
import { LinkType } from '../types.js';
import type { PayloadPool } from './checksum.js';
import { finish, sum16 } from './checksum.js';
import type { Endpoint } from './hosts.js';
import type { Prng } from './prng.js';

export const ETHERTYPE = { IPV4: 0x0800, ARP: 0x0806, VLAN: 0x8100, QINQ: 0x88a8, IPV6: 0x86dd } as const;
export const PROTO = { ICMP: 1, TCP: 6, UDP: 17, IPV6_FRAG: 44, ICMPV6: 58 } as const;
export const TCP_FLAGS = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

/** One direction of a flow: who sends, to whom, over which link-layer addresses and tags. */
export interface Path {
  readonly src: Endpoint;
  readonly dst: Endpoint;
  readonly srcMac: Uint8Array;
  readonly dstMac: Uint8Array;
  readonly vlans: readonly number[];
  /** Sent by the capturing host's side (SLL packet type "outgoing"). */
  readonly outgoing: boolean;
  /** IP TTL / hop limit. */
  readonly ttl: number;
}

/** Link types the generator can frame packets for. */
export const GEN_LINK_TYPES: readonly number[] = [LinkType.ETHERNET, LinkType.LINUX_SLL, LinkType.LINUX_SLL2, LinkType.RAW];

export class FrameWriter {
  /** Where the next frame starts in `buf`. Set by the driver before each frame. */
  pos = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private dv = new DataView(this.buf.buffer);
  private ipId = 1;

  constructor(
    readonly linkType: number,
    private readonly pool: PayloadPool,
    /** Chooses where in the pool bulk payloads start. */
    private readonly rng: Prng,
  ) {
    if (!GEN_LINK_TYPES.includes(linkType)) {
      throw new Error(`generator cannot write link type ${linkType} (supported: ${GEN_LINK_TYPES.join(', ')})`);
    }
  }

  /** Points the writer at a new output buffer. */
  target(buf: Uint8Array): void {
    this.buf = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** True when the link type can carry ARP and VLAN tags (Ethernet) or at least ARP (SLL). */
  get carriesArp(): boolean {
    return this.linkType !== LinkType.RAW;
  }

  /** TCP segment with `app` bytes or `poolLen` pseudo-random bytes as payload. */
  tcp(path: Path, sport: number, dport: number, seq: number, ack: number, flags: number, app: Uint8Array | null, poolLen = 0, mss = 0): number {
    const hdr = mss > 0 ? 24 : 20;
    const payLen = app ? app.length : poolLen;
    const l4 = this.ip(path, PROTO.TCP, hdr + payLen);
    const paySum = this.payload(l4 + hdr, app, payLen);
    const dv = this.dv;
    dv.setUint16(l4, sport);
    dv.setUint16(l4 + 2, dport);
    dv.setUint32(l4 + 4, seq >>> 0);
    dv.setUint32(l4 + 8, flags & TCP_FLAGS.ACK ? ack >>> 0 : 0);
    dv.setUint16(l4 + 12, ((hdr / 4) << 12) | flags);
    dv.setUint16(l4 + 14, 64240);
    dv.setUint32(l4 + 16, 0); // checksum, urgent pointer
    if (mss > 0) dv.setUint32(l4 + 20, 0x02040000 | mss);
    const sum = this.pseudo(path, PROTO.TCP, hdr + payLen) + sum16(this.buf, l4, hdr) + paySum;
    dv.setUint16(l4 + 16, finish(sum));
    return l4 + hdr + payLen - this.pos;
  }

  /** UDP datagram carrying `app` bytes or `poolLen` pseudo-random bytes. */
  udp(path: Path, sport: number, dport: number, app: Uint8Array | null, poolLen = 0): number {
    const payLen = app ? app.length : poolLen;
    const l4 = this.ip(path, PROTO.UDP, 8 + payLen);
    const paySum = this.payload(l4 + 8, app, payLen);
    this.udpHeader(l4, path, sport, dport, payLen, paySum);
    return l4 + 8 + payLen - this.pos;
  }

  /**
   * One fragment of a UDP datagram of `8 + totalPay` bytes whose payload is pool bytes at
   * `poolOff`. Fragment `index` carries bytes [index*fragSize, ...) of the IP payload;
   * `fragSize` must be a multiple of 8. IPv4 uses the header's fragment fields, IPv6 a
   * Fragment extension header; `ident` ties the fragments together.
   */
  udpFragment(path: Path, sport: number, dport: number, poolOff: number, totalPay: number, fragSize: number, index: number, ident: number): number {
    const ipPayload = 8 + totalPay;
    const from = index * fragSize;
    const len = Math.min(fragSize, ipPayload - from);
    const more = from + len < ipPayload;
    const l4 = this.ip(path, PROTO.UDP, len, { offset: from, more, ident });
    if (index === 0) {
      this.payload(l4 + 8, null, len - 8, poolOff);
      // The UDP checksum covers the whole datagram, not just this fragment.
      this.udpHeader(l4, path, sport, dport, totalPay, this.pool.sum(poolOff, totalPay));
    } else {
      this.buf.set(this.pool.bytes.subarray(poolOff + from - 8, poolOff + from - 8 + len), l4);
    }
    return l4 + len - this.pos;
  }

  /** ICMP (IPv4) or ICMPv6 message: type, code, 4 bytes of rest-of-header, then `data`. */
  icmp(path: Path, type: number, code: number, rest: number, data: Uint8Array | null, poolLen = 0): number {
    const proto = path.src.family === 4 ? PROTO.ICMP : PROTO.ICMPV6;
    const payLen = data ? data.length : poolLen;
    const l4 = this.ip(path, proto, 8 + payLen);
    const paySum = this.payload(l4 + 8, data, payLen);
    const dv = this.dv;
    dv.setUint8(l4, type);
    dv.setUint8(l4 + 1, code);
    dv.setUint16(l4 + 2, 0);
    dv.setUint32(l4 + 4, rest >>> 0);
    let sum = sum16(this.buf, l4, 8) + paySum;
    if (proto === PROTO.ICMPV6) sum += this.pseudo(path, proto, 8 + payLen);
    dv.setUint16(l4 + 2, finish(sum));
    return l4 + 8 + payLen - this.pos;
  }

  /** ARP request (op 1, target MAC zero) or reply (op 2) between two IPv4 endpoints. */
  arp(path: Path, op: 1 | 2): number {
    const l3 = this.link(path, ETHERTYPE.ARP);
    const dv = this.dv;
    dv.setUint32(l3, 0x00010800); // hardware Ethernet, protocol IPv4
    dv.setUint32(l3 + 4, 0x06040000 | op);
    this.buf.set(path.srcMac, l3 + 8);
    dv.setUint32(l3 + 14, path.src.v4);
    if (op === 1) this.buf.fill(0, l3 + 18, l3 + 24);
    else this.buf.set(path.dstMac, l3 + 18);
    dv.setUint32(l3 + 24, path.dst.v4);
    let end = l3 + 28;
    if (this.linkType === LinkType.ETHERNET && end - this.pos < 60) {
      this.buf.fill(0, end, this.pos + 60); // Ethernet minimum frame, as captured on the wire
      end = this.pos + 60;
    }
    return end - this.pos;
  }

  /** Writes the link-layer header (and VLAN tags) at `pos`; returns the network-layer offset. */
  private link(path: Path, etherType: number): number {
    const buf = this.buf;
    const dv = this.dv;
    let p = this.pos;
    switch (this.linkType) {
      case LinkType.ETHERNET: {
        buf.set(path.dstMac, p);
        buf.set(path.srcMac, p + 6);
        p += 12;
        const tags = path.vlans;
        for (let i = 0; i < tags.length; i++) {
          dv.setUint16(p, tags.length === 2 && i === 0 ? ETHERTYPE.QINQ : ETHERTYPE.VLAN);
          dv.setUint16(p + 2, tags[i]!);
          p += 4;
        }
        dv.setUint16(p, etherType);
        return p + 2;
      }
      case LinkType.LINUX_SLL:
        dv.setUint16(p, path.outgoing ? 4 : 0);
        dv.setUint16(p + 2, 1); // ARPHRD_ETHER
        dv.setUint16(p + 4, 6);
        buf.set(path.srcMac, p + 6);
        dv.setUint16(p + 12, 0);
        dv.setUint16(p + 14, etherType);
        return p + 16;
      case LinkType.LINUX_SLL2:
        dv.setUint16(p, etherType);
        dv.setUint16(p + 2, 0);
        dv.setUint32(p + 4, 2); // interface index
        dv.setUint16(p + 8, 1); // ARPHRD_ETHER
        dv.setUint8(p + 10, path.outgoing ? 4 : 0);
        dv.setUint8(p + 11, 6);
        buf.set(path.srcMac, p + 12);
        dv.setUint16(p + 18, 0);
        return p + 20;
      default: // RAW: the IP version nibble says what follows
        return p;
    }
  }

  /**
   * Link header plus IPv4 or IPv6 header for `payLen` bytes of IP payload; returns the
   * transport-header offset. `frag` makes it a fragment (byte offset, more-fragments, id).
   */
  private ip(path: Path, proto: number, payLen: number, frag?: { offset: number; more: boolean; ident: number }): number {
    const dv = this.dv;
    if (path.src.family === 4) {
      const l3 = this.link(path, ETHERTYPE.IPV4);
      const ident = frag ? frag.ident : (this.ipId = (this.ipId + 1) & 0xffff);
      const fragField = frag ? (frag.more ? 0x2000 : 0) | (frag.offset >>> 3) : 0x4000; // DF when whole
      dv.setUint32(l3, 0x45000000 | (20 + payLen));
      dv.setUint32(l3 + 4, (ident << 16) | fragField);
      dv.setUint32(l3 + 8, (path.ttl << 24) | (proto << 16)); // checksum 0 for now
      dv.setUint32(l3 + 12, path.src.v4);
      dv.setUint32(l3 + 16, path.dst.v4);
      dv.setUint16(l3 + 10, finish(sum16(this.buf, l3, 20)));
      return l3 + 20;
    }
    const l3 = this.link(path, ETHERTYPE.IPV6);
    const ext = frag ? 8 : 0;
    dv.setUint32(l3, 0x60000000);
    dv.setUint16(l3 + 4, ext + payLen);
    dv.setUint8(l3 + 6, frag ? PROTO.IPV6_FRAG : proto);
    dv.setUint8(l3 + 7, path.ttl);
    this.buf.set(path.src.v6, l3 + 8);
    this.buf.set(path.dst.v6, l3 + 24);
    if (frag) {
      dv.setUint32(l3 + 40, proto << 24);
      dv.setUint16(l3 + 42, frag.offset | (frag.more ? 1 : 0));
      dv.setUint32(l3 + 44, frag.ident);
    }
    return l3 + 40 + ext;
  }

  /** Copies the payload into place; returns its unfolded checksum sum. */
  private payload(off: number, app: Uint8Array | null, len: number, poolOff = -1): number {
    if (app) {
      this.buf.set(app, off);
      return sum16(app, 0, app.length);
    }
    if (len <= 0) return 0;
    const from = poolOff >= 0 ? poolOff : this.pool.offsetFor(this.rng, len);
    this.buf.set(this.pool.bytes.subarray(from, from + len), off);
    return this.pool.sum(from, len);
  }

  private udpHeader(l4: number, path: Path, sport: number, dport: number, payLen: number, paySum: number): void {
    const dv = this.dv;
    dv.setUint16(l4, sport);
    dv.setUint16(l4 + 2, dport);
    dv.setUint16(l4 + 4, 8 + payLen);
    dv.setUint16(l4 + 6, 0);
    const sum = this.pseudo(path, PROTO.UDP, 8 + payLen) + sum16(this.buf, l4, 8) + paySum;
    dv.setUint16(l4 + 6, finish(sum) || 0xffff);
  }

  /** Unfolded sum of the TCP/UDP/ICMPv6 pseudo-header. */
  private pseudo(path: Path, proto: number, len: number): number {
    if (path.src.family === 4) {
      const s = path.src.v4;
      const d = path.dst.v4;
      return (s >>> 16) + (s & 0xffff) + (d >>> 16) + (d & 0xffff) + proto + len;
    }
    return sum16(path.src.v6, 0, 16) + sum16(path.dst.v6, 0, 16) + proto + len;
  }
}
