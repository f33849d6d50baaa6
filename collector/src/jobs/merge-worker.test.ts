/**
 * The merge worker's one pass (merge, hash and analysis while writing) gives exactly what the
 * library's separate steps give: the bytes of mergeCaptures, the SHA-256 of the file it wrote, and
 * the report of analyzeFiles over that file — for classic µs pcap, nanosecond pcap with duplicates
 * across inputs, and pcapng from mixed link types.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { analyzeFiles, DEFAULT_DEDUP_WINDOW_NS, LinkType, mergeCaptures, writeCapture } from '@pcapmesh/shared/pcap';
import { runMerge } from './merge-worker.js';

let work: string;
before(() => {
  work = mkdtempSync(join(tmpdir(), 'pcapmesh-merge-worker-'));
});
after(() => rmSync(work, { recursive: true, force: true }));

const cases = [
  { name: 'µs pcap', format: 'pcap', inputs: [{ seed: 1 }, { seed: 2 }] },
  // The same traffic on two sensors (every packet of b is a duplicate of one of a) and one with ns times.
  { name: 'ns pcap, duplicates', format: 'nsecpcap', inputs: [{ seed: 3 }, { seed: 3 }, { seed: 4, nanosecond: true }] },
  { name: 'pcapng, two link types', format: 'pcapng', inputs: [{ seed: 5 }, { seed: 6, linkType: LinkType.RAW }] },
] as const;

for (const c of cases) {
  test(`one pass = mergeCaptures + SHA-256 + analyzeFiles of the result: ${c.name}`, async () => {
    const dir = join(work, c.name.replace(/\W+/g, '-'));
    mkdirSync(join(dir, 'tasks'), { recursive: true });
    const inputs = c.inputs.map((opts, i) => {
      const path = join(dir, 'tasks', `${i}.pcap`);
      writeCapture(path, { packets: 3000, ...opts });
      return path;
    });
    const names = { pcap: 'pcapmesh-x.pcap', pcapng: 'pcapmesh-x.pcapng' };
    // Early writebacks every 64 KiB here (8 MiB by default): many in flight while the merge writes, none changes a byte.
    const result = await runMerge({ inputs, jobDir: dir, fileNames: names, writebackBytes: 64 * 1024 });
    const reference = join(work, `${c.name.replace(/\W+/g, '-')}.reference`);
    const stats = mergeCaptures(inputs, reference, { dedup: true, dedupWindowNs: DEFAULT_DEDUP_WINDOW_NS, format: 'auto' });
    assert.equal(result.format, c.format);
    assert.equal(stats.format, c.format);
    const merged = readFileSync(join(dir, result.file));
    assert.ok(merged.equals(readFileSync(reference)), 'the same bytes as mergeCaptures');
    assert.equal(result.fileBytes, merged.length);
    assert.equal(result.sha256, createHash('sha256').update(merged).digest('hex'));
    assert.deepEqual([result.packets, result.bytes, result.duplicates], [stats.packets, stats.bytes, stats.duplicates]);
    if (c.name.includes('duplicates')) assert.ok(result.duplicates >= 3000, `${result.duplicates} duplicates removed`);
    const analysed = analyzeFiles([join(dir, result.file)]);
    analysed.files = [c.format === 'pcapng' ? names.pcapng : names.pcap];
    assert.deepEqual(result.analysis, analysed);
    assert.ok(result.analysis.capture.packets > 0);
  });
}
