import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePacket, formatIpv4, formatIpv6, newDecodedPacket } from './decode.js';
import { L3, LinkType } from './types.js';
import { MACS, be16, ipv4, ipv6, tcp, udp, view } from './decode.fixture.js';

test('Ethernet IPv4 TCP: addresses, ports, flags, payload', () => {
  const p = decodePacket(view(LinkType.ETHERNET, [...MACS, 0x08, 0x00, ...ipv4(6, tcp(443, 51000))]), newDecodedPacket());
  assert.equal(p.l3, L3.IPV4);
  assert.equal(formatIpv4(p.src4), '10.0.0.1');
  assert.equal(formatIpv4(p.dst4), '192.168.1.2');
  assert.deepEqual([p.ipProto, p.sport, p.dport, p.tcpFlags, p.l4Offset], [6, 443, 51000, 0x12, 34]);
  assert.deepEqual([p.payloadOffset, p.payloadLength], [54, 2]);
});

test('802.1ad + 802.1Q (QinQ) tags are counted outermost first and skipped', () => {
  const frame = [...MACS, 0x88, 0xa8, ...be16(100), 0x81, 0x00, ...be16(0x2000 | 200), 0x08, 0x00, ...ipv4(17, udp(53, 5353))];
  const p = decodePacket(view(LinkType.ETHERNET, frame), newDecodedPacket());
  assert.equal(p.vlanCount, 2);
  assert.deepEqual(p.vlanIds.slice(0, 2), [100, 200]);
  assert.deepEqual([p.etherType, p.l3Offset, p.sport, p.dport], [0x0800, 22, 53, 5353]);
});

test('a later IPv4 fragment has no ports', () => {
  const p = decodePacket(view(LinkType.ETHERNET, [...MACS, 0x08, 0x00, ...ipv4(17, udp(1, 2), 0x00b9)]), newDecodedPacket());
  assert.equal(p.laterFragment, true);
  assert.deepEqual([p.ipProto, p.sport, p.l4Offset], [17, -1, -1]);
});

test('IPv6 walks hop-by-hop and fragment headers to UDP', () => {
  const hop = [44, 0, 0, 0, 0, 0, 0, 0];
  const frag = [17, 0, 0, 0, 0, 0, 0, 7];
  const p = decodePacket(view(LinkType.ETHERNET, [...MACS, 0x86, 0xdd, ...ipv6(0, [...hop, ...frag, ...udp(547, 546)])]), newDecodedPacket());
  assert.equal(p.l3, L3.IPV6);
  assert.deepEqual([p.ipProto, p.sport, p.dport, p.laterFragment], [17, 547, 546, false]);
});

test('formatIpv6 compresses the longest zero run', () => {
  const bytes = Uint8Array.from([0x20, 0x01, 0x0d, 0xb8, ...new Array<number>(11).fill(0), 1]);
  assert.equal(formatIpv6(bytes, 0), '2001:db8::1');
});

test('IPv6 later fragment reports the protocol but no ports', () => {
  const frag = [6, 0, 0x05, 0x00, 0, 0, 0, 7];
  const p = decodePacket(view(LinkType.RAW, ipv6(44, [...frag, ...tcp(1, 2)])), newDecodedPacket());
  assert.deepEqual([p.l3, p.ipProto, p.laterFragment, p.sport], [L3.IPV6, 6, true, -1]);
});

test('SLL, SLL2, raw IPv4 (228), NULL in both byte orders, LOOP', () => {
  const ip = ipv4(17, udp(123, 123));
  const sll = [0, 0, 0, 1, 0, 6, ...MACS.slice(0, 6), 0, 0, 0x08, 0x00, ...ip];
  const sll2 = [0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6, ...MACS.slice(0, 6), 0, 0, ...ip];
  for (const [lt, bytes] of [
    [LinkType.LINUX_SLL, sll],
    [LinkType.LINUX_SLL2, sll2],
    [LinkType.IPV4, ip],
    [LinkType.RAW, ip],
    [LinkType.NULL, [2, 0, 0, 0, ...ip]],
    [LinkType.NULL, [0, 0, 0, 2, ...ip]],
    [LinkType.LOOP, [0, 0, 0, 2, ...ip]],
  ] as const) {
    const p = decodePacket(view(lt, [...bytes]), newDecodedPacket());
    assert.deepEqual([p.l3, p.sport, p.dport], [L3.IPV4, 123, 123], `link type ${lt}`);
  }
  const p6 = decodePacket(view(LinkType.NULL, [30, 0, 0, 0, ...ipv6(58, [128, 0, 0, 0])]), newDecodedPacket());
  assert.deepEqual([p6.l3, p6.ipProto, p6.icmpType], [L3.IPV6, 58, 128]);
});

test('ARP sender and target addresses', () => {
  const arp = [0, 1, 8, 0, 6, 4, 0, 1, ...MACS.slice(0, 6), 10, 0, 0, 1, 0, 0, 0, 0, 0, 0, 10, 0, 0, 254];
  const p = decodePacket(view(LinkType.ETHERNET, [...MACS, 0x08, 0x06, ...arp]), newDecodedPacket());
  assert.equal(p.l3, L3.ARP);
  assert.deepEqual([formatIpv4(p.src4), formatIpv4(p.dst4)], ['10.0.0.1', '10.0.0.254']);
});

test('truncation at every length never throws and never invents fields', () => {
  const frames: Array<[number, number[]]> = [
    [LinkType.ETHERNET, [...MACS, 0x81, 0x00, 0, 5, 0x08, 0x00, ...ipv4(6, tcp(80, 1234))]],
    [LinkType.ETHERNET, [...MACS, 0x86, 0xdd, ...ipv6(0, [6, 0, 0, 0, 0, 0, 0, 0, ...tcp(22, 2222)])]],
    [LinkType.LINUX_SLL2, [0x86, 0xdd, ...new Array<number>(18).fill(0), ...ipv6(17, udp(1, 2))]],
  ];
  const out = newDecodedPacket();
  for (const [lt, bytes] of frames) {
    const full = decodePacket(view(lt, bytes), newDecodedPacket());
    for (let cut = 0; cut <= bytes.length; cut++) {
      const p = decodePacket(view(lt, bytes, cut), out);
      if (p.sport !== -1) assert.equal(p.sport, full.sport);
      if (p.l4Offset !== -1) assert.ok(p.l4Offset < cut);
      assert.ok(p.payloadOffset + p.payloadLength <= cut);
    }
  }
});

test('random bytes on every link type never throw', () => {
  let seed = 12345;
  const rand = (): number => (seed = (seed * 1103515245 + 12345) >>> 0) >>> 24;
  const out = newDecodedPacket();
  for (let i = 0; i < 20000; i++) {
    const len = rand() % 96;
    const bytes = Array.from({ length: len }, rand);
    if (len > 13 && i % 3 === 0) [bytes[12], bytes[13]] = [0x86, 0xdd];
    for (const lt of [0, 1, 101, 108, 113, 228, 229, 276, 147]) decodePacket(view(lt, bytes), out);
  }
});
