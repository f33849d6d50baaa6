import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileFilter } from './compile.js';
import { parseFilter } from './parser.js';
import { throughVlanTags } from './ast.js';
import { arp, ether, ipv4, ipv6, tcp, udp, view } from '../decode.fixture.js';
import { LinkType } from '../types.js';

const matches = (filter: string, linkType: number, bytes: number[], caplen?: number): boolean =>
  compileFilter(parseFilter(filter)).matches(view(linkType, bytes, caplen));
const through = (filter: string, bytes: number[]): boolean => compileFilter(throughVlanTags(parseFilter(filter))).matches(view(LinkType.ETHERNET, bytes));

const web = ether(0x0800, ipv4(6, tcp(51000, 443), 0, '10.0.0.1', '192.168.1.2'));
const dns6 = ether(0x86dd, ipv6(17, udp(5353, 53)));

test('addresses, nets and directions on IPv4', () => {
  assert.equal(matches('host 10.0.0.1', 1, web), true);
  assert.equal(matches('src host 192.168.1.2', 1, web), false);
  assert.equal(matches('dst host 192.168.1.2', 1, web), true);
  assert.equal(matches('src and dst net 10.0.0.0/8', 1, web), false);
  assert.equal(matches('net 192.168.0.0 mask 255.255.0.0', 1, web), true);
  assert.equal(matches('not net 172.16.0.0/12', 1, web), true);
});

test('host matches ARP sender/target addresses, except with ip host', () => {
  const who = ether(0x0806, arp('10.9.9.1', '10.9.9.254'));
  assert.equal(matches('host 10.9.9.254', 1, who), true);
  assert.equal(matches('src host 10.9.9.1', 1, who), true);
  assert.equal(matches('ip host 10.9.9.254', 1, who), false);
  assert.equal(matches('arp', 1, who), true);
});

test('ports: TCP/UDP/SCTP, not later fragments, IPv6 first next header only', () => {
  assert.equal(matches('port 443', 1, web), true);
  assert.equal(matches('udp port 443', 1, web), false);
  assert.equal(matches('tcp dst port https', 1, web), true);
  assert.equal(matches('portrange 400-500', 1, web), true);
  assert.equal(matches('portrange 1-100', 1, web), false);
  const later = ether(0x0800, ipv4(6, tcp(51000, 443), 0x0010));
  assert.equal(matches('port 443', 1, later), false);
  assert.equal(matches('tcp', 1, later), true);
  assert.equal(matches('port 53 and ip6 and udp', 1, dns6), true);
  const hop = ether(0x86dd, ipv6(0, [17, 0, 0, 0, 0, 0, 0, 0, ...udp(5353, 53)]));
  assert.equal(matches('port 53', 1, hop), false, 'libpcap reads ports at offset 40 only when the first next header is the transport');
  const frag = ether(0x86dd, ipv6(44, [17, 0, 0, 0, 0, 0, 0, 1, ...udp(5353, 53)]));
  assert.equal(matches('udp', 1, frag), true, 'a fragment header before the transport is looked through');
});

test('IPv6 addresses and prefixes', () => {
  assert.equal(matches('host 2001:db8::1', 1, dns6), true);
  assert.equal(matches('dst net fe80::/10', 1, dns6), true);
  assert.equal(matches('src net fe80::/10', 1, dns6), false);
  assert.equal(matches('host 10.0.0.1', 1, dns6), false);
});

test('vlan shifts the primitives after it, as libpcap does', () => {
  const tagged = ether(0x0800, ipv4(17, udp(1, 53)), [[0x8100, 100]]);
  assert.equal(matches('udp', 1, tagged), false);
  assert.equal(matches('vlan and udp', 1, tagged), true);
  assert.equal(matches('vlan 100 and port 53', 1, tagged), true);
  assert.equal(matches('vlan 101 and port 53', 1, tagged), false);
  assert.equal(through('port 53', tagged), true);
  const qinq = ether(0x0800, ipv4(17, udp(1, 53)), [
    [0x88a8, 7],
    [0x8100, 100],
  ]);
  assert.equal(through('udp port 53', qinq), true);
  assert.equal(through('vlan 7', qinq), true);
  // Like tcpdump: a vlan inside F shifts the later copies of F as well, so the inner tag is not reached.
  assert.equal(through('vlan 100', qinq), false);
  const triple = ether(0x0800, ipv4(17, udp(1, 53)), [
    [0x88a8, 7],
    [0x8100, 100],
    [0x9100, 5],
  ]);
  assert.equal(through('udp', triple), false, 'the through-tags form looks two tags deep, like the tcpdump reference');
});

test('link types: SLL, SLL2, raw, NULL, LOOP; unknown link types match no L3 test', () => {
  const ip = ipv4(17, udp(123, 123));
  assert.equal(matches('udp port 123', LinkType.LINUX_SLL, [0, 0, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0, 0x08, 0x00, ...ip]), true);
  assert.equal(matches('udp port 123', LinkType.LINUX_SLL2, [0x08, 0x00, ...new Array<number>(18).fill(0), ...ip]), true);
  assert.equal(matches('ip and not ip6', LinkType.RAW, ip), true);
  assert.equal(matches('ip', LinkType.IPV4, ip), true);
  assert.equal(matches('ip', LinkType.NULL, [2, 0, 0, 0, ...ip]), true);
  assert.equal(matches('ip6', LinkType.NULL, [0, 0, 0, 30, ...ipv6(17, udp(1, 2))]), true);
  assert.equal(matches('ip', LinkType.LOOP, [0, 0, 0, 2, ...ip]), true);
  assert.equal(matches('ip or ip6 or arp or port 123', 147, ip), false);
  assert.equal(matches('vlan', LinkType.LINUX_SLL, [0, 0, 0, 1, 0, 6, 0, 1, 2, 3, 4, 5, 0, 0, 0x81, 0x00, 0, 1, 8, 0, ...ip]), false);
});

test('less/greater use the wire length; truncated headers never match by accident', () => {
  assert.equal(matches('less 100', 1, web), true);
  assert.equal(matches('greater 100', 1, web), false);
  assert.equal(matches(`greater ${web.length}`, 1, web, 20), true, 'original length, not caplen');
  for (let cut = 0; cut < web.length; cut++) {
    const v = view(1, web, cut);
    if (compileFilter(parseFilter('port 0 or host 0.0.0.0 or portrange 0-1 or vlan 0')).matches(v)) assert.fail(`cut ${cut}`);
  }
});

test('compiled predicates are cached per link type', () => {
  const f = compileFilter(parseFilter('tcp'));
  assert.equal(f.forLinkType(1), f.forLinkType(1));
  assert.notEqual(f.forLinkType(1), f.forLinkType(113));
  assert.match(f.source(1), /d\[23\] === 6/);
});
