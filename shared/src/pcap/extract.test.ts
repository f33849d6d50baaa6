import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract } from './extract.js';
import { parseTimeBound } from './extract-time.js';
import { writeCapture } from './gen/output.js';
import { openCapture } from './reader.js';
import { buildIndex } from './sidecar/index.js';
import { FilterSyntaxError } from './filter/errors.js';
import { FilterFieldError } from './filter/structured.js';

function times(path: string): Array<[number, number]> {
  const r = openCapture(path);
  const out: Array<[number, number]> = [];
  for (let p = r.next(); p; p = r.next()) out.push([p.sec, p.nsec]);
  r.close();
  return out;
}

test('time bounds: ISO 8601 with ns and zones, epoch seconds; bad text names the forms', () => {
  assert.deepEqual(parseTimeBound('2026-01-01T09:00:00.123456789Z'), { sec: 1767258000, nsec: 123456789 });
  assert.deepEqual(parseTimeBound('2026-01-01T10:00:00.5+01:00'), { sec: 1767258000, nsec: 500000000 });
  assert.deepEqual(parseTimeBound('1767258000.000000001'), { sec: 1767258000, nsec: 1 });
  assert.throws(() => parseTimeBound('yesterday', '--from'), /--from 'yesterday' is not a time: use ISO 8601/);
  assert.throws(() => parseTimeBound('2026-01-01T09:00:00'), /with a zone/);
});

test('window, filter, two files merged in time order; damaged and foreign files reported, not fatal', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-extract-'));
  try {
    const inputs = join(dir, 'in');
    mkdirSync(join(inputs, 'sub'), { recursive: true });
    writeCapture(join(inputs, 'a.pcap'), { seed: 1, packets: 3000, start: 1_700_000_000, duration: 60 });
    writeCapture(join(inputs, 'sub', 'b.pcap'), { seed: 2, packets: 3000, start: 1_700_000_030, duration: 60, nanosecond: true });
    writeFileSync(join(inputs, 'notes.txt'), 'not a capture');
    copyFileSync('/dev/null', join(inputs, 'empty.pcap'));
    const out = join(dir, 'out.pcap');
    const progress: number[] = [];
    const stats = await extract({
      inputs: [inputs],
      output: out,
      filter: 'udp port 53',
      from: { sec: 1_700_000_020, nsec: 0 },
      to: { sec: 1_700_000_070, nsec: 500 },
      onProgress: (p) => progress.push(p.filesDone),
    });
    const got = times(out);
    assert.ok(got.length > 10 && got.length === stats.packets);
    for (let i = 1; i < got.length; i++)
      assert.ok(got[i]![0] > got[i - 1]![0] || (got[i]![0] === got[i - 1]![0] && got[i]![1] >= got[i - 1]![1]), 'time order');
    assert.ok(got.every(([s]) => s >= 1_700_000_020 && s <= 1_700_000_070));
    assert.equal(stats.format, 'nsecpcap');
    assert.deepEqual(stats.problems.map((p) => p.file).sort(), [join(inputs, 'empty.pcap'), join(inputs, 'notes.txt')]);
    assert.equal(stats.filesScanned, 2);
    assert.deepEqual(progress, [1, 2]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('structured filters, index use and the same answer with or without it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-extract-'));
  try {
    const file = join(dir, 'c.pcap');
    writeCapture(file, { seed: 3, packets: 20000, duration: 600 });
    buildIndex(file, { blockBytes: 16 * 1024 });
    const filter = { ip: ['10.1.1.10'], protocol: 'udp' };
    const a = await extract({ inputs: [file], output: join(dir, 'a.pcap'), filter, useIndex: true });
    const b = await extract({ inputs: [file], output: join(dir, 'b.pcap'), filter, useIndex: false });
    assert.ok(a.blocksSkipped > 0, JSON.stringify(a));
    assert.equal(b.blocksSkipped, 0);
    assert.ok(a.packetsScanned < b.packetsScanned);
    assert.deepEqual(times(join(dir, 'a.pcap')), times(join(dir, 'b.pcap')));
    assert.ok(a.packets > 0);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bad input: filter errors before any work, empty window, missing input, cancellation', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-extract-'));
  try {
    const file = join(dir, 'c.pcap');
    writeCapture(file, { seed: 4, packets: 2000 });
    const out = join(dir, 'out.pcap');
    await assert.rejects(extract({ inputs: [file], output: out, filter: 'port x' }), FilterSyntaxError);
    await assert.rejects(extract({ inputs: [file], output: out, filter: { ports: [70000] } }), FilterFieldError);
    await assert.rejects(extract({ inputs: [file], output: out, from: { sec: 2, nsec: 0 }, to: { sec: 1, nsec: 0 } }), /window is empty/);
    await assert.rejects(extract({ inputs: [join(dir, 'nope')], output: out }), /input '.*nope' cannot be read/);
    const controller = new AbortController();
    controller.abort(new Error('cancelled by the analyst'));
    await assert.rejects(extract({ inputs: [file, file], output: out, signal: controller.signal }), /cancelled by the analyst/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
