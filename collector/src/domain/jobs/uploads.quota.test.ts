/**
 * The results quota (results.maxBytes) as upload declarations reserve it: atomically (two at once
 * never both pass a quota only one fits in), and released when the upload is dropped or its task
 * ends without it. PGlite and PostgreSQL.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { forEachDatabase } from '../../testing/databases.js';
import type { Db } from '../../storage/db.js';
import { resultBytesInUse } from '../../storage/uploads.repo.js';
import { isDomainError } from '../errors.js';
import { chunksOf, insertJob, sha256 } from './results.fixture.js';
import { UploadService } from './uploads.service.js';

const log = pino({ level: 'silent' });
let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'pcapmesh-upload-quota-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const FILE = randomBytes(60_000);
const declaration = { size: FILE.length, sha256: sha256(FILE), packets: 10, bytes: 59_000, truncated: null };

/** A service whose quota leaves room for `room` bytes beyond what the database already holds. */
async function serviceWithRoom(db: Db, directory: string, room: number) {
  const failed: { taskId: string; reason: string }[] = [];
  const maxBytes = (await resultBytesInUse(db, null)) + room;
  const service = new UploadService({
    db,
    directory,
    maxBytes,
    chunkMaxBytes: 64 * 1024,
    log,
    onTaskUploaded: async (taskId) => void (await db.query("UPDATE job_tasks SET status = 'done' WHERE id = $1", [taskId])),
    onTaskFailed: async (taskId, reason) => {
      failed.push({ taskId, reason });
      await db.query("UPDATE job_tasks SET status = 'failed', reason = $2 WHERE id = $1", [taskId, reason]);
    },
  });
  return { service, failed, maxBytes };
}

forEachDatabase('results quota reservations', (ctx) => {
  test('two declarations at once with room for one: exactly one is reserved, the other fails its task naming results.maxBytes', async () => {
    const dir = mkdtempSync(join(root, `race-${ctx.kind}-`));
    const job = await insertJob(ctx.db, { sensors: ['edge-a', 'edge-b'] });
    const { service, failed, maxBytes } = await serviceWithRoom(ctx.db, dir, FILE.length + 1000);
    const outcomes = await Promise.allSettled(job.tasks.map((who) => service.declare(who, declaration)));
    assert.deepEqual(outcomes.map((o) => o.status).sort(), ['fulfilled', 'rejected']);
    const refusal = outcomes.find((o) => o.status === 'rejected')!.reason as Error;
    assert.ok(isDomainError(refusal, 'unavailable') && /results quota exceeded: .* of results\.maxBytes/.test(refusal.message), refusal.message);
    assert.equal(failed.length, 1, 'the refused task fails');
    assert.ok((await resultBytesInUse(ctx.db, null)) <= maxBytes, 'what is reserved stays within the quota');
  });

  test('a task that ends mid-upload releases the rest of its reservation; the bytes it holds still count until its files go', async () => {
    const dir = mkdtempSync(join(root, `release-${ctx.kind}-`));
    const job = await insertJob(ctx.db, { sensors: ['edge-a', 'edge-b'] });
    const [one, two] = job.tasks as [(typeof job.tasks)[0], (typeof job.tasks)[0]];
    const { service } = await serviceWithRoom(ctx.db, dir, FILE.length + 20_000);
    const before = await resultBytesInUse(ctx.db, null);
    await service.declare(one, declaration);
    const first = chunksOf(FILE, 16 * 1024)[0]!;
    await service.chunk(one, { start: first.start, end: first.end, size: FILE.length }, first.sha256, [first.bytes]);
    assert.equal(await resultBytesInUse(ctx.db, null), before + FILE.length, 'an open upload reserves its declared size');
    await assert.rejects(service.declare(two, declaration), (err) => isDomainError(err, 'unavailable'), 'no room for a second file');

    await ctx.db.query("UPDATE job_tasks SET status = 'cancelled' WHERE id = $1", [one.taskId]);
    assert.equal(await resultBytesInUse(ctx.db, null), before + first.bytes.length, 'only the received bytes still count');
    const third = (await insertJob(ctx.db, { sensors: ['edge-c'] })).tasks[0]!;
    assert.deepEqual(await service.declare(third, declaration), { received: 0, size: FILE.length, complete: false }, 'the released room is free again');
  });
});
