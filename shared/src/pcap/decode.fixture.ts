/**
 * Hand-built frames for decoder and filter unit tests: small, explicit byte layouts
 * (real captures are exercised in extract.tcpdump.test.ts).
 */
import type { PacketView } from './types.js';

export const MACS = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
export const be16 = (n: number): number[] => [n >> 8, n & 255];
const quad = (a: string): number[] => a.split('.').map(Number);

/** An IPv4 header (IHL 5) from `src` to `dst` carrying `l4`; `frag` is the flags+offset word. */
export function ipv4(proto: number, l4: number[], frag = 0, src = '10.0.0.1', dst = '192.168.1.2'): number[] {
  return [0x45, 0, ...be16(20 + l4.length), 0, 1, ...be16(frag), 64, proto, 0, 0, ...quad(src), ...quad(dst), ...l4];
}

export function tcp(sport: number, dport: number, flags = 0x12): number[] {
  return [...be16(sport), ...be16(dport), 0, 0, 0, 1, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0, 0x61, 0x62];
}

export function udp(sport: number, dport: number): number[] {
  return [...be16(sport), ...be16(dport), 0, 10, 0, 0, 0x41, 0x42];
}

/** An IPv6 header 2001:db8::1 → fe80::2 with first next header `next`. */
export function ipv6(next: number, rest: number[]): number[] {
  const src = [0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1];
  const dst = [0xfe, 0x80, ...new Array<number>(13).fill(0), 2];
  return [0x60, 0, 0, 0, ...be16(rest.length), next, 64, ...src, ...dst, ...rest];
}

/** An Ethernet frame with optional VLAN tags (TPID, id) around `etherType` + payload. */
export function ether(etherType: number, payload: number[], tags: Array<[number, number]> = []): number[] {
  return [...MACS, ...tags.flatMap(([tpid, id]) => [...be16(tpid), ...be16(id)]), ...be16(etherType), ...payload];
}

/** An Ethernet/IPv4 ARP request from `spa` for `tpa`. */
export function arp(spa: string, tpa: string): number[] {
  return [0, 1, 8, 0, 6, 4, 0, 1, ...MACS.slice(0, 6), ...quad(spa), 0, 0, 0, 0, 0, 0, ...quad(tpa)];
}

export function view(linkType: number, bytes: number[], caplen = bytes.length): PacketView {
  const data = Uint8Array.from(bytes.slice(0, caplen));
  return { sec: 0, nsec: 0, caplen, origLen: bytes.length, linkType, data, interfaceId: 0, offset: 0 };
}
