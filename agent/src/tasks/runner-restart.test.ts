import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extract } from '@pcapmesh/shared/pcap/extract';
import { writeRollingCaptures } from '@pcapmesh/shared/pcap/gen/output';
import { RunnerHarness, ts } from './runner.fixture.js';
import { HttpUploader } from './upload.js';

const T0 = 1_700_000_000;

test('a larger input: scanning reports progress at least once a second; a cancel mid-scan stops it and removes its files', async () => {
  const h = await new RunnerHarness().start();
  try {
    // Statuses every 100 ms (progressMs; the default is 1 s): the scan of this input lasts several
    // periods even on a fast, quiet machine (it took 0.85 s in a CI run: the second-long default
    // could not be shown on it), so the test shows the periodic reports without needing a slow scan.
    writeRollingCaptures(h.captures, { seed: 21, packets: 1_500_000, start: T0, duration: 800 }, 80);
    const runner = h.startRunner({ progressMs: 100 });
    runner.handleTask(h.command('big', { from: ts(T0), to: ts(T0 + 800) }, { filter: 'udp port 53' }));
    await h.until('done', () => h.last('big')?.status === 'done', 120_000);
    const scanning = h.of('big').filter((s) => s.status === 'scanning');
    const uploading = h.of('big').find((s) => s.status === 'uploading')!;
    const marks = [...scanning.map((s) => s.at), uploading.at];
    // The promise to users is a status at least once a second; with 100 ms periods that leaves ample room for a loaded machine.
    for (let i = 1; i < marks.length; i++) assert.ok(marks[i]! - marks[i - 1]! <= 1_000, `a gap of ${marks[i]! - marks[i - 1]!} ms between scanning reports`);
    // Counted from the task's first status: on a loaded machine the first scanning report itself can
    // come late, which would shorten the span between the reports without the scan being short.
    const lasted = uploading.at - h.of('big')[0]!.at;
    assert.ok(lasted > 300, `the task ran ${lasted} ms, more than three periods (else this test shows nothing)`);
    assert.ok(scanning.length >= 3, `${scanning.length} scanning reports`);
    assert.equal(scanning[0]!.progress!.filesTotal, 10);
    for (let i = 1; i < scanning.length; i++) assert.ok(scanning[i]!.progress!.bytesScanned! >= scanning[i - 1]!.progress!.bytesScanned!);
    // The worker's progress reached the statuses (within-file progress: extractor.test.ts).
    const end = uploading.progress!;
    assert.equal(end.filesScanned, 10);
    assert.equal(end.bytesScanned, end.bytesTotal);
    assert.equal(end.packets, h.last('big')!.result!.packets);
    assert.ok(h.last('big')!.result!.packets > 1000);

    // The same window again, cancelled once the scan is under way.
    runner.handleTask(h.command('big2', { from: ts(T0), to: ts(T0 + 800) }, { filter: 'tcp' }));
    await h.until('scanning', () => h.of('big2').some((s) => s.status === 'scanning'));
    const cancelAt = Date.now();
    runner.handleCancel({ v: 1, sentAt: Date.now(), seq: 1, taskId: 'big2', reason: 'too slow' });
    await h.until('cancelled', () => h.last('big2')?.status === 'cancelled');
    assert.ok(Date.now() - cancelAt < 3_000, 'cancelled promptly');
    assert.equal(h.last('big2')!.error, 'cancelled: too slow');
    assert.deepEqual(h.leftovers(), [], 'no result or extract part left');
    assert.equal(h.server.uploads.has('big2'), false);
    assert.equal(runner.record('big2')!.status, 'cancelled');
  } finally {
    await h.close();
  }
});

test('restart mid-upload resumes from the collector offset (same SHA-256); restart mid-scan extracts again', async () => {
  const h = await new RunnerHarness().start();
  try {
    writeRollingCaptures(h.captures, { seed: 22, packets: 60_000, start: T0, duration: 600 }, 60);
    // 64 KiB chunks: the ~540 KB result goes up in several, so the agent can be stopped between two
    // (and what is left after the restart is still more than one chunk: declared, then resumed).
    const smallChunks = () => ({ uploader: new HttpUploader({ chunkBytes: 64 * 1024, baseBackoffMs: 20, maxBackoffMs: 100 }) });
    let runner = h.startRunner(smallChunks());
    let stopping: Promise<void> | null = null;
    h.server.onPut = (_task, start) => {
      if (start >= 5 * 64 * 1024 && !stopping) stopping = runner.stop();
    };
    runner.handleTask(h.command('up', { from: ts(T0), to: ts(T0 + 600) }, { filter: 'udp' }));
    await h.until('the agent stopped mid-upload', () => stopping !== null);
    await stopping;
    h.server.onPut = null;
    const held = h.server.uploads.get('up')!;
    const offset = held.data.length;
    assert.ok(offset > 0 && offset < held.declared.size, `${offset} of ${held.declared.size}`);
    assert.equal(runner.record('up')!.status, 'uploading');
    const saved = JSON.parse(readFileSync(join(h.stateDir, 'up.json'), 'utf8')) as { status: string };
    assert.equal(saved.status, 'uploading');

    h.server.log.length = 0;
    runner = h.startRunner(smallChunks());
    await h.until('done after restart', () => h.last('up')?.status === 'done');
    assert.deepEqual(h.server.log.slice(0, 2), ['POST 200', `PUT 200 ${offset}`], 'declared again, then on from the held offset');
    assert.equal(held.declarations, 2);
    assert.equal(createHash('sha256').update(held.data).digest('hex'), h.last('up')!.result!.sha256);
    assert.equal(held.complete, true);

    // Stopped while scanning: the next start extracts again and the result is the full one.
    runner.handleTask(h.command('scan', { from: ts(T0), to: ts(T0 + 600) }, { filter: 'udp port 53' }));
    await h.until('scanning', () => h.of('scan').some((s) => s.status === 'scanning'));
    await runner.stop();
    assert.equal(runner.record('scan')!.status, 'scanning');
    runner = h.startRunner();
    await h.until('done after restart', () => h.last('scan')?.status === 'done');
    const reference = await extract({ inputs: [h.captures], output: join(h.dir, 'ref.pcap'), filter: 'udp port 53', from: ts(T0), to: ts(T0 + 600) });
    const upload = h.server.uploads.get('scan')!;
    assert.ok(upload.data.equals(readFileSync(join(h.dir, 'ref.pcap'))));
    assert.equal(h.last('scan')!.result!.packets, reference.packets);
    assert.deepEqual(h.leftovers(), []);
  } finally {
    await h.close();
  }
});

test('a refused token fails the task (transient); the next attempt with a good token uploads the kept result; old state is pruned', async () => {
  const h = await new RunnerHarness().start();
  try {
    writeRollingCaptures(h.captures, { seed: 23, packets: 10_000, start: T0, duration: 100 }, 50);
    h.server.tokens.set('tok', 'good');
    let runner = h.startRunner();
    const first = h.command('tok', { from: ts(T0), to: ts(T0 + 100) }, { upload: { url: h.server.url('tok'), token: 'expired' } });
    runner.handleTask(first);
    await h.until('failed', () => h.last('tok')?.status === 'failed');
    assert.equal(h.last('tok')!.transient, true);
    assert.match(h.last('tok')!.error!, /refused the task token \(HTTP 401/);
    assert.ok(!h.last('tok')!.error!.includes('expired"'), 'the token itself is not in the message');

    runner.handleTask({ ...first, attempt: 1, upload: { url: h.server.url('tok'), token: 'good' } });
    await h.until('done', () => h.last('tok')?.status === 'done');
    const second = h
      .of('tok')
      .filter((s) => s.attempt === 1)
      .map((s) => s.status);
    assert.deepEqual([...new Set(second)], ['accepted', 'uploading', 'done'], 'the finished extract is kept, not run again');

    // A day later (pruneAfterMs 1 ms here): the record and a stray file of no task are removed at start.
    await runner.stop();
    const stray = join(h.stateDir, 'ghost.pcap');
    writeFileSync(stray, 'x');
    utimesSync(stray, new Date(Date.now() - 10_000), new Date(Date.now() - 10_000));
    await new Promise((r) => setTimeout(r, 5));
    runner = h.startRunner({ pruneAfterMs: 1 });
    assert.equal(runner.record('tok'), undefined);
    assert.equal(existsSync(join(h.stateDir, 'tok.json')), false);
    assert.equal(existsSync(stray), false);
  } finally {
    await h.close();
  }
});
