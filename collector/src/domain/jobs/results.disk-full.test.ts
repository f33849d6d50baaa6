/**
 * A results directory on a full disk: a real tmpfs a few hundred KiB large (mounted by the test;
 * CI runs as root, so with CI=true a refused mount fails the test, elsewhere it is skipped). Neither
 * a merge nor an upload that runs out of space leaves a file behind: no merged.tmp, no merged file
 * the row does not know, no partial upload. PGlite and PostgreSQL.
 */
import { test, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { pino } from 'pino';
import { writeCapture } from '@pcapmesh/shared/pcap';
import { inCi } from '@pcapmesh/shared/util/testing';
import { forEachDatabase } from '../../testing/databases.js';
import { findResultJob } from '../../storage/uploads.repo.js';
import { isDomainError } from '../errors.js';
import { ManifestSigner } from './manifest.js';
import { insertJob, sha256, streamOf } from './results.fixture.js';
import { ResultsService } from './results.service.js';
import { DISK_FULL_REASON, UploadService } from './uploads.service.js';
import type { Db } from '../../storage/db.js';

const log = pino({ level: 'silent' });
let work: string;
/** One stretch of traffic as every sensor saw it: the merge removes each copy but one. */
let capture: Buffer;
const mounts: string[] = [];

before(() => {
  work = mkdtempSync(join(tmpdir(), 'pcapmesh-disk-full-'));
  const path = join(work, 'seen.pcap');
  writeCapture(path, { seed: 5, packets: 400, start: 1_772_359_200, duration: 30 });
  capture = readFileSync(path);
});
after(() => {
  for (const dir of mounts) spawnSync('umount', [dir]);
  rmSync(work, { recursive: true, force: true });
});

/** A tmpfs of `bytes` at a new directory, or null (skipped) where mounting is not allowed outside CI. */
function tinyDisk(t: TestContext, name: string, bytes: number): string | null {
  const dir = mkdtempSync(join(work, `${name}-`));
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${bytes}`, 'tmpfs', dir], { encoding: 'utf8' });
  if (r.status !== 0) {
    const message = `cannot mount a tmpfs (needs root): ${(r.stderr || r.error?.message || '').trim()}`;
    if (inCi()) throw new Error(`${message}; CI=true requires it`);
    t.skip(message);
    return null;
  }
  mounts.push(dir);
  return dir;
}

const filesUnder = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => relative(dir, join(e.parentPath, e.name)))
    .sort();

function uploads(db: Db, directory: string, failed: string[] = []) {
  return new UploadService({
    db,
    directory,
    maxBytes: 1 << 30,
    chunkMaxBytes: 4 << 20,
    log,
    onTaskUploaded: async (taskId) => void (await db.query("UPDATE job_tasks SET status = 'done' WHERE id = $1", [taskId])),
    onTaskFailed: async (taskId, reason) => {
      failed.push(reason);
      await db.query("UPDATE job_tasks SET status = 'failed', reason = $2 WHERE id = $1", [taskId, reason]);
    },
  });
}

forEachDatabase('results on a full disk', (ctx) => {
  test('a merge that runs out of space fails and leaves neither merged.tmp nor a merged file; the task results stay', async (t) => {
    // Room for the two uploads and half a merged file.
    const disk = tinyDisk(t, `merge-${ctx.kind}`, Math.ceil((capture.length * 2.5) / 4096) * 4096 + 8192);
    if (disk === null) return;
    const job = await insertJob(ctx.db, { sensors: ['edge-1', 'edge-2'] });
    const service = uploads(ctx.db, disk);
    for (const who of job.tasks) {
      await service.declare(who, { size: capture.length, sha256: sha256(capture), packets: 1500, bytes: capture.length - 24, truncated: null });
      await service.chunk(who, { start: 0, end: capture.length - 1, size: capture.length }, sha256(capture), streamOf(capture, 1 << 16));
    }
    const results = new ResultsService({
      db: ctx.db,
      directory: disk,
      expiryDays: 7,
      signer: await ManifestSigner.open({ db: ctx.db }),
      log,
      version: '9.9.9',
    });
    try {
      await assert.rejects(results.merge(job.jobId, 'complete'), /ENOSPC|no space/i);
    } finally {
      await results.close();
    }
    assert.deepEqual(
      filesUnder(join(disk, job.jobId)),
      job.tasks.map((w) => join('tasks', `${w.taskId}.pcap`)).sort(),
      'only the verified task results are left',
    );
    assert.equal((await findResultJob(ctx.db, job.jobId))?.resultPath, null, 'no merged result recorded');
  });

  test('an upload that runs out of space fails its task with "results disk full" and leaves no partial file', async (t) => {
    const disk = tinyDisk(t, `upload-${ctx.kind}`, 64 * 1024);
    if (disk === null) return;
    const job = await insertJob(ctx.db, { sensors: ['edge-1'] });
    const who = job.tasks[0]!;
    const failed: string[] = [];
    const service = uploads(ctx.db, disk, failed);
    await service.declare(who, { size: capture.length, sha256: sha256(capture), packets: 1500, bytes: capture.length - 24, truncated: null });
    await assert.rejects(
      service.chunk(who, { start: 0, end: capture.length - 1, size: capture.length }, sha256(capture), streamOf(capture, 1 << 14)),
      (err) => isDomainError(err, 'unavailable') && err.message.startsWith(DISK_FULL_REASON),
    );
    assert.deepEqual(failed, [DISK_FULL_REASON]);
    assert.deepEqual(filesUnder(disk), [], 'the partial upload is gone');
  });
});
