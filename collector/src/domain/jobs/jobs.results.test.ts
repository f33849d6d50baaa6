/**
 * JobsService with the real results side: UploadService takes each sensor's capture and calls
 * taskUploaded / taskFailed, ResultsService merges, analyses and signs. Two sensors saw the same
 * traffic in part (every packet is in one or both captures).
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { openCapture, PcapWriter, writeCapture } from '@pcapmesh/shared/pcap';
import { resultBytesInUse } from '../../storage/uploads.repo.js';
import { forEachDatabase } from '../../testing/databases.js';
import { jobsHarness, source } from '../../testing/jobs.fixture.js';
import { isDomainError } from '../errors.js';
import { ManifestSigner } from './manifest.js';
import { ResultsService } from './results.service.js';
import { UploadService } from './uploads.service.js';
import { nsOfDate } from './window.js';

const log = pino({ level: 'silent' });
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const START = 1_772_359_200; // 2026-03-01T10:00:00Z
const NOW = new Date((START + 3600) * 1000);
let work: string;
let captures: Buffer[];

before(() => {
  work = mkdtempSync(join(tmpdir(), 'pcapmesh-jobs-results-'));
  const base = join(work, 'base.pcap');
  writeCapture(base, { seed: 5, packets: 600, start: START, duration: 30 });
  const paths = [0, 1].map((i) => join(work, `sensor-${i}.pcap`));
  const writers = paths.map((p) => PcapWriter.toFile(p, { linkType: 1 }));
  const reader = openCapture(base);
  let index = 0;
  for (let packet = reader.next(); packet; packet = reader.next(), index += 1) {
    writers.forEach((w, i) => {
      if (index % 3 !== i) w.write(packet); // each packet in one or both captures
    });
  }
  reader.close();
  for (const w of writers) w.close();
  captures = paths.map((p) => readFileSync(p));
});
after(() => rmSync(work, { recursive: true, force: true }));

forEachDatabase('JobsService with uploads and results', (ctx) => {
  test('uploads complete the tasks, the merge completes the job; download, analysis and manifest follow', async () => {
    const directory = mkdtempSync(join(work, `${ctx.kind}-`));
    const results = new ResultsService({
      db: ctx.db,
      directory,
      expiryDays: 7,
      signer: await ManifestSigner.open({ db: ctx.db }),
      log,
      version: '9.9.9',
      now: () => NOW,
    });
    try {
      const h = await jobsHarness(ctx.db, results, { start: NOW, settings: { quota: { concurrentJobs: 5, bytesPerDay: 0, dryRunsPerMinute: 0 } } });
      const uploads = new UploadService({
        db: ctx.db,
        directory,
        maxBytes: 1 << 30,
        chunkMaxBytes: 1 << 20,
        log,
        onTaskUploaded: async (taskId, result) => void (await h.jobs.service.taskUploaded(taskId, result)),
        onTaskFailed: async (taskId, reason) => void (await h.jobs.service.taskFailed(taskId, reason)),
        now: () => NOW,
      });
      const avail = [source(START * 1000 - 60_000, START * 1000 + 120_000, 1_000_000)];
      const sensors = [await h.sensor(avail), await h.sensor(avail)];
      const owner = { id: 'user:ana-results', name: 'ana-results', role: 'analyst' as const };
      const { job } = await h.jobs.service.submit(owner, {
        name: 'overlap',
        window: { from: nsOfDate(new Date(START * 1000)), to: nsOfDate(new Date((START + 60) * 1000)) },
        filter: { expression: '' },
        targets: { sensors },
      });
      for (const [i, sensor] of sensors.entries()) {
        const task = job!.taskList.find((t) => t.sensor === sensor)!;
        const file = captures[i]!;
        const who = { taskId: task.id, jobId: job!.id, sensor };
        await uploads.declare(who, { size: file.length, sha256: sha256(file), packets: 400, bytes: file.length - 24, truncated: null });
        await uploads.chunk(who, { start: 0, end: file.length - 1, size: file.length }, sha256(file), [file]);
      }
      await h.jobs.service.settled();
      const done = await h.jobs.service.get(owner, job!.id);
      assert.equal(done.status, 'complete', done.reason ?? '');
      assert.deepEqual(
        done.taskList.map((t) => t.status),
        ['done', 'done'],
      );
      assert.ok(done.result && done.result.packets === 600 && done.result.duplicatesRemoved === 200, JSON.stringify(done.result));
      const file = await h.jobs.service.download(owner, job!.id);
      assert.equal(sha256(readFileSync(file.path)), done.result.sha256);
      assert.equal(file.fileName, done.result.fileName);
      const { manifest } = await h.jobs.service.manifest(owner, job!.id);
      assert.deepEqual([manifest.job, manifest.status, manifest.sensors.length, manifest.merged.sha256], [job!.id, 'complete', 2, done.result.sha256]);
      assert.ok((await h.jobs.service.analysis(owner, job!.id)) !== null);
      assert.deepEqual(
        h.emittedJobs.filter((e) => e.job === job!.id && e.event !== 'progress').map((e) => e.event),
        ['submitted', 'running', 'merging', 'complete'],
      );
    } finally {
      await results.close();
    }
  });

  test('a result over results.maxBytes fails its task at once, naming the quota; the job ends partial', async () => {
    const directory = mkdtempSync(join(work, `${ctx.kind}-quota-`));
    const results = new ResultsService({
      db: ctx.db,
      directory,
      expiryDays: 7,
      signer: await ManifestSigner.open({ db: ctx.db }),
      log,
      version: '9.9.9',
      now: () => NOW,
    });
    try {
      const h = await jobsHarness(ctx.db, results, { start: NOW });
      const uploads = new UploadService({
        db: ctx.db,
        directory,
        // Room for what earlier tests left plus the first result, not the second.
        maxBytes: (await resultBytesInUse(ctx.db, null)) + captures[0]!.length + 10,
        chunkMaxBytes: 1 << 20,
        log,
        onTaskUploaded: async (taskId, result) => void (await h.jobs.service.taskUploaded(taskId, result)),
        onTaskFailed: async (taskId, reason) => void (await h.jobs.service.taskFailed(taskId, reason)),
        now: () => NOW,
      });
      const avail = [source(START * 1000 - 60_000, START * 1000 + 120_000, 1_000_000)];
      const sensors = [await h.sensor(avail), await h.sensor(avail)];
      const owner = { id: 'user:ana-quota', name: 'ana-quota', role: 'analyst' as const };
      const { job } = await h.jobs.service.submit(owner, {
        window: { from: nsOfDate(new Date(START * 1000)), to: nsOfDate(new Date((START + 60) * 1000)) },
        filter: { expression: '' },
        targets: { sensors },
      });
      const whos = sensors.map((sensor) => ({ taskId: job!.taskList.find((t) => t.sensor === sensor)!.id, jobId: job!.id, sensor }));
      const [first, second] = [captures[0]!, captures[1]!];
      await uploads.declare(whos[0]!, { size: first.length, sha256: sha256(first), packets: 400, bytes: first.length - 24, truncated: null });
      await uploads.chunk(whos[0]!, { start: 0, end: first.length - 1, size: first.length }, sha256(first), [first]);
      await assert.rejects(
        uploads.declare(whos[1]!, { size: second.length, sha256: sha256(second), packets: 400, bytes: second.length - 24, truncated: null }),
        (err) => isDomainError(err),
      );
      await h.jobs.service.settled();
      const ended = await h.jobs.service.get(owner, job!.id);
      assert.equal(ended.status, 'partial');
      assert.match(ended.reason!, new RegExp(`^${sensors[1]} failed: .*results\\.maxBytes`));
      assert.doesNotMatch(ended.reason!, /attempt/, 'a collector-side failure is not retried');
    } finally {
      await results.close();
    }
  });
});
