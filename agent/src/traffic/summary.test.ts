import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCapture } from '@pcapmesh/shared/pcap/gen/output';
import { buildIndexData } from '@pcapmesh/shared/pcap/sidecar/index';
import { LinkType, type DecodedPacket, type PacketView } from '@pcapmesh/shared/pcap/types';
import { newDecodedPacket } from '@pcapmesh/shared/pcap/decode';
import { L3 } from '@pcapmesh/shared/pcap/types';
import { requireTool } from '@pcapmesh/shared/util/testing';
import { OTHER_NET, TrafficAccumulator, type FileTraffic } from './summary.js';

/** minute → "src dst" → [packets, bytes] */
type Counts = Map<number, Map<string, [number, number]>>;

function countsOf(t: FileTraffic): Counts {
  const out: Counts = new Map();
  for (const m of t.minutes) out.set(m.intervalStart, new Map(m.flows.map((f) => [`${f.srcNet} ${f.dstNet}`, [f.packets, f.bytes]])));
  return out;
}

/** The /24 of a dotted quad, the /64 of an IPv6 address as tshark prints it (RFC 5952 already). */
function v4net(a: string): string {
  const p = a.split('.');
  return `${p[0]}.${p[1]}.${p[2]}.0/24`;
}

function v6net64(a: string): string {
  // Expand, keep 4 groups, compress the way RFC 5952 does.
  const [l, r = ''] = a.split('::');
  const left = l ? l.split(':') : [];
  const right = r ? r.split(':') : [];
  const groups = a.includes('::') ? [...left, ...Array(8 - left.length - right.length).fill('0'), ...right] : left;
  const words = groups
    .slice(0, 4)
    .map((g) => parseInt(g, 16))
    .concat([0, 0, 0, 0]);
  let best = -1;
  let bestLen = 0;
  for (let i = 0; i < 8;) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = words.map((w) => w.toString(16));
  const text = best < 0 ? hex.join(':') : `${hex.slice(0, best).join(':')}::${hex.slice(best + bestLen).join(':')}`;
  return `${text}/64`;
}

test('a generated capture summarised in the index read equals tshark per minute and subnet pair (/24, /64)', (t) => {
  const tshark = requireTool(t, 'tshark');
  if (!tshark) return;
  const dir = mkdtempSync(join(tmpdir(), 'traffic-'));
  const file = join(dir, 'mix.pcap');
  // 3 minutes of packet time starting mid-minute: 4 minutes touched, both IPv4 and IPv6, VLANs, ARP, fragments.
  writeCapture(file, { seed: 11, packets: 20_000, start: 1_700_000_030, duration: 180 });
  const acc = new TrafficAccumulator({ ipv4Prefix: 24, ipv6Prefix: 64, maxPairsPerMinute: 10_000 });
  buildIndexData(file, undefined, acc.observe);
  const ours = acc.finish();

  const r = spawnSync(
    tshark,
    [
      '-r',
      file,
      '-n',
      '-T',
      'fields',
      '-E',
      'occurrence=f',
      '-e',
      'frame.time_epoch',
      '-e',
      'frame.len',
      '-e',
      'ip.src',
      '-e',
      'ip.dst',
      '-e',
      'ipv6.src',
      '-e',
      'ipv6.dst',
    ],
    { encoding: 'utf8', maxBuffer: 64 << 20 },
  );
  assert.equal(r.status, 0, r.stderr);
  const theirs: Counts = new Map();
  let nonIp = 0;
  for (const line of r.stdout.trim().split('\n')) {
    const [time, len, s4, d4, s6, d6] = line.split('\t');
    let pair: string;
    if (s4 && d4) pair = `${v4net(s4)} ${v4net(d4)}`;
    else if (s6 && d6) pair = `${v6net64(s6)} ${v6net64(d6)}`;
    else {
      nonIp++;
      continue;
    }
    const minute = Math.floor(Number(time) / 60) * 60_000;
    const m = theirs.get(minute) ?? new Map<string, [number, number]>();
    theirs.set(minute, m);
    const c = m.get(pair) ?? [0, 0];
    c[0]++;
    c[1] += Number(len);
    m.set(pair, c);
  }
  assert.ok(nonIp > 0, 'the mix has ARP (not counted)');
  assert.equal(ours.skipped, nonIp);
  assert.equal(ours.minutes.length, 4);
  const v6Pairs = [...countsOf(ours).values()].flatMap((m) => [...m.keys()]).filter((k) => k.includes(':'));
  assert.ok(
    v6Pairs.some((k) => k.startsWith('2001:db8:1::/64 ')),
    `IPv6 /64 pairs: ${v6Pairs.slice(0, 4).join(', ')}`,
  );
  assert.deepEqual(countsOf(ours), theirs);
});

/** A hand-made IPv4 packet view + decode (what the observer receives). */
function feed(acc: TrafficAccumulator, sec: number, src: number, dst: number, len: number): void {
  const d: DecodedPacket = newDecodedPacket();
  d.l3 = L3.IPV4;
  d.src4 = src >>> 0;
  d.dst4 = dst >>> 0;
  const p: PacketView = { sec, nsec: 0, caplen: 0, origLen: len, linkType: LinkType.ETHERNET, data: new Uint8Array(0), interfaceId: 0, offset: 0 };
  acc.observe(p, d);
}

const ip = (a: number, b: number, c: number, d: number) => ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;

test('beyond maxPairsPerMinute the smallest pairs fold into one other/other row; totals stay exact', () => {
  const acc = new TrafficAccumulator({ ipv4Prefix: 24, ipv6Prefix: 64, maxPairsPerMinute: 3 });
  // Minute 0: five pairs of 500, 400, 300, 200, 100 bytes; minute 1: two pairs (no fold).
  [500, 400, 300, 200, 100].forEach((bytes, i) => feed(acc, 10, ip(10, 0, i, 1), ip(10, 9, 9, 9), bytes));
  feed(acc, 70, ip(10, 0, 0, 1), ip(10, 9, 9, 9), 60);
  feed(acc, 75, ip(10, 0, 0, 200), ip(10, 9, 9, 1), 40); // same /24s as the row above
  feed(acc, 80, ip(192, 168, 1, 1), ip(8, 8, 8, 8), 70);
  const r = acc.finish();
  assert.deepEqual(r.minutes, [
    {
      intervalStart: 0,
      flows: [
        { srcNet: '10.0.0.0/24', dstNet: '10.9.9.0/24', packets: 1, bytes: 500 },
        { srcNet: '10.0.1.0/24', dstNet: '10.9.9.0/24', packets: 1, bytes: 400 },
        { srcNet: OTHER_NET, dstNet: OTHER_NET, packets: 3, bytes: 600 },
      ],
    },
    {
      intervalStart: 60_000,
      flows: [
        { srcNet: '10.0.0.0/24', dstNet: '10.9.9.0/24', packets: 2, bytes: 100 },
        { srcNet: '192.168.1.0/24', dstNet: '8.8.8.0/24', packets: 1, bytes: 70 },
      ],
    },
  ]);
});

test('minutes left behind are folded early; a late packet adds to its kept pair or to other', () => {
  const acc = new TrafficAccumulator({ ipv4Prefix: 16, ipv6Prefix: 64, maxPairsPerMinute: 2, trackedPairsPerMinute: 3 });
  feed(acc, 0, ip(10, 1, 0, 1), ip(10, 2, 0, 1), 900);
  feed(acc, 1, ip(10, 3, 0, 1), ip(10, 2, 0, 1), 100);
  feed(acc, 2, ip(10, 4, 0, 1), ip(10, 2, 0, 1), 50);
  feed(acc, 3, ip(10, 5, 0, 1), ip(10, 2, 0, 1), 10); // 4th pair: beyond the tracked bound, straight to other
  feed(acc, 200, ip(10, 1, 0, 1), ip(10, 2, 0, 1), 1); // minute 3: minute 0 is now sealed
  feed(acc, 5, ip(10, 1, 9, 9), ip(10, 2, 9, 9), 7); // late, kept pair
  feed(acc, 6, ip(10, 3, 0, 1), ip(10, 2, 0, 1), 5); // late, folded pair → other
  const [m0, m3] = acc.finish().minutes;
  assert.deepEqual(m0!.flows, [
    { srcNet: '10.1.0.0/16', dstNet: '10.2.0.0/16', packets: 2, bytes: 907 },
    { srcNet: OTHER_NET, dstNet: OTHER_NET, packets: 4, bytes: 165 },
  ]);
  assert.equal(m3!.intervalStart, 180_000);
});

test('IPv6 grouped by the configured prefix; other prefixes and bad settings', () => {
  const dir = mkdtempSync(join(tmpdir(), 'traffic6-'));
  const file = join(dir, 'v6.pcap');
  writeCapture(file, {
    seed: 3,
    packets: 3_000,
    hosts: ['2001:db8:1:2::10', '2001:db8:1:3::11', '10.1.1.1'],
    servers: ['2606:4700::6810:84e5', '93.184.216.34'],
  });
  const by = (ipv6Prefix: number) => {
    const acc = new TrafficAccumulator({ ipv4Prefix: 24, ipv6Prefix, maxPairsPerMinute: 100 });
    buildIndexData(file, undefined, acc.observe);
    return new Set(acc.finish().minutes.flatMap((m) => m.flows.flatMap((f) => [f.srcNet, f.dstNet])));
  };
  const n64 = by(64);
  assert.ok(n64.has('2001:db8:1:2::/64') && n64.has('2001:db8:1:3::/64') && n64.has('2606:4700::/64'), [...n64].join(' '));
  const n48 = by(48);
  assert.ok(n48.has('2001:db8:1::/48') && !n48.has('2001:db8:1:2::/64'), [...n48].join(' '));
  const n128 = by(128);
  assert.ok(n128.has('2001:db8:1:2::10/128'), [...n128].join(' '));
  assert.throws(() => new TrafficAccumulator({ ipv4Prefix: 33, ipv6Prefix: 64, maxPairsPerMinute: 1 }), /traffic.ipv4Prefix must be 0..32, got 33/);
  assert.throws(() => new TrafficAccumulator({ ipv4Prefix: 24, ipv6Prefix: 129, maxPairsPerMinute: 1 }), /traffic.ipv6Prefix/);
  assert.throws(() => new TrafficAccumulator({ ipv4Prefix: 24, ipv6Prefix: 64, maxPairsPerMinute: 0 }), /maxPairsPerMinute/);
  const all = new TrafficAccumulator({ ipv4Prefix: 0, ipv6Prefix: 0, maxPairsPerMinute: 5 });
  feed(all, 0, ip(1, 2, 3, 4), ip(200, 1, 1, 1), 10);
  feed(all, 0, ip(9, 9, 9, 9), ip(100, 1, 1, 1), 10);
  assert.deepEqual(all.finish().minutes[0]!.flows, [{ srcNet: '0.0.0.0/0', dstNet: '0.0.0.0/0', packets: 2, bytes: 20 }]);
});
