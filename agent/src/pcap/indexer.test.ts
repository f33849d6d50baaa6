import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, statSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pino } from 'pino';
import { extract } from '@pcapmesh/shared/pcap/extract';
import { writeCapture } from '@pcapmesh/shared/pcap/gen/output';
import { MIN_INDEXED_BYTES, loadIndexHeader, sidecarPath } from '@pcapmesh/shared/pcap/sidecar/index';
import { pcapSourceSchema, type PcapSource } from '@pcapmesh/shared/wire';
import { Agent } from '../agent.js';
import { agentConfigSchema } from '../config.js';
import { TestBroker } from '../mqtt/broker.fixture.js';
import { AvailabilityScanner } from './availability.js';
import { preciseNow, type WorkerOutcome } from './index-worker.js';
import { CaptureIndexer, type IndexerOptions } from './indexer.js';

const MiB = 1024 * 1024;

/** Writes a generated capture of `bytes` and dates its mtime `ageSeconds` back (no sleeping). */
function capture(dir: string, name: string, ageSeconds: number, opts: { bytes?: number; seed?: number; hosts?: string[] } = {}): string {
  const path = join(dir, name);
  writeCapture(path, { bytes: opts.bytes ?? 1.25 * MiB, seed: opts.seed ?? 1, ...(opts.hosts ? { hosts: opts.hosts } : {}) });
  age(path, ageSeconds);
  return path;
}

function age(path: string, seconds: number): void {
  const t = Date.now() / 1000 - seconds;
  utimesSync(path, t, t);
}

function setup(t: TestContext, dir: string, opts: { managed?: boolean } & Partial<IndexerOptions> = {}) {
  const logLines: { level: number; msg: string; file?: string }[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => logLines.push(JSON.parse(line)) });
  const outcomes: [string, WorkerOutcome][] = [];
  const indexer = new CaptureIndexer({
    settleSeconds: 60,
    logger,
    ...opts,
    onResult: (path, outcome) => {
      outcomes.push([basename(path), outcome]);
      opts.onResult?.(path, outcome);
    },
  });
  t.after(() => indexer.stop());
  const scanner = new AvailabilityScanner(
    [{ name: 'src', directory: dir, gapSeconds: 120, activeSeconds: 70, managed: opts.managed ?? false }],
    Date.now,
    (listing) => indexer.review(listing),
  );
  const scan = (): PcapSource => pcapSourceSchema.parse(scanner.scan()[0]);
  /** Scans, waits for the worker to finish what the scan queued, scans again. */
  const settle = async (): Promise<PcapSource> => {
    scan();
    await indexer.idle();
    return scan();
  };
  return { indexer, scan, settle, outcomes, logLines };
}

const fresh = (path: string) => loadIndexHeader(path).status === 'fresh';

test('closed files get fresh sidecars, oldest first; the recent file and files under 1 MiB do not; availability counts them', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'indexer-'));
  const a = capture(dir, 'a.pcap', 7200, { seed: 1 });
  const b = capture(dir, 'b.pcap', 3600, { seed: 2 });
  const recent = capture(dir, 'c.pcap', 5, { seed: 3 });
  const small = capture(dir, 'small.pcap', 7200, { bytes: 100_000 });
  // An older file listed after the others: the queue is by age, not by name.
  const oldest = capture(dir, 'z.pcap', 9000, { seed: 4 });
  assert.ok(statSync(small).size < MIN_INDEXED_BYTES && statSync(a).size >= MIN_INDEXED_BYTES);
  const { scan, settle, outcomes, indexer } = setup(t, dir);

  const before = scan();
  assert.deepEqual([before.indexedFiles, before.unindexedFiles], [0, 4]);
  await indexer.idle();
  assert.deepEqual(
    outcomes.map(([name, o]) => [name, o.status]),
    [
      ['z.pcap', 'built'],
      ['a.pcap', 'built'],
      ['b.pcap', 'built'],
    ],
  );
  const after = scan();
  assert.deepEqual([after.files, after.indexedFiles, after.unindexedFiles], [5, 3, 1]);
  assert.ok(fresh(a) && fresh(b) && fresh(oldest));
  assert.ok(!existsSync(sidecarPath(recent)) && !existsSync(sidecarPath(small)));
  assert.deepEqual(after.problems, []);
  assert.ok(
    readdirSync(dir).every((n) => !n.includes('.tmp-')),
    'no temporary file left',
  );

  // Once quiet for settleSeconds, the recent file is indexed too; indexed files are not rebuilt.
  age(recent, 120);
  const later = await settle();
  assert.deepEqual([later.indexedFiles, later.unindexedFiles], [4, 0]);
  assert.deepEqual(
    outcomes.map(([name]) => name),
    ['z.pcap', 'a.pcap', 'b.pcap', 'c.pcap'],
  );
});

test('the newest file of a managed ring is never indexed, however old its mtime', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'indexer-ring-'));
  const older = capture(dir, 'eth0-20260101000000.pcap', 600, { seed: 1 });
  const newest = capture(dir, 'eth0-20260101000100.pcap', 300, { seed: 2 });
  const source = await setup(t, dir, { managed: true }).settle();
  assert.deepEqual([source.indexedFiles, source.unindexedFiles], [1, 1]);
  assert.ok(fresh(older));
  assert.ok(!existsSync(sidecarPath(newest)));
});

test('a file that changes is re-indexed; a corrupt sidecar is rebuilt', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'indexer-change-'));
  const a = capture(dir, 'a.pcap', 3600, { seed: 1 });
  const b = capture(dir, 'b.pcap', 3600, { seed: 2 });
  const { settle, outcomes } = setup(t, dir);
  assert.equal((await settle()).indexedFiles, 2);

  capture(dir, 'a.pcap', 1800, { seed: 5, bytes: 1.5 * MiB }); // rewritten by its tool
  const sidecar = sidecarPath(b);
  writeFileSync(sidecar, Buffer.alloc(statSync(sidecar).size, 0x55)); // damaged on disk
  const source = await settle();
  assert.deepEqual([source.indexedFiles, source.unindexedFiles], [2, 0]);
  const rebuilt = outcomes.slice(2).map(([name, o]) => [name, o.status, o.reason]);
  assert.equal(rebuilt.length, 2);
  assert.deepEqual(rebuilt.find(([name]) => name === 'a.pcap')?.slice(0, 2), ['a.pcap', 'rebuilt']);
  assert.match(String(rebuilt.find(([name]) => name === 'a.pcap')?.[2]), /size changed/);
  assert.deepEqual(rebuilt.find(([name]) => name === 'b.pcap')?.slice(0, 2), ['b.pcap', 'rebuilt']);
  const header = loadIndexHeader(a);
  assert.ok(header.status === 'fresh' && header.header.capture.size === statSync(a).size);
});

// A directory the agent may not write. Tests run as root, which ignores file modes (chmod 0555
// would not stop it), so the sidecar's own path is made a directory: the index is built, its
// rename onto that path fails, and buildIndex reports a persistError — the path the agent takes for
// EACCES or EROFS too.
test('an index that cannot be saved is reported once per file, kept in problems, not rebuilt until the file changes', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'indexer-ro-'));
  const a = capture(dir, 'a.pcap', 3600, { seed: 1 });
  const b = capture(dir, 'b.pcap', 3600, { seed: 2 });
  mkdirSync(sidecarPath(a));
  const { settle, outcomes, logLines, scan } = setup(t, dir);
  let source = await settle();
  for (let i = 0; i < 3; i++) source = await settle();
  assert.deepEqual([source.indexedFiles, source.unindexedFiles], [1, 1], 'b is indexed, a is not, and the scan went on');
  assert.ok(fresh(b));
  assert.deepEqual(outcomes.map(([name]) => name).sort(), ['a.pcap', 'b.pcap'], 'a was built once, not at every scan');
  assert.ok(outcomes.find(([name]) => name === 'a.pcap')?.[1].persistError);
  const warnings = logLines.filter((l) => l.level === 40);
  assert.equal(warnings.length, 1, JSON.stringify(warnings));
  assert.equal(warnings[0]!.file, a);
  assert.match(warnings[0]!.msg, /index not saved: .*a\.pcap\.pmidx: cannot write index/);
  assert.deepEqual(
    source.problems.map((p) => p.file),
    [a],
    'still reported while it holds',
  );
  assert.match(source.problems[0]!.reason, /^index not saved: /);
  assert.ok(
    readdirSync(dir).every((n) => !n.includes('.tmp-')),
    'the temporary file was removed',
  );

  // The file changes (its tool appended to it): one more attempt, one more report.
  capture(dir, 'a.pcap', 1800, { seed: 3 });
  source = await settle();
  assert.equal(outcomes.filter(([name]) => name === 'a.pcap').length, 2);
  assert.equal(logLines.filter((l) => l.level === 40).length, 2);
  assert.equal(source.problems.length, 1);
  assert.equal(scan().problems.length, 1);
});

test('orphan sidecars and abandoned temporary sidecars are removed, others kept; a capture deleted before or while it is indexed leaves no sidecar', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'indexer-orphan-'));
  const kept = capture(dir, 'kept.pcap', 3600, { seed: 1 });
  const doomed = capture(dir, 'doomed.pcap', 3000, { seed: 2 });
  const vanishing = capture(dir, 'vanishing.pcap', 2400, { seed: 3 });
  writeFileSync(join(dir, 'gone.pcap.pmidx'), 'an orphan: its capture was deleted by the tool that wrote it');
  writeFileSync(join(dir, 'notes.txt'), 'not a capture');
  writeFileSync(join(dir, 'notes.txt.pmidx'), 'not an orphan: notes.txt exists');
  writeFileSync(join(dir, 'gone.pcap.pmidx.txt'), 'not named *.pmidx');
  // Temporary sidecars: of a crashed process (removed) and of a process still running, pid 1 (kept).
  const dead = spawnSync(process.execPath, ['-e', '0']).pid;
  writeFileSync(join(dir, `kept.pcap.pmidx.tmp-${dead}`), 'left by a crashed indexer');
  writeFileSync(join(dir, 'kept.pcap.pmidx.tmp-1'), 'another process is writing it');
  const { settle, outcomes } = setup(t, dir, {
    // While the first file is built, one capture is deleted mid-build and one before its turn.
    onStart: (path) => {
      if (basename(path) === 'kept.pcap') unlinkSync(vanishing);
      if (basename(path) === 'doomed.pcap') unlinkSync(doomed);
    },
  });
  const source = await settle();
  assert.deepEqual(readdirSync(dir).sort(), ['gone.pcap.pmidx.txt', 'kept.pcap', 'kept.pcap.pmidx', 'kept.pcap.pmidx.tmp-1', 'notes.txt', 'notes.txt.pmidx']);
  assert.ok(fresh(kept));
  assert.deepEqual([source.files, source.indexedFiles, source.unindexedFiles], [1, 1, 0]);
  assert.deepEqual(source.problems, []);
  assert.deepEqual(outcomes.map(([name, o]) => [name, o.status]).slice(0, 1), [['kept.pcap', 'built']]);
  assert.equal(outcomes.find(([name]) => name === 'vanishing.pcap')?.[1].status, 'vanished');
});

test('the event loop stays responsive while a large file is indexed (a timer fires during the build)', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'indexer-big-'));
  capture(dir, 'big.pcap', 3600, { bytes: 48 * MiB });
  const ticks: number[] = [];
  const timer = setInterval(() => ticks.push(preciseNow()), 1);
  t.after(() => clearInterval(timer));
  const { settle, outcomes } = setup(t, dir);
  assert.equal((await settle()).indexedFiles, 1);
  clearInterval(timer);
  const { startedAt, finishedAt } = outcomes[0]![1];
  assert.ok(startedAt !== undefined && finishedAt !== undefined);
  const during = ticks.filter((at) => at > startedAt && at < finishedAt);
  assert.ok(during.length > 0, `no timer tick between the build's start and end (${ticks.length} ticks in all)`);
});

test('stop() abandons a build in progress: worker terminated, no temporary file left, nothing queued afterwards', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'indexer-stop-'));
  const big = capture(dir, 'big.pcap', 3600, { bytes: 48 * MiB });
  capture(dir, 'next.pcap', 1800);
  let stopped: Promise<void> | null = null;
  const { indexer, scan, outcomes } = setup(t, dir, {
    onStart: () => {
      // What a build cut short between write and rename leaves (buildIndex's temp name; the worker shares our pid).
      writeFileSync(`${sidecarPath(big)}.tmp-${process.pid}`, 'partial');
      stopped = indexer.stop();
    },
  });
  scan();
  await indexer.idle();
  assert.ok(stopped, 'the build started');
  await stopped;
  assert.deepEqual(outcomes, [], 'no result arrives from a terminated worker');
  assert.ok(
    readdirSync(dir).every((n) => !n.includes('.tmp-')),
    `left behind: ${readdirSync(dir).join(', ')}`,
  );
  assert.ok(!existsSync(sidecarPath(big)) || fresh(big), 'a sidecar, if the build won the race, is whole');
  scan();
  assert.deepEqual(indexer.queued, []);
  assert.ok(!existsSync(sidecarPath(join(dir, 'next.pcap'))));
});

test('end to end: after the indexer ran, a selective extract skips by index', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'indexer-extract-'));
  capture(dir, 'a.pcap', 3600, { seed: 1 });
  capture(dir, 'b.pcap', 3000, { seed: 2 });
  capture(dir, 'c.pcap', 2400, { seed: 3, hosts: ['10.9.9.9'] });
  const out = mkdtempSync(join(tmpdir(), 'indexer-extract-out-'));
  const run = (name: string) => extract({ inputs: [dir], output: join(out, name), filter: 'host 10.9.9.9', workers: 0 });

  const unindexed = await run('before.pcap');
  assert.deepEqual([unindexed.filesSkippedByIndex, unindexed.blocksSkipped], [0, 0]);
  assert.ok(unindexed.packets > 0);
  assert.equal((await setup(t, dir).settle()).indexedFiles, 3);
  const indexed = await run('after.pcap');
  assert.ok(indexed.filesSkippedByIndex > 0 || indexed.blocksSkipped > 0, JSON.stringify(indexed));
  assert.equal(indexed.packets, unindexed.packets, 'the same packets, fewer bytes read');
  assert.ok(indexed.bytesScanned < unindexed.bytesScanned);
});

test('the agent wires it: availability reports the indexed file, the birth announces pcap-index; index.enabled: false reports neither', async (t) => {
  const broker = new TestBroker();
  await broker.start();
  t.after(() => broker.stop());
  const dir = mkdtempSync(join(tmpdir(), 'indexer-agent-'));
  mkdirSync(join(dir, 'pcap'));
  const closed = capture(join(dir, 'pcap'), 'closed.pcap', 3600, { seed: 1 });
  const run = async (name: string, enabled: boolean): Promise<PcapSource> => {
    const config = agentConfigSchema.parse({
      name,
      mqtt: { url: broker.url },
      stateDir: join(dir, `state-${name}`),
      captures: [{ name: 'watched', directory: join(dir, 'pcap') }],
      intervals: { scanSeconds: 1 },
      index: { enabled, settleSeconds: 1 },
    });
    const agent = new Agent(config, pino({ level: 'silent' }));
    await agent.start();
    const sources = () =>
      broker
        .of('pcap')
        .filter((r) => r.topic.includes(`/${name}/`))
        .map((r) => (r.message as unknown as { sources: PcapSource[] }).sources[0]!);
    try {
      await broker.until(`${name}: availability`, () => sources().some((s) => !enabled || s.indexedFiles === 1), 60_000);
    } finally {
      await agent.stop();
    }
    const birth = broker.of('state').find((r) => r.topic.includes(`/${name}/`))!.message as { capabilities?: string[] };
    assert.equal(birth.capabilities?.includes('pcap-index'), enabled);
    return sources().at(-1)!;
  };

  const off = await run('indexer-off', false);
  assert.ok(!('indexedFiles' in off) && !('unindexedFiles' in off), JSON.stringify(off));
  assert.ok(!existsSync(sidecarPath(closed)));
  const on = await run('indexer-on', true);
  assert.deepEqual([on.files, on.indexedFiles, on.unindexedFiles], [1, 1, 0]);
  assert.ok(fresh(closed));
});
