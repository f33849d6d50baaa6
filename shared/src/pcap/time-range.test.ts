import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapngBuilder, payload, pcapBytes, type FixturePacket } from './reader.fixture.js';
import { captureTimeRange, TAIL_WINDOW } from './time-range.js';
import { openCapture } from './reader.js';

/** ~2.6 MB of packets with sizes that vary, so the tail search has real work. */
function manyPackets(): FixturePacket[] {
  return Array.from({ length: 8000 }, (_, i) => ({ sec: 1_600_000_000 + i, frac: (i * 7919) % 1_000_000, data: payload(40 + ((i * 131) % 560), i) }));
}

/** Earliest/latest over the whole file and its problems, by a full read. */
function fullScan(path: string): { first: number[] | null; last: number[] | null; problems: string[] } {
  const r = openCapture(path);
  let first: number[] | null = null;
  let last: number[] | null = null;
  const before = (a: number[], b: number[]) => a[0]! < b[0]! || (a[0] === b[0] && a[1]! < b[1]!);
  for (let p = r.next(); p; p = r.next()) {
    const t = [p.sec, p.nsec];
    if (!first || before(t, first)) first = t;
    if (!last || before(last, t)) last = t;
  }
  r.close();
  return { first, last, problems: r.problems.map((x) => x.reason) };
}

function check(path: string, label: string, fullScanExpected: boolean): void {
  const range = captureTimeRange(path);
  assert.equal(range.fullScan, fullScanExpected, `${label}: full scan`);
  const expected = fullScan(path);
  assert.deepEqual(range.first && [range.first.sec, range.first.nsec], expected.first, `${label}: first`);
  assert.deepEqual(range.last && [range.last.sec, range.last.nsec], expected.last, `${label}: last`);
  assert.deepEqual(
    range.problems.map((x) => x.reason),
    expected.problems,
    `${label}: problems`,
  );
}

function pcapngOf(packets: FixturePacket[], le = true): Uint8Array {
  const ng = new PcapngBuilder().section(le).interface(1, 65535, { tsresol: 9 });
  for (const p of packets) ng.epb(0, BigInt(p.sec) * 1_000_000_000n + BigInt(p.frac ?? 0), p.data);
  ng.block(5, payload(40)); // an ISB-like trailing block to walk over
  return ng.bytes();
}

test('time range equals a full scan: pcap LE/BE/ns, pcapng LE/BE, and tails cut anywhere — without reading it all', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-range-'));
  try {
    const packets = manyPackets();
    const files: [string, Uint8Array][] = [
      ['le.pcap', pcapBytes({ packets })],
      ['be.pcap', pcapBytes({ le: false, packets })],
      ['ns.pcap', pcapBytes({ nano: true, packets })],
      ['le.pcapng', pcapngOf(packets)],
      ['be.pcapng', pcapngOf(packets, false)],
    ];
    for (const [name, bytes] of files) {
      assert.ok(bytes.length > TAIL_WINDOW * 2, 'big enough for the tail search');
      const path = join(dir, name);
      writeFileSync(path, bytes);
      check(path, name, false);
      for (const cut of [1, 5, 15, 16, 17, 100, 333, 4000]) {
        writeFileSync(path, bytes.subarray(0, bytes.length - cut));
        check(path, `${name} minus ${cut}`, false);
      }
      writeFileSync(path, bytes.subarray(0, 200));
      check(path, `${name} small`, true);
    }
    const empty = join(dir, 'empty.pcap');
    writeFileSync(empty, pcapBytes({ packets: [] }));
    assert.deepEqual(captureTimeRange(empty), { format: 'pcap', first: null, last: null, problems: [], bytes: 24, fullScan: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('time range: packets slightly out of order at either end still give the earliest and the latest', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-range-'));
  try {
    const packets = manyPackets();
    const swap = (i: number, j: number) => {
      const t = packets[i]!;
      packets[i] = packets[j]!;
      packets[j] = t;
    };
    swap(0, 3); // the first record is not the earliest
    swap(packets.length - 1, packets.length - 5); // the last record is not the latest
    for (const [name, bytes] of [
      ['r.pcap', pcapBytes({ packets })],
      ['r.pcapng', pcapngOf(packets)],
    ] as const) {
      const path = join(dir, name);
      writeFileSync(path, bytes);
      const range = captureTimeRange(path);
      assert.equal(range.fullScan, false);
      assert.equal(range.first?.sec, 1_600_000_000, name);
      assert.equal(range.last?.sec, 1_600_000_000 + packets.length - 1, name);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
