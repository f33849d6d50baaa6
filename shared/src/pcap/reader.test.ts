import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCapture, readerCounters, readerFromBytes, type CaptureReader } from './reader.js';
import { PcapngBuilder, payload, pcapBytes } from './reader.fixture.js';

interface Seen {
  sec: number;
  nsec: number;
  caplen: number;
  origLen: number;
  linkType: number;
  interfaceId: number;
  offset: number;
  data: number[];
}

function readAll(r: CaptureReader): Seen[] {
  const out: Seen[] = [];
  for (let p = r.next(); p; p = r.next()) {
    out.push({
      sec: p.sec,
      nsec: p.nsec,
      caplen: p.caplen,
      origLen: p.origLen,
      linkType: p.linkType,
      interfaceId: p.interfaceId,
      offset: p.offset,
      data: [...p.data],
    });
  }
  return out;
}

function withTempFile<T>(bytes: Uint8Array, fn: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-reader-'));
  try {
    const path = join(dir, 'x.cap');
    writeFileSync(path, bytes);
    return fn(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const threePackets = [
  { sec: 1_700_000_000, frac: 5, data: payload(60, 1) },
  { sec: 1_700_000_001, frac: 999_999, data: payload(1, 2), origLen: 1500 },
  { sec: 4_294_967_295, frac: 0, data: payload(0) },
];

for (const le of [true, false]) {
  for (const nano of [false, true]) {
    test(`classic pcap ${le ? 'LE' : 'BE'} ${nano ? 'ns' : 'µs'}: fields, times and data`, () => {
      const r = readerFromBytes(pcapBytes({ le, nano, snaplen: 9000, linkType: 113, packets: threePackets }), 'hand.pcap');
      assert.equal(r.format, 'pcap');
      assert.equal(r.nanosecond, nano);
      assert.equal(r.snaplen, 9000);
      assert.deepEqual(r.linkTypes, [113]);
      const seen = readAll(r);
      assert.deepEqual(r.problems, []);
      assert.equal(seen.length, 3);
      assert.deepEqual(
        seen.map((p) => [p.sec, p.nsec]),
        [
          [1_700_000_000, nano ? 5 : 5000],
          [1_700_000_001, nano ? 999_999 : 999_999_000],
          [4_294_967_295, 0],
        ],
      );
      assert.deepEqual(
        seen.map((p) => p.offset),
        [24, 24 + 16 + 60, 24 + 16 + 60 + 16 + 1],
      );
      assert.deepEqual(seen[0]?.data, [...payload(60, 1)]);
      assert.equal(seen[1]?.origLen, 1500);
      assert.equal(seen[1]?.caplen, 1);
      assert.equal(seen[2]?.caplen, 0);
      assert.ok(seen.every((p) => p.linkType === 113 && p.interfaceId === 0));
      assert.equal(r.next(), null, 'stays at end');
    });
  }
}

test('classic pcap: an out-of-range µs fraction carries into seconds', () => {
  const r = readerFromBytes(pcapBytes({ packets: [{ sec: 10, frac: 2_147_483_648, data: payload(4) }] }));
  const [p] = readAll(r);
  assert.deepEqual([p?.sec, p?.nsec], [10 + 2147, 483_648_000]);
});

test('classic pcap: absurd caplen stops reading with the record offset, earlier packets kept', () => {
  const bytes = pcapBytes({ packets: threePackets });
  new DataView(bytes.buffer).setUint32(24 + 16 + 60 + 8, 2_147_483_647, true);
  const r = readerFromBytes(bytes, 'bad.pcap');
  assert.equal(readAll(r).length, 1);
  assert.deepEqual(r.problems, [{ file: 'bad.pcap', offset: 100, reason: 'absurd caplen 2147483647 at 100' }]);
});

test('classic pcap: cut at every byte never throws past the header and keeps every whole packet', () => {
  const full = pcapBytes({ packets: threePackets });
  const ends = [24, 100, 117, 133];
  for (let cut = 24; cut <= full.length; cut++) {
    const r = readerFromBytes(full.subarray(0, cut), 'cut.pcap');
    const seen = readAll(r);
    const whole = ends.filter((e) => e > 24 && e <= cut).length;
    assert.equal(seen.length, whole, `cut at ${cut}`);
    const boundary = ends.includes(cut);
    assert.equal(r.problems.length, boundary ? 0 : 1, `cut at ${cut}: ${JSON.stringify(r.problems)}`);
    if (!boundary) {
      const start = ends.filter((e) => e <= cut).at(-1) ?? 24;
      assert.equal(r.problems[0]?.offset, start);
      assert.match(r.problems[0]?.reason ?? '', cut - start < 16 ? /^partial record header at \d+$/ : /^record at \d+ wants \d+ bytes, \d+ left$/);
    }
  }
  for (let cut = 0; cut < 24; cut++) {
    assert.throws(
      () => readerFromBytes(full.subarray(0, cut), 'cut.pcap'),
      (e: Error & { code?: string }) => e.message.startsWith('cut.pcap: ') && (cut === 0 ? e.code === 'EMPTY' : e.code === 'TRUNCATED_HEADER'),
    );
  }
});

test('unknown, compressed and empty inputs are refused with a code naming the problem', () => {
  const cases: [Uint8Array, string][] = [
    [new Uint8Array(0), 'EMPTY'],
    [new TextEncoder().encode('hello, this is not a capture file'), 'UNKNOWN_FORMAT'],
    [Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0), 'COMPRESSED'],
    [Uint8Array.of(0x28, 0xb5, 0x2f, 0xfd, 0, 0), 'COMPRESSED'],
  ];
  for (const [bytes, code] of cases) {
    assert.throws(
      () => readerFromBytes(bytes, 'f.bin'),
      (e: Error & { code?: string }) => e.code === code && e.message.includes('f.bin'),
    );
  }
  assert.throws(
    () => openCapture('/nonexistent/x.pcap'),
    (e: Error & { code?: string }) => e.code === 'ENOENT' && e.message.includes('/nonexistent/x.pcap'),
  );
  assert.throws(() => openCapture(tmpdir()), new RegExp(`^Error: ${tmpdir()}: not a regular file$`));
});

function mixedPcapng(): Uint8Array {
  return new PcapngBuilder()
    .section(true)
    .interface(1, 65535)
    .interface(101, 262144, { tsresol: 9, tsoffset: 100 })
    .block(4, payload(12)) // NRB: skipped
    .epb(0, 1_700_000_000_123_456n, payload(10, 3))
    .epb(1, 4_294_967_296_123_456_789n, payload(7, 4), 1000) // 2106-02-07T06:28:16.123456789 + 100 s offset
    .spb(payload(5, 5))
    .block(0x40000abc, payload(8)) // unknown local block: skipped
    .section(false)
    .interface(113, 128, { tsresol: 0x80 | 10 }) // 2^-10 s units
    .opb(0, 1024n * 5n + 512n, payload(3, 6))
    .epb(0, 3n, payload(200, 7))
    .bytes();
}

test('pcapng: sections of both byte orders, interfaces, tsresol, tsoffset, EPB/SPB/OPB', () => {
  const r = readerFromBytes(mixedPcapng(), 'mixed.pcapng');
  assert.equal(r.format, 'pcapng');
  assert.equal(r.nanosecond, true, 'interface 1 has ns resolution, known right after open');
  assert.deepEqual(r.linkTypes, [1, 101]);
  assert.equal(r.snaplen, 65535);
  const seen = readAll(r);
  assert.deepEqual(r.problems, []);
  assert.deepEqual(r.linkTypes, [1, 101, 113]);
  assert.deepEqual(
    seen.map((p) => [p.sec, p.nsec, p.linkType, p.interfaceId, p.caplen]),
    [
      [1_700_000_000, 123_456_000, 1, 0, 10],
      [4_294_967_296 + 100, 123_456_789, 101, 1, 7],
      [0, 0, 1, 0, 5],
      [5, 500_000_000, 113, 2, 3],
      [0, 2_929_687, 113, 2, 200], // 3/1024 s = 2929687.5 ns, floored; an EPB keeps its caplen
    ],
  );
  assert.equal(seen[1]?.origLen, 1000);
  assert.deepEqual(seen[4]?.data, [...payload(200, 7)]);
});

test('pcapng: cut at every byte keeps every whole packet and reports the cut block', () => {
  const full = mixedPcapng();
  const complete = readAll(readerFromBytes(full));
  const boundaries = blockBoundaries(full);
  for (let cut = 28; cut <= full.length; cut++) {
    const r = readerFromBytes(full.subarray(0, cut), 'cut.pcapng');
    let seen: Seen[] = [];
    assert.doesNotThrow(() => {
      seen = readAll(r);
    }, `cut at ${cut}`);
    const whole = complete.filter((p) => boundaries.includes(p.offset) && nextBoundary(boundaries, p.offset) <= cut);
    assert.deepEqual(seen, whole, `cut at ${cut}`);
    const atBoundary = boundaries.includes(cut);
    assert.equal(r.problems.length, atBoundary ? 0 : 1, `cut at ${cut}: ${JSON.stringify(r.problems)}`);
    if (!atBoundary) assert.equal(r.problems[0]?.offset, boundaries.filter((b) => b < cut).at(-1));
  }
});

/** Offsets where blocks start, plus the file length. */
function blockBoundaries(bytes: Uint8Array): number[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset);
  const out = [0];
  let le = true;
  for (let at = 0; at < bytes.length;) {
    if (view.getUint32(at, true) === 0x0a0d0d0a) le = view.getUint32(at + 8, true) === 0x1a2b3c4d;
    at += view.getUint32(at + 4, le);
    out.push(at);
  }
  return out;
}

function nextBoundary(boundaries: number[], offset: number): number {
  return boundaries.find((b) => b > offset) ?? Infinity;
}

test('pcapng: a block length that is not a multiple of 4 stops reading there', () => {
  const bytes = mixedPcapng();
  const r0 = readAll(readerFromBytes(bytes));
  const third = r0[2]?.offset ?? 0;
  new DataView(bytes.buffer).setUint32(third + 4, 163, true);
  const r = readerFromBytes(bytes, 'bad.pcapng');
  assert.equal(readAll(r).length, 2);
  assert.deepEqual(r.problems, [{ file: 'bad.pcapng', offset: third, reason: `bad block length 163 at ${third} (type 0x3)` }]);
});

test('file reader: tiny buffer (refill + growth) gives exactly what the in-memory reader gives; seek re-reads', () => {
  const packets = Array.from({ length: 300 }, (_, i) => ({ sec: 1000 + i, frac: i, data: payload((i * 37) % 700, i) }));
  const bytes = pcapBytes({ packets });
  const expected = readAll(readerFromBytes(bytes));
  for (const bufferSize of [64, 100, 1000, 1 << 20]) {
    withTempFile(bytes, (path) => {
      const r = openCapture(path, { bufferSize });
      assert.deepEqual(readAll(r), expected, `bufferSize ${bufferSize}`);
      assert.deepEqual(r.problems, []);
      const target = expected[150];
      assert.ok(target);
      r.seek(target.offset);
      const again = r.next();
      assert.equal(again?.sec, target.sec);
      assert.deepEqual([...(again?.data ?? [])], target.data);
      r.close();
    });
  }
  withTempFile(mixedPcapng(), (path) => {
    const r = openCapture(path, { bufferSize: 64 });
    assert.deepEqual(readAll(r), readAll(readerFromBytes(mixedPcapng())));
    r.close();
  });
});

test('readerCounters add up what readers delivered, once per reader', () => {
  const before = { ...readerCounters };
  const r = readerFromBytes(pcapBytes({ packets: threePackets }));
  readAll(r);
  r.close();
  r.close();
  assert.deepEqual([readerCounters.captures - before.captures, readerCounters.packets - before.packets, readerCounters.bytes - before.bytes], [1, 3, 61]);
});
