import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { extract, type ExtractProgress } from './extract.js';
import { writeCapture, writeRollingCaptures } from './gen/output.js';
import { openCapture } from './reader.js';

function packets(path: string): string[] {
  const r = openCapture(path);
  const out: string[] = [];
  for (let p = r.next(); p; p = r.next()) out.push(`${p.sec}.${p.nsec}:${p.caplen}:${Buffer.from(p.data).toString('hex', 0, 40)}`);
  r.close();
  return out;
}

test('limits: the output is the unlimited output cut at maxPackets / maxBytes, named in truncated; a rolling directory stops early', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-limit-'));
  try {
    const ring = join(dir, 'ring');
    writeRollingCaptures(ring, { seed: 5, packets: 40_000, start: 1_700_000_000, duration: 400 }, 20);
    const all = await extract({ inputs: [ring], output: join(dir, 'all.pcap'), filter: 'udp' });
    const full = packets(join(dir, 'all.pcap'));
    assert.equal(all.truncated, undefined);
    assert.ok(full.length > 1200, `${full.length} udp packets`);

    const byPackets = await extract({ inputs: [ring], output: join(dir, 'p.pcap'), filter: 'udp', limits: { maxPackets: 1000 } });
    assert.equal(byPackets.truncated, 'max-packets');
    assert.equal(byPackets.packets, 1000);
    assert.deepEqual(packets(join(dir, 'p.pcap')), full.slice(0, 1000));
    assert.ok(byPackets.filesScanned < all.filesScanned, `stopped early: ${byPackets.filesScanned} of ${all.filesScanned} files`);

    const byBytes = await extract({ inputs: [ring], output: join(dir, 'b.pcap'), filter: 'udp', limits: { maxBytes: 100_000 } });
    assert.equal(byBytes.truncated, 'max-bytes');
    assert.ok(byBytes.bytes <= 100_000 && byBytes.bytes > 99_000 - 2048, String(byBytes.bytes));
    assert.deepEqual(packets(join(dir, 'b.pcap')), full.slice(0, byBytes.packets));

    // A limit the matches do not reach: the same bytes as without it, not truncated.
    const roomy = await extract({ inputs: [ring], output: join(dir, 'r.pcap'), filter: 'udp', limits: { maxPackets: full.length, maxBytes: all.bytes } });
    assert.equal(roomy.truncated, undefined);
    assert.deepEqual(readFileSync(join(dir, 'r.pcap')), readFileSync(join(dir, 'all.pcap')));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('limits on files that overlap in time: every file is read and the cut is still in time order', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-limit-'));
  try {
    writeCapture(join(dir, 'a.pcap'), { seed: 6, packets: 5000, start: 1_700_000_000, duration: 100 });
    writeCapture(join(dir, 'b.pcap'), { seed: 7, packets: 5000, start: 1_700_000_010, duration: 100 });
    const all = await extract({ inputs: [dir], output: join(dir, '..', 'all-overlap.pcap') });
    const cut = await extract({ inputs: [join(dir, 'a.pcap'), join(dir, 'b.pcap')], output: join(dir, '..', 'cut-overlap.pcap'), limits: { maxPackets: 700 } });
    assert.equal(cut.filesScanned, 2);
    assert.equal(cut.truncated, 'max-packets');
    assert.deepEqual(packets(join(dir, '..', 'cut-overlap.pcap')), packets(join(dir, '..', 'all-overlap.pcap')).slice(0, 700));
    assert.equal(all.truncated, undefined);
  } finally {
    rmSync(join(dir, '..', 'all-overlap.pcap'), { force: true });
    rmSync(join(dir, '..', 'cut-overlap.pcap'), { force: true });
    rmSync(dir, { recursive: true, force: true });
  }
});

test('progressEveryMs: progress while one large file is read, positions growing to the total', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-progress-'));
  try {
    const file = join(dir, 'big.pcap');
    writeCapture(file, { seed: 8, packets: 300_000, duration: 600 });
    const seen: ExtractProgress[] = [];
    const stats = await extract({ inputs: [file], output: join(dir, 'out.pcap'), filter: 'tcp', progressEveryMs: 0, onProgress: (p) => seen.push(p) });
    assert.ok(seen.length > 10, `${seen.length} progress reports`);
    assert.ok(seen.slice(0, -1).every((p) => p.filesDone === 0));
    for (let i = 1; i < seen.length; i++) assert.ok(seen[i]!.position >= seen[i - 1]!.position && seen[i]!.packets >= seen[i - 1]!.packets);
    const last = seen.at(-1)!;
    assert.equal(last.filesDone, 1);
    assert.equal(last.position, last.bytesTotal);
    assert.equal(last.packets, stats.packets);
    assert.equal(last.bytes, stats.bytes);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
