import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PcapngBuilder, payload, pcapBytes, type FixturePacket } from './reader.fixture.js';
import { captureTimeRange, TAIL_WINDOW } from './time-range.js';
import { openCapture } from './reader.js';

/** ~600 KiB of packets with sizes that vary, so the tail search has real work. */
function manyPackets(): FixturePacket[] {
  return Array.from({ length: 2000 }, (_, i) => ({ sec: 1_600_000_000 + i, frac: (i * 7919) % 1_000_000, data: payload(40 + ((i * 131) % 560), i) }));
}

function fullScan(path: string): { first: number[] | null; last: number[] | null; problems: string[] } {
  const r = openCapture(path);
  let first: number[] | null = null;
  let last: number[] | null = null;
  for (let p = r.next(); p; p = r.next()) {
    first ??= [p.sec, p.nsec];
    last = [p.sec, p.nsec];
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
  assert.deepEqual(range.problems.map((x) => x.reason), expected.problems, `${label}: problems`);
}

test('time range equals a full scan: pcap LE/BE/ns, pcapng, and tails cut anywhere', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-range-'));
  try {
    const packets = manyPackets();
    const files: [string, Uint8Array][] = [
      ['le.pcap', pcapBytes({ packets })],
      ['be.pcap', pcapBytes({ le: false, packets })],
      ['ns.pcap', pcapBytes({ nano: true, packets })],
    ];
    const ng = new PcapngBuilder().section().interface(1, 65535, { tsresol: 9 });
    for (const p of packets) ng.epb(0, BigInt(p.sec) * 1_000_000_000n + BigInt(p.frac ?? 0), p.data);
    ng.block(5, payload(40)); // an ISB-like trailing block to walk over
    files.push(['ng.pcapng', ng.bytes()]);
    for (const [name, bytes] of files) {
      assert.ok(bytes.length > TAIL_WINDOW * 2, 'big enough for the tail search');
      const path = join(dir, name);
      writeFileSync(path, bytes);
      check(path, name, false);
      for (const cut of [1, 5, 15, 16, 17, 100, 333]) {
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
