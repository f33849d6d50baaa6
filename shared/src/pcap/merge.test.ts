import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuplicateFilter } from './merge-dedup.js';
import { chooseFormat, mergeCaptures, mergeReaders } from './merge.js';
import { readerFromBytes, type CaptureReader } from './reader.js';
import { PcapngBuilder, payload, pcapBytes, type FixturePacket } from './reader.fixture.js';
import { PcapWriter } from './writer.js';

function p(sec: number, usec: number, seed: number, len = 20): FixturePacket {
  return { sec, frac: usec, data: payload(len, seed) };
}

function merged(inputs: FixturePacket[][], dedup = false, windowNs?: number): { order: number[][]; stats: ReturnType<typeof mergeReaders> } {
  const readers = inputs.map((packets, i) => readerFromBytes(pcapBytes({ packets }), `in${i}.pcap`));
  const { writer, sink } = PcapWriter.inMemory({ linkType: 1 });
  const stats = mergeReaders(readers, writer, { dedup, dedupWindowNs: windowNs });
  writer.close();
  const out = readerFromBytes(sink.bytes());
  const order: number[][] = [];
  for (let q = out.next(); q; q = out.next()) order.push([q.sec, q.nsec / 1000, q.data[0] as number]);
  return { order, stats };
}

test('merge orders by time; ties go later input first (mergecap order); exhausted inputs drop out', () => {
  const { order, stats } = merged([[p(1, 0, 10), p(3, 0, 11), p(3, 0, 12)], [p(0, 5, 20), p(3, 0, 21), p(9, 0, 22)], [], [p(3, 0, 40)]]);
  assert.deepEqual(order, [
    [0, 5, 20],
    [1, 0, 10],
    [3, 0, 40],
    [3, 0, 21],
    [3, 0, 11],
    [3, 0, 12],
    [9, 0, 22],
  ]);
  assert.equal(stats.packets, 7);
  assert.equal(stats.bytes, 7 * 20);
  assert.equal(stats.duplicates, 0);
});

test('dedup drops equal packets from another input inside the window only', () => {
  const { order, stats } = merged(
    [
      [p(1, 0, 1), p(1, 0, 1), p(5, 0, 3)], // same-input repeat is kept
      [p(1, 500, 1), p(1, 2000, 1), p(5, 0, 4)], // +0.5 ms: duplicate; +2 ms: outside window; different bytes: kept
      [p(1, 1000, 1)], // exactly +1 ms (the window): still a duplicate
    ],
    true,
    1_000_000,
  );
  assert.deepEqual(order, [
    [1, 0, 1],
    [1, 0, 1],
    [1, 2000, 1],
    [5, 0, 4],
    [5, 0, 3],
  ]);
  assert.equal(stats.duplicates, 2);
  assert.equal(stats.packets, 5);
});

test('dedup compares full bytes and original length, not only the hashed prefix', () => {
  const a = payload(300, 7);
  const b = payload(300, 7);
  b[299] = 0; // differs after the hashed prefix
  const { stats } = merged([[{ sec: 1, frac: 0, data: a }], [{ sec: 1, frac: 1, data: b }], [{ sec: 1, frac: 2, data: a, origLen: 9000 }]], true);
  assert.equal(stats.duplicates, 0);
});

test('dedup memory is bounded by the window, not the input size', () => {
  const filter = new DuplicateFilter(1_000_000);
  let maxSize = 0;
  for (let i = 0; i < 50_000; i++) {
    const data = payload(40, i);
    data[0] = i & 0xff;
    data[1] = (i >> 8) & 0xff;
    filter.isDuplicate(
      { sec: Math.floor(i / 10_000), nsec: (i % 10_000) * 100_000, caplen: 40, origLen: 40, linkType: 1, data, interfaceId: 0, offset: 0 },
      i % 2,
    );
    maxSize = Math.max(maxSize, filter.size);
  }
  assert.ok(maxSize <= 11, `window of 1 ms at 100 µs spacing holds ≤ 11 packets, held ${maxSize}`);
});

test('format choice: auto picks pcapng for mixed link types, nsecpcap for ns inputs; forced pcap refuses mixed', () => {
  const eth = readerFromBytes(pcapBytes({ packets: [] }));
  const ns = readerFromBytes(pcapBytes({ nano: true, packets: [] }));
  const sll = readerFromBytes(pcapBytes({ linkType: 113, packets: [] }));
  const two: CaptureReader = readerFromBytes(new PcapngBuilder().section().interface(1, 0).interface(101, 0).bytes());
  assert.equal(chooseFormat([eth]), 'pcap');
  assert.equal(chooseFormat([eth, ns]), 'nsecpcap');
  assert.equal(chooseFormat([eth, sll]), 'pcapng');
  assert.equal(chooseFormat([two]), 'pcapng');
  assert.equal(chooseFormat([eth, ns], 'pcap'), 'pcap');
  assert.throws(() => chooseFormat([eth, sll], 'pcap'), /2 link types \(1, 113\).*pcapng/);
});

test('mergeCaptures on files: mixed link types become pcapng, damaged input keeps its valid packets', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-merge-'));
  try {
    const a = join(dir, 'a.pcap');
    const b = join(dir, 'b.pcap');
    const out = join(dir, 'out');
    writeFileSync(a, pcapBytes({ packets: [p(1, 0, 1), p(3, 0, 3)] }));
    writeFileSync(b, pcapBytes({ linkType: 113, packets: [p(2, 0, 2), p(4, 0, 4)] }).subarray(0, 24 + 36 + 10));
    const stats = mergeCaptures([a, b], out);
    assert.equal(stats.format, 'pcapng');
    assert.equal(stats.packets, 3);
    assert.equal(stats.problems.length, 1);
    assert.match(stats.problems[0]?.reason ?? '', /^partial record header at 60$/);
    const r = readerFromBytes(readFileSync(out));
    const seen: number[] = [];
    for (let q = r.next(); q; q = r.next()) seen.push(q.linkType);
    assert.deepEqual(seen, [1, 113, 1]);
    assert.throws(() => mergeCaptures([a, join(dir, 'nope.pcap')], out), /nope\.pcap: cannot open capture/);
    const before = readFileSync(a);
    assert.throws(() => mergeCaptures([b, a], a), /is the input .*a\.pcap: refusing to overwrite it/);
    assert.deepEqual(readFileSync(a), before, 'the input is untouched');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('dedup filter agrees with a naive reference on random traffic (ring, arena and bucket growth)', () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  const windowNs = 2_000_000;
  const filter = new DuplicateFilter(windowNs);
  const seen: { t: number; input: number; bytes: number[]; origLen: number }[] = [];
  const pool = Array.from({ length: 300 }, (_, i) => payload(1 + ((i * 977) % 1600), i));
  pool.push(payload(5_000_000, 1)); // bigger than the initial arena
  const burstPool = Array.from({ length: 30_000 }, (_, i) => Uint8Array.of(i & 0xff, i >> 8, 1, 2, 3));
  let t = 1_000_000_000_000_000; // ns
  let duplicates = 0;
  for (let i = 0; i < 24_000; i++) {
    const burst = i >= 10_000 && i < 18_000;
    t += burst ? rand(2) : rand(400_000); // ~10 per window, then a burst of 8000 in one window
    const data = burst ? burstPool[rand(30_000)]! : pool[i === 7000 || i === 7001 ? 300 : rand(300)]!;
    const input = rand(3);
    const origLen = data.length + (rand(50) === 0 ? 1 : 0);
    const naive = seen.some(
      (s) => t - s.t <= windowNs && s.input !== input && s.origLen === origLen && s.bytes.length === data.length && s.bytes.every((b, k) => b === data[k]),
    );
    const view = { sec: Math.floor(t / 1e9), nsec: t % 1e9, caplen: data.length, origLen, linkType: 1, data, interfaceId: 0, offset: 0 };
    assert.equal(filter.isDuplicate(view, input), naive, `packet ${i}`);
    if (i === 17_999) assert.ok(filter.size > 4096, `burst held ${filter.size} entries`);
    if (naive) duplicates++;
    else seen.push({ t, input, bytes: [...data.subarray(0, 2000)].concat(data.length > 2000 ? [...data.subarray(2000)] : []), origLen });
    while (seen.length > 0 && t - seen[0]!.t > windowNs) seen.shift();
  }
  assert.ok(duplicates > 500, `${duplicates} duplicates exercised`);
  assert.equal(filter.size <= 20, true);
});
