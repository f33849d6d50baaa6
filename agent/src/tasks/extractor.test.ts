import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ExtractProgress } from '@pcapmesh/shared/pcap/extract';
import { extract } from '@pcapmesh/shared/pcap/extract';
import { writeCapture } from '@pcapmesh/shared/pcap/gen/output';
import { WorkerExtractor } from './extractor.js';

const T0 = 1_700_000_000;
const window = { from: { sec: T0, nsec: 0 }, to: { sec: T0 + 600, nsec: 0 } };

test('the worker extract: progress from inside one large file, the same output as extract(), size and SHA-256 of it', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-extractor-'));
  try {
    const input = join(dir, 'big.pcap');
    writeCapture(input, { seed: 31, packets: 200_000, start: T0, duration: 600 });
    const seen: ExtractProgress[] = [];
    const output = join(dir, 'out.pcap');
    const outcome = await new WorkerExtractor({ progressEveryMs: 0 }).extract(
      { inputs: [input], output, filter: 'udp', ...window, limits: {} },
      { signal: new AbortController().signal, onProgress: (p) => seen.push(p) },
    );
    const within = seen.filter((p) => p.filesDone === 0 && p.position > 0);
    assert.ok(within.length > 5, `${within.length} reports from inside the file`);
    assert.equal(seen.at(-1)!.position, seen.at(-1)!.bytesTotal);
    const bytes = readFileSync(output);
    assert.equal(outcome.fileBytes, bytes.length);
    assert.equal(outcome.sha256, createHash('sha256').update(bytes).digest('hex'));
    const reference = await extract({ inputs: [input], output: join(dir, 'ref.pcap'), filter: 'udp', ...window });
    assert.ok(bytes.equals(readFileSync(join(dir, 'ref.pcap'))));
    assert.equal(outcome.stats.packets, reference.packets);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('an abort inside a file stops the worker at once and leaves no output or parts', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-extractor-'));
  try {
    const input = join(dir, 'big.pcap');
    writeCapture(input, { seed: 32, packets: 200_000, start: T0, duration: 600 });
    const out = join(dir, 'out');
    mkdirSync(out);
    const controller = new AbortController();
    let abortedAt = 0;
    const run = new WorkerExtractor({ progressEveryMs: 0 }).extract(
      { inputs: [input], output: join(out, 't.pcap'), filter: '', ...window, limits: {} },
      {
        signal: controller.signal,
        onProgress: (p) => {
          if (p.position > 0 && abortedAt === 0) {
            abortedAt = Date.now();
            controller.abort(new Error('cancelled: enough'));
          }
        },
      },
    );
    await assert.rejects(run, /cancelled: enough/);
    assert.ok(Date.now() - abortedAt < 2_000);
    assert.deepEqual(readdirSync(out), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a filter the library refuses fails with its message; a selected file deleted meanwhile is left out', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-extractor-'));
  try {
    const input = join(dir, 'c.pcap');
    writeCapture(input, { seed: 33, packets: 2_000, start: T0, duration: 60 });
    const extractor = new WorkerExtractor();
    const signal = new AbortController().signal;
    await assert.rejects(
      extractor.extract(
        { inputs: [input], output: join(dir, 'o.pcap'), filter: 'port banana', ...window, limits: {} },
        { signal, onProgress: () => undefined },
      ),
      /banana/,
    );
    const outcome = await extractor.extract(
      { inputs: [join(dir, 'deleted-by-retention.pcap'), input], output: join(dir, 'o.pcap'), filter: '', ...window, limits: {} },
      { signal, onProgress: () => undefined },
    );
    assert.equal(outcome.stats.packets, 2_000);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('one thread serves extract after extract (also after a refused filter; an already aborted signal starts none); close ends it and the next extract starts a fresh one', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-extractor-'));
  const extractor = new WorkerExtractor({ progressEveryMs: 0 });
  try {
    const input = join(dir, 'c.pcap');
    writeCapture(input, { seed: 34, packets: 3_000, start: T0, duration: 60 });
    const reference = await extract({ inputs: [input], output: join(dir, 'ref.pcap'), filter: 'tcp', ...window });
    const signal = new AbortController().signal;
    const run = (name: string, filter: string, s = signal): Promise<{ stats: { packets: number } }> =>
      extractor.extract({ inputs: [input], output: join(dir, name), filter, ...window, limits: {} }, { signal: s, onProgress: () => undefined });
    for (const name of ['a.pcap', 'b.pcap']) {
      assert.equal((await run(name, 'tcp')).stats.packets, reference.packets);
      assert.ok(readFileSync(join(dir, name)).equals(readFileSync(join(dir, 'ref.pcap'))), `${name} equals the library's own output`);
    }
    await assert.rejects(run('x.pcap', 'port banana'), /banana/);
    const aborted = new AbortController();
    aborted.abort(new Error('cancelled before it started'));
    await assert.rejects(run('y.pcap', 'tcp', aborted.signal), /cancelled before it started/);
    assert.equal((await run('c.pcap', '')).stats.packets, 3_000);
    assert.equal(extractor.threadsStarted, 1);
    await extractor.close();
    assert.equal((await run('d.pcap', 'tcp')).stats.packets, reference.packets);
    assert.equal(extractor.threadsStarted, 2);
  } finally {
    await extractor.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
