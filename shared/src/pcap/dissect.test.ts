import { test } from 'node:test';
import assert from 'node:assert/strict';
import { arp, be16, ether, ipv4, ipv6, tcp, udp, view } from './decode.fixture.js';
import { dissectPacket, summarizePacket, type PacketLayer } from './dissect.js';
import { dnsQuery, httpGet, tlsClientHello } from './gen/app.js';
import { writeCapture } from './gen/output.js';
import { openCapture } from './reader.js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LinkType } from './types.js';

const field = (layer: PacketLayer | undefined, name: string): string | undefined => layer?.fields.find((f) => f.name === name)?.value;

/** A UDP datagram with a real payload and a correct length field. */
function udpWith(sport: number, dport: number, payload: Uint8Array): number[] {
  return [...be16(sport), ...be16(dport), ...be16(8 + payload.length), 0, 0, ...payload];
}
function tcpWith(sport: number, dport: number, payload: Uint8Array, flags = 0x18): number[] {
  return [...be16(sport), ...be16(dport), 0, 0, 0, 7, 0, 0, 0, 9, 0x50, flags, 0x01, 0x00, 0, 0, 0, 0, ...payload];
}

test('TCP: ports, flags, sequence numbers in the info; layers Frame, Ethernet, IPv4, TCP with byte ranges', () => {
  const v = view(LinkType.ETHERNET, ether(0x0800, ipv4(6, tcp(443, 51000, 0x12))));
  assert.deepEqual(summarizePacket(v), {
    protocol: 'TCP',
    source: '10.0.0.1',
    destination: '192.168.1.2',
    info: '443 → 51000 [SYN, ACK] Seq=1 Ack=0 Win=65535 Len=2',
  });
  const { layers } = dissectPacket(v);
  assert.deepEqual(
    layers.map((l) => [l.name, l.offset, l.length]),
    [
      ['Frame', 0, v.caplen],
      ['Ethernet', 0, 14],
      ['IPv4', 14, 20],
      ['TCP', 34, 20],
    ],
  );
  assert.equal(field(layers[2], 'Time to live'), '64');
  assert.equal(field(layers[3], 'Flags'), '0x12 (SYN, ACK)');
});

test('application layers: DNS query name, TLS SNI, HTTP request line, as the analysis names them', () => {
  const dns = view(LinkType.ETHERNET, ether(0x0800, ipv4(17, udpWith(40000, 53, dnsQuery(7, 'Example.COM', 1)))));
  assert.equal(summarizePacket(dns).protocol, 'DNS');
  assert.equal(summarizePacket(dns).info, 'Standard query example.com');
  assert.equal(field(dissectPacket(dns).layers.at(-1), 'Query name'), 'example.com');

  const tls = view(LinkType.ETHERNET, ether(0x0800, ipv4(6, tcpWith(50000, 443, tlsClientHello('api.example.net', new Uint8Array(32))))));
  assert.deepEqual([summarizePacket(tls).protocol, summarizePacket(tls).info], ['TLS', 'Client Hello (SNI=api.example.net)']);

  const http = view(LinkType.ETHERNET, ether(0x0800, ipv4(6, tcpWith(50001, 80, httpGet('www.example.org', '/index.html')))));
  assert.deepEqual([summarizePacket(http).protocol, summarizePacket(http).info], ['HTTP', 'GET /index.html HTTP/1.1']);
  assert.equal(field(dissectPacket(http).layers.at(-1), 'Host'), 'www.example.org');
});

test('UDP over IPv6, ARP, VLAN tags', () => {
  const v6 = summarizePacket(view(LinkType.ETHERNET, ether(0x86dd, ipv6(17, udp(1234, 5678)))));
  assert.deepEqual(v6, { protocol: 'UDP', source: '2001:db8::1', destination: 'fe80::2', info: '1234 → 5678 Len=2' });
  const who = summarizePacket(view(LinkType.ETHERNET, ether(0x0806, arp('10.0.0.1', '10.0.0.9'))));
  assert.deepEqual(who, { protocol: 'ARP', source: '10.0.0.1', destination: '10.0.0.9', info: 'Who has 10.0.0.9? Tell 10.0.0.1' });
  const tagged = dissectPacket(view(LinkType.ETHERNET, ether(0x0800, ipv4(17, udp(1, 2)), [[0x8100, 42]])));
  assert.deepEqual(
    tagged.layers.map((l) => l.name),
    ['Frame', 'Ethernet', '802.1Q', 'IPv4', 'UDP'],
  );
  assert.equal(field(tagged.layers[2], 'VLAN id'), '42');
});

test('a packet cut short: what was captured is shown and marked truncated, never read past caplen', () => {
  const bytes = ether(0x0800, ipv4(6, tcp(443, 51000)));
  const cut = view(LinkType.ETHERNET, bytes, 14 + 20 + 6); // 6 bytes of the TCP header
  const { layers } = dissectPacket(cut);
  assert.equal(layers[0]!.truncated, true);
  const tcpLayer = layers.find((l) => l.name === 'TCP');
  assert.equal(tcpLayer?.truncated, true);
  assert.equal(field(tcpLayer, 'Source port'), '443');
  assert.equal(field(tcpLayer, 'Sequence number'), undefined, 'the sequence number was not captured');
  assert.match(summarizePacket(cut).info, /^443 → 51000 Len=0$/);
  for (let caplen = 0; caplen <= bytes.length; caplen++) {
    const v = view(LinkType.ETHERNET, bytes, caplen);
    assert.doesNotThrow(() => (summarizePacket(v), dissectPacket(v)), `caplen ${caplen}`);
  }
});

test('every packet of a generated capture dissects, and its layers stay inside the captured bytes', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-dissect-'));
  try {
    const path = join(dir, 'mix.pcap');
    writeCapture(path, { seed: 11, packets: 3_000 });
    const r = openCapture(path);
    const seen = new Set<string>();
    for (let p = r.next(); p; p = r.next()) {
      const s = summarizePacket(p);
      seen.add(s.protocol);
      assert.ok(s.info.length > 0);
      for (const l of dissectPacket(p).layers) assert.ok(l.offset >= 0 && l.offset + l.length <= p.caplen, `${l.name} ${l.offset}+${l.length} in ${p.caplen}`);
    }
    r.close();
    for (const name of ['TCP', 'DNS', 'TLS', 'HTTP']) assert.ok(seen.has(name), `the mix has ${name} (saw ${[...seen].join(', ')})`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
