import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { analyzeFiles, DEFAULT_DEDUP_WINDOW_NS, mergeCaptures, openCapture, PcapWriter, writeCapture, type AnalysisReport } from '@pcapmesh/shared/pcap';
import { forEachDatabase } from '../../testing/databases.js';
import type { Db } from '../../storage/db.js';
import { isDomainError } from '../errors.js';
import { ManifestSigner, verifyEvidence } from './manifest.js';
import { insertJob, sha256, streamOf, type FixtureJob } from './results.fixture.js';
import { ResultsService } from './results.service.js';
import { UploadService } from './uploads.service.js';

const log = pino({ level: 'silent' });
let work: string;
/** Three sensors' captures of one stretch of traffic: each packet is in two of them (overlap across sensors). */
let captures: Buffer[];

before(() => {
  work = mkdtempSync(join(tmpdir(), 'pcapmesh-results-'));
  const base = join(work, 'base.pcap');
  writeCapture(base, { seed: 11, packets: 3000, start: 1_772_359_200, duration: 30 });
  const paths = [0, 1, 2].map((i) => join(work, `sensor-${i}.pcap`));
  const writers = paths.map((p) => PcapWriter.toFile(p, { linkType: 1 }));
  const reader = openCapture(base);
  let index = 0;
  for (let packet = reader.next(); packet; packet = reader.next(), index += 1) {
    writers.forEach((w, i) => {
      if (index % 3 !== i) w.write(packet);
    });
  }
  reader.close();
  for (const w of writers) w.close();
  captures = paths.map((p) => readFileSync(p));
});
after(() => rmSync(work, { recursive: true, force: true }));

/** Uploads each sensor's capture through the real upload service (one chunk each). */
async function uploadAll(db: Db, directory: string, job: FixtureJob, files: Buffer[]): Promise<void> {
  const uploads = new UploadService({
    db,
    directory,
    maxBytes: 1 << 30,
    chunkMaxBytes: 64 << 20,
    log,
    onTaskUploaded: async (taskId) => void (await db.query("UPDATE job_tasks SET status = 'done' WHERE id = $1", [taskId])),
    onTaskFailed: () => Promise.resolve(),
  });
  for (const [i, file] of files.entries()) {
    const who = job.tasks[i]!;
    await uploads.declare(who, { size: file.length, sha256: sha256(file), packets: 2000, bytes: file.length - 24, truncated: null });
    await uploads.chunk(who, { start: 0, end: file.length - 1, size: file.length }, sha256(file), streamOf(file, 1 << 16));
  }
}

forEachDatabase('results service', (ctx) => {
  let directory: string;
  let results: ResultsService;
  let signer: ManifestSigner;
  let now = new Date('2026-03-01T10:10:00Z');
  before(async () => {
    directory = mkdtempSync(join(work, `${ctx.kind}-`));
    signer = await ManifestSigner.open({ db: ctx.db });
    results = new ResultsService({ db: ctx.db, directory, expiryDays: 7, signer, log, version: '9.9.9', now: () => now });
  });
  after(() => results.close());

  test('merge: three overlapping captures give exactly what mergeCaptures with dedup gives; analysis, manifest and expiry stored', async () => {
    const job = await insertJob(ctx.db, { sensors: ['edge-1', 'edge-2', 'edge-3'] });
    await uploadAll(ctx.db, directory, job, captures);
    const outcome = await results.merge(job.jobId, 'complete');

    const expectedPath = join(work, `expected-${ctx.kind}.pcap`);
    const inputs = job.tasks.map((t) => join(directory, job.jobId, 'tasks', `${t.taskId}.pcap`));
    const expected = mergeCaptures(inputs, expectedPath, { dedup: true, dedupWindowNs: DEFAULT_DEDUP_WINDOW_NS });
    const expectedBytes = readFileSync(expectedPath);
    assert.ok(expected.duplicates >= 2900, `overlap removed (${expected.duplicates} duplicates)`);
    assert.deepEqual(outcome, {
      packets: expected.packets,
      bytes: expected.bytes,
      fileBytes: expectedBytes.length,
      sha256: sha256(expectedBytes),
      duplicatesRemoved: expected.duplicates,
    });

    const file = await results.mergedFile(job.jobId);
    assert.ok(file);
    assert.ok(readFileSync(file.path).equals(expectedBytes), 'the merged file is byte for byte the library merge');
    assert.equal(file.fileName, `pcapmesh-${job.jobId.slice(0, 8)}-20260301T100000Z-20260301T100500Z.pcap`);
    assert.equal(file.contentType, 'application/vnd.tcpdump.pcap');
    assert.ok(!existsSync(join(directory, job.jobId, 'merged.tmp')));

    const [row] = await ctx.db.query<{ analysis: AnalysisReport; manifest: string; expires_at: Date; result_packets: number; duplicates_removed: number }>(
      'SELECT analysis, manifest, expires_at, result_packets, duplicates_removed FROM jobs WHERE id = $1',
      [job.jobId],
    );
    const direct = analyzeFiles([expectedPath]);
    assert.deepEqual({ ...row!.analysis, files: [] }, JSON.parse(JSON.stringify({ ...direct, files: [] })), 'the analysis of the merged capture');
    assert.deepEqual(row!.analysis.files, [file.fileName]);
    assert.equal(row!.expires_at.toISOString(), '2026-03-08T10:10:00.000Z');
    assert.equal(row!.duplicates_removed, expected.duplicates);
    const verdict = await verifyEvidence(row!.manifest, file.path, signer.publicJwks());
    assert.deepEqual(verdict.problems, []);
    assert.equal(verdict.manifest?.status, 'complete');
    assert.deepEqual(
      verdict.manifest?.sensors.map((s) => s.sha256),
      captures.map((c) => sha256(c)),
    );
    const onSensor = await verifyEvidence(row!.manifest, inputs[1]!, signer.publicJwks());
    assert.deepEqual(onSensor.matched, { kind: 'sensor', sensor: 'edge-2', task: job.tasks[1]!.taskId });

    const task = await results.taskResultFile(job.jobId, job.tasks[0]!.taskId);
    assert.equal(task?.fileName, `pcapmesh-${job.jobId.slice(0, 8)}-edge-1-20260301T100000Z-20260301T100500Z.pcap`);
    assert.equal(task?.size, captures[0]!.length);

    const again = await results.merge(job.jobId, 'complete');
    assert.deepEqual(again, outcome, 'merging again answers the stored result');
    assert.equal(results.counters.mergesReused, 1);
  });

  test('the next job is merged by the thread the last merge used (none started for it)', async () => {
    const job = await insertJob(ctx.db, { sensors: ['edge-1', 'edge-2'] });
    await uploadAll(ctx.db, directory, job, captures.slice(0, 2));
    const threads = results.counters.mergeThreadsStarted;
    assert.ok(threads >= 1, 'an earlier merge started a thread');
    const outcome = await results.merge(job.jobId, 'complete');
    assert.equal(results.counters.mergeThreadsStarted, threads);
    const file = await results.mergedFile(job.jobId);
    assert.equal(outcome.sha256, sha256(readFileSync(file!.path)));
  });

  test('a merge killed half-way is never served; merging again from the task files completes it', async () => {
    const job = await insertJob(ctx.db, { sensors: ['edge-1', 'edge-2'] });
    const big = [1, 2].map((seed) => {
      const path = join(work, `big-${ctx.kind}-${seed}.pcap`);
      writeCapture(path, { seed, packets: 40_000, start: 1_772_359_200, duration: 60 }); // ~35 MB each: the merge takes ~1 s
      return readFileSync(path);
    });
    await uploadAll(ctx.db, directory, job, big);
    const killed = results.merge(job.jobId, 'partial');
    let ended = false;
    void killed.then(
      () => (ended = true),
      () => (ended = true),
    );
    // The collector stops while the worker writes (or analyses) the merge.
    const at = (name: string) => existsSync(join(directory, job.jobId, name));
    while (!at('merged.tmp') && !at('merged.pcap') && !ended) await new Promise((r) => setTimeout(r, 2));
    assert.equal(ended, false, 'the merge was still running when the collector stopped');
    await results.close();
    await assert.rejects(killed, /merge worker stopped \(exit code 1\) before it finished/);
    // What a kill can leave: a half-written temp file, even a renamed file the row does not record yet.
    writeFileSync(join(directory, job.jobId, 'merged.tmp'), 'half a merge');
    writeFileSync(join(directory, job.jobId, 'merged.pcap'), 'renamed, never recorded');
    assert.equal(await results.mergedFile(job.jobId), null);
    const outcome = await results.merge(job.jobId, 'partial');
    const file = await results.mergedFile(job.jobId);
    assert.ok(file && file.size === outcome.fileBytes);
    assert.equal(sha256(readFileSync(file.path)), outcome.sha256);
    assert.ok(!existsSync(join(directory, job.jobId, 'merged.tmp')));
  });

  test('a job cancelled while its merge runs keeps no merged file, result or manifest', async () => {
    const job = await insertJob(ctx.db, { sensors: ['edge-1', 'edge-2', 'edge-3'] });
    await uploadAll(ctx.db, directory, job, captures);
    await ctx.db.query("UPDATE jobs SET status = 'merging' WHERE id = $1", [job.jobId]);
    const merging = results.merge(job.jobId, 'complete');
    // What JobsService.cancel does to a merging job (the worker is still starting).
    await ctx.db.query("UPDATE jobs SET status = 'cancelled' WHERE id = $1", [job.jobId]);
    await assert.rejects(merging, (err: unknown) => isDomainError(err) && err.code === 'conflict' && /cancelled while it merged/.test(err.message));
    const [row] = await ctx.db.query<{ resultPath: string | null; manifest: string | null; analysis: unknown; expiresAt: Date | null }>(
      'SELECT result_path AS "resultPath", manifest, analysis, expires_at AS "expiresAt" FROM jobs WHERE id = $1',
      [job.jobId],
    );
    assert.deepEqual(row, { resultPath: null, manifest: null, analysis: null, expiresAt: null });
    assert.ok(!existsSync(join(directory, job.jobId, 'merged.pcap')) && !existsSync(join(directory, job.jobId, 'merged.pcapng')), 'no merged file left');
    assert.equal(await results.mergedFile(job.jobId), null);
  });

  test('a job without verified results has nothing to merge; a task without a complete upload has no file', async () => {
    const job = await insertJob(ctx.db, { sensors: ['edge-1'] });
    await assert.rejects(results.merge(job.jobId, 'failed'), (err) => isDomainError(err, 'conflict') && /no verified task result/.test(err.message));
    assert.equal(await results.taskResultFile(job.jobId, job.tasks[0]!.taskId), null);
    assert.equal(await results.mergedFile(job.jobId), null);
    await assert.rejects(results.merge('00000000-0000-4000-8000-000000000000', 'complete'), (err) => isDomainError(err, 'not_found'));
  });

  test('sweepExpired deletes results past their expiry, keeps the row marked expired, and reports what it removed', async () => {
    const job = await insertJob(ctx.db, { sensors: ['edge-1'] });
    await uploadAll(ctx.db, directory, job, captures.slice(0, 1));
    const outcome = await results.merge(job.jobId, 'complete');
    const keep = await insertJob(ctx.db, { sensors: ['edge-1'] });
    await uploadAll(ctx.db, directory, keep, captures.slice(1, 2));
    now = new Date('2026-03-02T10:10:00Z');
    await results.merge(keep.jobId, 'complete');
    assert.deepEqual(await results.sweepExpired(new Date('2026-03-08T10:09:59Z')), []);
    const removed = await results.sweepExpired(new Date('2026-03-08T10:10:00Z'));
    const mine = removed.find((r) => r.jobId === job.jobId);
    assert.ok(mine, 'the expired job is reported');
    assert.equal(mine.bytes, outcome.fileBytes + captures[0]!.length);
    assert.ok(!removed.some((r) => r.jobId === keep.jobId), 'a job expiring later is kept');
    assert.ok(!existsSync(join(directory, job.jobId)));
    assert.equal(await results.mergedFile(job.jobId), null);
    const [row] = await ctx.db.query<{ expired_at: Date | null; result_sha256: string }>('SELECT expired_at, result_sha256 FROM jobs WHERE id = $1', [
      job.jobId,
    ]);
    assert.equal(row!.expired_at?.toISOString(), '2026-03-08T10:10:00.000Z');
    assert.equal(row!.result_sha256, outcome.sha256, 'the metadata stays');
    assert.deepEqual(await results.sweepExpired(new Date('2026-03-08T10:10:00Z')), [], 'once');
    assert.ok(await results.mergedFile(keep.jobId));
    await results.removeJobFiles(keep.jobId);
    assert.equal(await results.mergedFile(keep.jobId), null);
    mkdirSync(directory, { recursive: true });
  });
});
