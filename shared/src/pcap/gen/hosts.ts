/**
 * The endpoints generated traffic flows between: client hosts (optionally VLAN-tagged), the
 * servers they talk to, and the names they look up. Parsed once; flows only read them.
 */
import { isIPv4, isIPv6 } from 'node:net';

/** One address on the generated network. */
export interface Endpoint {
  /** The address as given, e.g. "10.1.1.10" or "2001:db8:1::10". */
  readonly text: string;
  readonly family: 4 | 6;
  /** IPv4 address as an unsigned 32-bit int (0 for IPv6). */
  readonly v4: number;
  /** IPv6 address bytes (empty for IPv4). */
  readonly v6: Uint8Array;
  readonly mac: Uint8Array;
  /** 802.1Q/802.1ad VLAN ids, outermost first, of the segment the host sits on (clients only). */
  readonly vlans: readonly number[];
}

/**
 * Default client hosts: untagged, 802.1Q-tagged (`%20`) and QinQ (`%100.30`) IPv4 and IPv6
 * hosts on several subnets. The syntax `ADDR[%VLAN[.VLAN]]` is also what `--hosts` takes.
 */
export const DEFAULT_CLIENTS: readonly string[] = [
  '10.1.1.10',
  '10.1.1.11',
  '10.1.1.12',
  '10.1.2.20',
  '10.20.0.5%20',
  '10.20.0.6%20',
  '172.16.5.20%100.30',
  '192.168.7.7%7',
  '2001:db8:1::10',
  '2001:db8:1::11',
  '2001:db8:20::5%20',
  '2001:db8:30::9%100.30',
];

/** Servers on the far side of the gateway, IPv4 and IPv6. */
export const DEFAULT_SERVERS: readonly string[] = [
  '93.184.216.34',
  '142.250.74.110',
  '151.101.1.69',
  '104.16.132.229',
  '13.107.42.14',
  '2606:2800:220:1:248:1893:25c8:1946',
  '2a00:1450:4001:830::200e',
  '2606:4700::6810:84e5',
];

/** DNS resolvers, one per family. */
export const DEFAULT_RESOLVERS: readonly string[] = ['10.1.0.53', '2001:db8:1::53'];

/** Names looked up over DNS, sent as TLS SNI and as HTTP Host. */
export const DOMAINS: readonly string[] = [
  'example.com',
  'www.example.org',
  'api.pcapmesh.test',
  'cdn.static.example.net',
  'mail.example.com',
  'updates.vendor.example',
  'www.wikipedia.org',
  'login.corp.example',
];

/** The MAC of the default gateway every off-subnet packet goes through (a VRRP address). */
export const GATEWAY_MAC = Uint8Array.of(0x00, 0x00, 0x5e, 0x00, 0x01, 0x01);

/** Parses `ADDR[%VLAN[.VLAN]]`; throws naming the bad entry. */
export function parseEndpoint(spec: string): Endpoint {
  const [addr = '', vlanText] = spec.split('%');
  const vlans = vlanText === undefined ? [] : vlanText.split('.').map(Number);
  if (vlans.length > 2 || vlans.some((v) => !Number.isInteger(v) || v < 1 || v > 4094)) {
    throw new Error(`host "${spec}": VLAN ids must be 1..4094, at most two (outer.inner)`);
  }
  if (isIPv4(addr)) {
    const v4 = addr.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
    return { text: addr, family: 4, v4, v6: new Uint8Array(0), mac: macFor(v4), vlans };
  }
  if (isIPv6(addr)) {
    const v6 = ipv6Bytes(addr);
    const low = ((v6[12]! << 24) | (v6[13]! << 16) | (v6[14]! << 8) | v6[15]!) >>> 0;
    return { text: addr, family: 6, v4: 0, v6, mac: macFor(low ^ 0x6000000), vlans };
  }
  throw new Error(`host "${spec}" is not an IPv4 or IPv6 address (form: ADDR[%VLAN[.VLAN]])`);
}

/** A locally administered MAC derived from 32 bits of the address. */
function macFor(n: number): Uint8Array {
  return Uint8Array.of(0x02, 0x00, n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

/** The 16 bytes of an IPv6 address in text form (already validated by `isIPv6`). */
export function ipv6Bytes(addr: string): Uint8Array {
  const out = new Uint8Array(16);
  const [head = '', tail] = addr.split('::');
  const headParts = head === '' ? [] : head.split(':');
  const tailParts = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups = [...headParts, ...new Array<string>(8 - headParts.length - tailParts.length).fill('0'), ...tailParts];
  groups.forEach((g, i) => {
    const v = parseInt(g, 16);
    out[2 * i] = v >>> 8;
    out[2 * i + 1] = v & 0xff;
  });
  return out;
}
