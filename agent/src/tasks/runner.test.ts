import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeRollingCaptures } from '@pcapmesh/shared/pcap/gen/output';
import { repoRoot } from '@pcapmesh/shared/util/testing';
import { RunnerHarness, ts } from './runner.fixture.js';

const T0 = 1_700_000_000;

/** `pcapmesh-pcap extract` from source, as an analyst would run it on the sensor. */
function cliExtract(inputs: string, output: string, from: number, to: number, filter: string): { packets: number; bytes: number } {
  const r = spawnSync(
    process.execPath,
    [join(repoRoot, 'shared/bin/pcapmesh-pcap.js'), 'extract', '--from', String(from), '--to', String(to), '--filter', filter, '--json', '-o', output, inputs],
    { encoding: 'utf8', env: { ...process.env, PCAPMESH_FROM_SOURCE: '1' } },
  );
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { packets: number; bytes: number };
}

test('a task runs accepted → scanning → uploading → done; the upload equals pcapmesh-pcap extract; a repeated command only re-reports', async () => {
  const h = await new RunnerHarness().start();
  try {
    writeRollingCaptures(h.captures, { seed: 11, packets: 60_000, start: T0, duration: 600 }, 60);
    h.server.fault({ method: 'PUT', kind: 'status', status: 503 });
    h.server.fault({ method: 'PUT', kind: 'cut' });
    const runner = h.startRunner();
    const cmd = h.command('task-a', { from: ts(T0 + 100), to: ts(T0 + 400.5) }, { filter: 'tcp or udp port 53', attempt: 1 });
    runner.handleTask(cmd);
    await h.until('done', () => h.last('task-a')?.status === 'done');
    assert.deepEqual(h.states('task-a'), ['accepted', 'scanning', 'uploading', 'done']);

    const cli = cliExtract(h.captures, join(h.dir, 'cli.pcap'), T0 + 100, T0 + 400.5, 'tcp or udp port 53');
    const expected = readFileSync(join(h.dir, 'cli.pcap'));
    const held = h.server.uploads.get('task-a')!;
    assert.ok(held.complete);
    assert.ok(held.data.equals(expected), 'uploaded bytes equal the CLI output');
    const done = h.last('task-a')!;
    assert.deepEqual(done.result, {
      packets: cli.packets,
      bytes: cli.bytes,
      fileBytes: expected.length,
      sha256: createHash('sha256').update(expected).digest('hex'),
    });
    assert.equal(done.progress?.uploaded, expected.length);
    assert.deepEqual(held.declared, { size: expected.length, sha256: done.result!.sha256, packets: cli.packets, bytes: cli.bytes });
    assert.ok(h.server.log.includes('PUT 503') && h.server.log.includes('PUT cut'), h.server.log.join(','));
    assert.deepEqual(h.leftovers(), [], 'the result file is removed after the upload');

    // The same command again: the status again, nothing run or uploaded again.
    const before = h.of('task-a').length;
    const requests = h.server.log.length;
    runner.handleTask({ ...cmd, seq: cmd.seq + 10 });
    assert.equal(h.of('task-a').length, before + 1);
    assert.equal(h.last('task-a')!.status, 'done');
    // An older attempt is ignored.
    runner.handleTask({ ...cmd, attempt: 0 });
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(h.server.log.length, requests);
    assert.equal(h.of('task-a').length, before + 1);
  } finally {
    await h.close();
  }
});

test('limits: the result stops at maxPackets / maxBytes and says which', async () => {
  const h = await new RunnerHarness().start();
  try {
    writeRollingCaptures(h.captures, { seed: 12, packets: 20_000, start: T0, duration: 200 }, 20);
    const runner = h.startRunner({ maxConcurrent: 2 });
    runner.handleTask(h.command('lim-p', { from: ts(T0), to: ts(T0 + 200) }, { limits: { maxPackets: 250, maxBytes: 0 } }));
    runner.handleTask(h.command('lim-b', { from: ts(T0), to: ts(T0 + 200) }, { limits: { maxPackets: 0, maxBytes: 50_000 } }));
    await h.until('both done', () => h.last('lim-p')?.status === 'done' && h.last('lim-b')?.status === 'done');
    const p = h.last('lim-p')!.result!;
    assert.equal(p.truncated, 'max-packets');
    assert.equal(p.packets, 250);
    const b = h.last('lim-b')!.result!;
    assert.equal(b.truncated, 'max-bytes');
    assert.ok(b.bytes <= 50_000 && b.bytes > 45_000, String(b.bytes));
    assert.equal(h.server.uploads.get('lim-b')!.declared.truncated, 'max-bytes');
  } finally {
    await h.close();
  }
});

test('skipped when no capture file overlaps the window; bad filter and empty window fail, not transient', async () => {
  const h = await new RunnerHarness().start();
  try {
    writeRollingCaptures(h.captures, { seed: 13, packets: 2_000, start: T0, duration: 60 }, 30);
    const runner = h.startRunner();
    runner.handleTask(h.command('none', { from: ts(T0 - 7200), to: ts(T0 - 3600) }));
    runner.handleTask(h.command('badf', { from: ts(T0), to: ts(T0 + 60) }, { filter: 'port banana' }));
    runner.handleTask(h.command('empty', { from: ts(T0 + 60), to: ts(T0) }));
    await h.until('skipped', () => h.last('none')?.status === 'skipped');
    assert.deepEqual(h.states('none'), ['accepted', 'skipped']);
    assert.match(h.last('none')!.error!, /no capture file overlaps the window/);
    assert.deepEqual(h.states('badf'), ['accepted', 'failed']);
    assert.match(h.last('badf')!.error!, /bad filter: .*banana/);
    assert.equal(h.last('badf')!.transient, false);
    assert.match(h.last('empty')!.error!, /window is empty/);
    assert.equal(h.server.uploads.size, 0);
  } finally {
    await h.close();
  }
});

test('a window that ends in the future: waiting with waitUntil, then it runs once its files are closed', async () => {
  const h = await new RunnerHarness().start();
  try {
    const now = Date.now() / 1000;
    writeRollingCaptures(h.captures, { seed: 14, packets: 5_000, start: now - 50, duration: 50 }, 10);
    const runner = h.startRunner({ closeDelayMs: 20_000, quietMs: 300 });
    const to = now + 1.5;
    runner.handleTask(h.command('later', { from: ts(now - 30), to: ts(to) }));
    await h.until('done', () => h.last('later')?.status === 'done', 30_000);
    assert.deepEqual(h.states('later'), ['accepted', 'waiting', 'scanning', 'uploading', 'done']);
    const waiting = h.of('later').find((s) => s.status === 'waiting')!;
    const untilMs = ts(to).sec * 1000 + Math.floor(ts(to).nsec / 1e6) + 20_000;
    assert.deepEqual(waiting.waitUntil, { sec: Math.floor(untilMs / 1000), nsec: (untilMs % 1000) * 1e6 }, 'window end + closeDelayMs');
    const scanning = h.of('later').find((s) => s.status === 'scanning')!;
    assert.ok(scanning.at >= to * 1000, 'not before the window ended');
    assert.ok(scanning.at < to * 1000 + 5_000, 'as soon as the files were quiet, not at waitUntil');
    assert.ok(h.last('later')!.result!.packets > 1000);
  } finally {
    await h.close();
  }
});

test('queue: with maxConcurrent 1 the second task stays accepted (re-reported) until the first ends; cancel of a queued task', async () => {
  const h = await new RunnerHarness().start();
  try {
    writeRollingCaptures(h.captures, { seed: 15, packets: 30_000, start: T0, duration: 300 }, 30);
    const runner = h.startRunner({ queuedReportMs: 100 });
    runner.handleTask(h.command('q1', { from: ts(T0), to: ts(T0 + 300) }));
    runner.handleTask(h.command('q2', { from: ts(T0), to: ts(T0 + 100) }));
    runner.handleTask(h.command('q3', { from: ts(T0), to: ts(T0 + 100) }));
    runner.handleCancel({ v: 1, sentAt: Date.now(), seq: 99, taskId: 'q3', reason: 'analyst changed their mind' });
    await h.until('q2 done', () => h.last('q2')?.status === 'done');
    const q1done = h.of('q1').find((s) => s.status === 'done')!;
    const q2scan = h.of('q2').find((s) => s.status === 'scanning')!;
    assert.ok(q2scan.at >= q1done.at, 'q2 started after q1 ended');
    assert.ok(h.of('q2').filter((s) => s.status === 'accepted').length >= 3, 'a queued task says it is alive');
    assert.deepEqual(h.states('q3'), ['accepted', 'cancelled']);
    assert.equal(h.last('q3')!.error, 'cancelled: analyst changed their mind');
    // A cancel for a task that arrives later: it is answered cancelled, never run.
    runner.handleCancel({ v: 1, sentAt: Date.now(), seq: 100, taskId: 'q4' });
    runner.handleTask(h.command('q4', { from: ts(T0), to: ts(T0 + 100) }));
    assert.deepEqual(h.states('q4'), ['cancelled']);
  } finally {
    await h.close();
  }
});

test('a task or cancel command whose task id is not a plain name (../, /) is refused: nothing is written outside the state directory and nothing runs', async () => {
  const h = await new RunnerHarness().start();
  try {
    const runner = h.startRunner();
    const escape = join(h.dir, 'state', 'escaped');
    for (const id of ['../escaped', '../../state/escaped', 'a/b', '.hidden', '']) {
      runner.handleTask(h.command(id, { from: ts(T0), to: ts(T0 + 10) }));
      runner.handleCancel({ v: 1, sentAt: Date.now(), seq: 1, taskId: id, reason: 'x' });
    }
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(!existsSync(`${escape}.json`), 'no record written beside the state directory');
    assert.deepEqual(readdirSync(join(h.dir, 'state')), ['tasks']);
    assert.deepEqual(readdirSync(h.stateDir), []);
    assert.deepEqual(h.statuses, [], 'no status published for such a task');
    // A plain id still works.
    runner.handleTask(h.command('task-ok', { from: ts(T0), to: ts(T0 + 10) }));
    assert.equal(h.of('task-ok')[0]?.status, 'accepted');
  } finally {
    await h.close();
  }
});

test('a cancel that arrives while the upload is completing does not turn a done task into cancelled', async () => {
  const h = await new RunnerHarness().start();
  try {
    writeRollingCaptures(h.captures, { seed: 13, packets: 2_000, start: T0, duration: 20 }, 20);
    let finish!: () => void;
    const completing = new Promise<void>((r) => (finish = r));
    // An upload whose last acknowledgement is already on its way: the abort can no longer stop it.
    const runner = h.startRunner({ uploader: { upload: () => completing } });
    runner.handleTask(h.command('late-cancel', { from: ts(T0), to: ts(T0 + 20) }));
    await h.until('uploading', () => h.last('late-cancel')?.status === 'uploading');
    runner.handleCancel({ v: 1, sentAt: Date.now(), seq: 99, taskId: 'late-cancel', reason: 'job cancelled' });
    finish();
    await h.until('done', () => h.last('late-cancel')?.status === 'done');
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(runner.record('late-cancel')?.status, 'done');
    assert.deepEqual(h.states('late-cancel'), ['accepted', 'scanning', 'uploading', 'done']);
  } finally {
    await h.close();
  }
});
