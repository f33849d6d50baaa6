import assert from 'node:assert/strict';
import { type SpawnSyncReturns, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openCapture } from '../reader.js';
import { LinkType } from '../types.js';
import { requireTool } from '../../util/testing.js';
import { genMain, parseSize } from './cli.js';
import { decodePacket, newDecodedPacket } from '../decode.js';
import { type GenOptions, TrafficGenerator } from './generator.js';
import { utcStamp, writeCapture, writeRollingCaptures } from './output.js';

const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-gen-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const sha = (path: string): string => createHash('sha256').update(readFileSync(path)).digest('hex');

test('same options give the same bytes; another seed gives others', () => {
  const opts = { seed: 42, packets: 3000, nanosecond: true };
  writeCapture(join(dir, 'a.pcap'), opts);
  writeCapture(join(dir, 'b.pcap'), opts);
  writeCapture(join(dir, 'c.pcap'), { ...opts, seed: 43 });
  assert.equal(sha(join(dir, 'a.pcap')), sha(join(dir, 'b.pcap')));
  assert.notEqual(sha(join(dir, 'a.pcap')), sha(join(dir, 'c.pcap')));
});

test('packet and byte targets, start time and duration are honoured', () => {
  const s = writeCapture(join(dir, 'n.pcap'), { packets: 1234, start: 1_600_000_000.5, duration: 30 });
  assert.equal(s.packets, 1234);
  assert.deepEqual(s.first, { sec: 1_600_000_000, nsec: 500_000_000 });
  assert.ok(s.last!.sec >= 1_600_000_029 && s.last!.sec <= 1_600_000_030, `last ${s.last!.sec}`);
  const b = writeCapture(join(dir, 'b.pcap'), { bytes: 1 << 20 });
  assert.ok(b.bytes >= 1 << 20 && b.bytes < (1 << 20) + 2100, `bytes ${b.bytes}`);
  // Our reader sees the same packets in time order, with no problems.
  const r = openCapture(join(dir, 'n.pcap'));
  let n = 0;
  let prev = -1;
  for (let v = r.next(); v; v = r.next()) {
    const t = v.sec * 1e9 + v.nsec;
    assert.ok(t >= prev, 'time never goes back');
    prev = t;
    n++;
  }
  r.close();
  assert.equal(n, 1234);
  assert.deepEqual(r.problems, []);
});

test('a rolling directory holds exactly the single file’s packets, cut by packet time', () => {
  const opts = { seed: 5, packets: 4000, duration: 50, start: 1_700_000_003 };
  const single = writeCapture(join(dir, 'whole.pcap'), opts);
  const rolled = writeRollingCaptures(join(dir, 'roll'), opts, 10);
  assert.equal(rolled.packets, single.packets);
  const names = readdirSync(join(dir, 'roll')).sort();
  assert.equal(names.length, 5);
  names.forEach((n) => assert.match(n, /^cap-\d{14}\.pcap$/));
  assert.equal(names[0], `cap-${utcStamp(1_700_000_003)}.pcap`);
  const records = (path: string): Buffer => readFileSync(path).subarray(24);
  const joined = Buffer.concat(names.map((n) => records(join(dir, 'roll', n))));
  assert.ok(joined.equals(records(join(dir, 'whole.pcap'))), 'records of the rolled files concatenate to the single file');
  for (const [i, n] of names.entries()) {
    const r = openCapture(join(dir, 'roll', n));
    for (let v = r.next(); v; v = r.next()) {
      const slot = Math.floor((v.sec + v.nsec / 1e9 - 1_700_000_003) / 10);
      assert.equal(slot, i, `${n}: packet at ${v.sec} belongs to file ${slot}`);
    }
    r.close();
  }
});

test('a custom mix starts only the kinds it names, with the names given', () => {
  const domains = ['a.example', 'b.example', 'c.example'];
  const dnsOnly = decodeAll(join(dir, 'dns.pcap'), { seed: 8, packets: 2000, mix: { dns: 1 }, domains });
  assert.ok(
    dnsOnly.every((p) => p.ipProto === 17 && (p.sport === 53 || p.dport === 53)),
    'DNS only',
  );
  const tls = decodeAll(join(dir, 'tls.pcap'), { seed: 8, packets: 2000, mix: { tls: 3, ping: 1 }, domains });
  assert.ok(
    tls.every((p) => (p.ipProto === 6 && (p.sport === 443 || p.dport === 443)) || p.ipProto === 1 || p.ipProto === 58),
    'TLS and ping only',
  );
  assert.ok(
    tls.some((p) => p.ipProto === 1 || p.ipProto === 58),
    'some pings',
  );
  for (const [label, packets] of [
    ['DNS', dnsOnly],
    ['TLS', tls],
  ] as const) {
    const names = new Set(packets.flatMap((p) => p.names));
    assert.deepEqual([...names].sort(), domains, `${label}: the names are the domains given`);
  }
});

/** Transport fields of each packet of a generated capture, and the domains of `domains` its bytes contain. */
function decodeAll(path: string, opts: GenOptions): { ipProto: number; sport: number; dport: number; names: string[] }[] {
  writeCapture(path, opts);
  const r = openCapture(path);
  const pkt = newDecodedPacket();
  const out = [];
  for (let v = r.next(); v; v = r.next()) {
    decodePacket(v, pkt);
    const text = Buffer.from(v.data).toString('latin1');
    // SNI is plain text; DNS names are labels, each after its length byte.
    const wire = (d: string): string =>
      d
        .split('.')
        .map((l) => String.fromCharCode(l.length) + l)
        .join('');
    const names = (opts.domains ?? []).filter((d) => text.includes(d) || text.includes(wire(d)));
    out.push({ ipProto: pkt.ipProto, sport: pkt.sport, dport: pkt.dport, names });
  }
  r.close();
  return out;
}

test('bad options are refused with a message naming them', () => {
  assert.throws(() => new TrafficGenerator({ linkType: 105 }), /link type 105/);
  assert.throws(() => new TrafficGenerator({ hosts: ['10.0.0.300'] }), /10\.0\.0\.300/);
  assert.throws(() => new TrafficGenerator({ hosts: ['10.0.0.1%5000'] }), /VLAN ids/);
  assert.throws(() => new TrafficGenerator({ packets: -1 }), /packets must be a positive integer/);
  assert.throws(() => new TrafficGenerator({ hosts: ['2001:db8::1'], servers: ['1.2.3.4'] }), /IPv6 clients need/);
  assert.throws(() => genMain(['--bytes', '1G']), /--out is required/);
  assert.throws(() => genMain(['--out', join(dir, 'x.pcap'), '--link', 'fddi']), /--link must be one of/);
  assert.throws(() => new TrafficGenerator({ mix: { dns: 1, smtp: 2 } as never }), /unknown flow kind "smtp"/);
  assert.throws(() => new TrafficGenerator({ mix: { dns: -1 } }), /weight of dns must be a finite number ≥ 0/);
  assert.throws(() => new TrafficGenerator({ mix: { dns: 0 } }), /at least one flow kind/);
  assert.throws(() => new TrafficGenerator({ domains: [] }), /at least one name/);
  assert.throws(() => new TrafficGenerator({ domains: ['ok.example', 'bad name.example'] }), /"bad name\.example" is not a DNS name/);
  assert.throws(() => parseSize('12 parsecs'), /bad size "12 parsecs"/);
  assert.equal(parseSize('1G'), 1 << 30);
  assert.equal(parseSize('64k'), 65536);
});

const LINKS = [LinkType.ETHERNET, LinkType.LINUX_SLL, LinkType.LINUX_SLL2, LinkType.RAW];

test('tcpdump reads every link type without complaint and counts the same packets', (t) => {
  const tcpdump = requireTool(t, 'tcpdump');
  if (!tcpdump) return;
  for (const linkType of LINKS) {
    const path = join(dir, `td-${linkType}.pcap`);
    writeCapture(path, { seed: linkType, packets: 2500, linkType, nanosecond: linkType === LinkType.RAW });
    const r: SpawnSyncReturns<string> = spawnSync(tcpdump, ['-nr', path, '-vv'], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    const lines = r.stdout.split('\n').filter((l) => /^\d\d:\d\d:\d\d\.\d+ /.test(l));
    assert.equal(lines.length, 2500, `link type ${linkType}`);
    const bad = r.stdout.split('\n').filter((l) => /bad cksum|incorrect|truncated|\[\|/i.test(l));
    assert.deepEqual(bad.slice(0, 3), [], `link type ${linkType}: tcpdump found damage`);
  }
});

test('tshark reads it, finds every checksum right and nothing malformed', (t) => {
  const tshark = requireTool(t, 'tshark');
  if (!tshark) return;
  for (const linkType of LINKS) {
    const path = join(dir, `ts-${linkType}.pcap`);
    writeCapture(path, { seed: 100 + linkType, packets: 3000, linkType });
    const count: SpawnSyncReturns<string> = spawnSync(tshark, ['-r', path, '-n', '-q', '-z', 'io,stat,0'], { encoding: 'utf8' });
    assert.equal(count.status, 0, count.stderr);
    assert.match(count.stdout, /\|\s+3000\s+\|/, `link type ${linkType}: tshark frame count`);
    const checks = ['ip', 'tcp', 'udp'].flatMap((p) => ['-o', `${p}.check_checksum:TRUE`]);
    const filter =
      'ip.checksum.status==2 || tcp.checksum.status==2 || udp.checksum.status==2 || icmp.checksum.status==2 || ' +
      'icmpv6.checksum.status==2 || _ws.malformed || _ws.expert.severity >= error';
    const r: SpawnSyncReturns<string> = spawnSync(tshark, ['-r', path, '-n', ...checks, '-Y', filter], { encoding: 'utf8', maxBuffer: 64 << 20 });
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), '', `link type ${linkType}: frames with bad checksums or malformed:\n${r.stdout.slice(0, 2000)}`);
  }
});
