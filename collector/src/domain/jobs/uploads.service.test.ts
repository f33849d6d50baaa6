import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import type { TaskResult } from '@pcapmesh/shared/wire';
import { forEachDatabase } from '../../testing/databases.js';
import { isDomainError } from '../errors.js';
import { chunksOf, insertJob, sha256, streamOf } from './results.fixture.js';
import { DISK_FULL_REASON, UploadRejected, UploadService, type UploadServiceOptions } from './uploads.service.js';
import type { Db } from '../../storage/db.js';

const log = pino({ level: 'silent' });
let root: string;
before(() => {
  root = mkdtempSync(join(tmpdir(), 'pcapmesh-uploads-'));
});
after(() => rmSync(root, { recursive: true, force: true }));

const FILE = randomBytes(100_000);
const CHUNK = 16 * 1024;
const declaration = (file: Uint8Array = FILE) => ({ size: file.length, sha256: sha256(file), packets: 120, bytes: 99_000, truncated: null });

/** A service over `db` and a results directory, recording what it tells the jobs service. */
function makeService(db: Db, directory: string, opts: Partial<UploadServiceOptions> = {}) {
  const uploaded: { taskId: string; result: TaskResult }[] = [];
  const failed: { taskId: string; reason: string }[] = [];
  const service = new UploadService({
    db,
    directory,
    maxBytes: 10 * 1024 * 1024,
    chunkMaxBytes: 64 * 1024,
    log,
    // What JobsService does in these hooks, as far as uploads can tell: the task ends.
    onTaskUploaded: async (taskId, result) => {
      uploaded.push({ taskId, result });
      await db.query("UPDATE job_tasks SET status = 'done' WHERE id = $1", [taskId]);
    },
    onTaskFailed: async (taskId, reason) => {
      failed.push({ taskId, reason });
      await db.query("UPDATE job_tasks SET status = 'failed', reason = $2 WHERE id = $1", [taskId, reason]);
    },
    ...opts,
  });
  return { service, uploaded, failed };
}

/** A body that yields `keep` bytes of `bytes` and then fails like a cut connection. */
async function* cutAfter(bytes: Uint8Array, keep: number): AsyncIterable<Uint8Array> {
  if (keep > 0) yield bytes.subarray(0, keep);
  throw new Error('connection reset');
}

const rejected = (problem: string, received: number) => (err: unknown) => err instanceof UploadRejected && err.problem === problem && err.received === received;
const domain = (code: string, message: RegExp) => (err: unknown) => isDomainError(err) && err.code === code && message.test(err.message);

forEachDatabase('uploads service', (ctx) => {
  let dir: string;
  before(() => {
    dir = mkdtempSync(join(root, `${ctx.kind}-`));
  });

  test('declare, chunks, verified: the file becomes {task}.pcap and the jobs service hears the result once', async () => {
    const { service, uploaded } = makeService(ctx.db, dir);
    const job = await insertJob(ctx.db, { sensors: ['edge-1'] });
    const who = job.tasks[0]!;
    assert.deepEqual(await service.status(who), { received: 0, size: null, complete: false });
    assert.deepEqual(await service.declare(who, { ...declaration(), truncated: 'max-packets' }), { received: 0, size: FILE.length, complete: false });
    let state;
    for (const c of chunksOf(FILE, CHUNK))
      state = await service.chunk(who, { start: c.start, end: c.end, size: FILE.length }, c.sha256, streamOf(c.bytes, 1000));
    assert.deepEqual(state, { received: FILE.length, size: FILE.length, complete: true });
    const final = join(dir, job.jobId, 'tasks', `${who.taskId}.pcap`);
    assert.ok(readFileSync(final).equals(FILE));
    assert.ok(!existsSync(final.replace(/\.pcap$/, '.part')));
    assert.deepEqual(uploaded, [
      { taskId: who.taskId, result: { packets: 120, bytes: 99_000, fileBytes: FILE.length, sha256: sha256(FILE), truncated: 'max-packets' } },
    ]);
    assert.deepEqual(
      await service.declare(who, declaration()),
      { received: FILE.length, size: FILE.length, complete: true },
      'declaring it again answers complete',
    );
    await assert.rejects(service.declare(who, declaration(randomBytes(10))), domain('conflict', /already has a verified upload/));
  });

  test('chunks larger than the write buffer (1 MiB), in odd-sized pieces, land byte for byte', async () => {
    const big = randomBytes(2 * 1024 * 1024 + 300_007);
    const { service } = makeService(ctx.db, dir, { chunkMaxBytes: 4 * 1024 * 1024 });
    const job = await insertJob(ctx.db, { sensors: ['edge-1'] });
    const who = job.tasks[0]!;
    await service.declare(who, declaration(big));
    let state;
    for (const c of chunksOf(big, 1024 * 1024 + 65_539))
      state = await service.chunk(who, { start: c.start, end: c.end, size: big.length }, c.sha256, streamOf(c.bytes, 65_537));
    assert.deepEqual(state, { received: big.length, size: big.length, complete: true });
    assert.ok(readFileSync(join(dir, job.jobId, 'tasks', `${who.taskId}.pcap`)).equals(big));
  });

  test('a chunk past an early-writeback mark (4 MiB): a wrong SHA-256 keeps nothing, the right one lands byte for byte', async () => {
    // Under the 10 MiB quota with the other tests' files (the database's results are shared by them).
    const big = randomBytes(4 * 1024 * 1024 + 300_007);
    const { service } = makeService(ctx.db, dir, { chunkMaxBytes: 8 * 1024 * 1024 });
    const job = await insertJob(ctx.db, { sensors: ['edge-1'] });
    const who = job.tasks[0]!;
    await service.declare(who, declaration(big));
    const range = { start: 0, end: big.length - 1, size: big.length };
    await assert.rejects(service.chunk(who, range, sha256(FILE), streamOf(big, 65_536)), domain('invalid', /X-Chunk-SHA256/));
    assert.equal(statSync(join(dir, job.jobId, 'tasks', `${who.taskId}.part`)).size, 0, 'the refused chunk was cut back to 0');
    assert.deepEqual(await service.chunk(who, range, sha256(big), streamOf(big, 65_536)), { received: big.length, size: big.length, complete: true });
    assert.ok(readFileSync(join(dir, job.jobId, 'tasks', `${who.taskId}.pcap`)).equals(big));
  });

  test('a cut at any offset resumes from the last acknowledged chunk; the partial file never holds unacknowledged bytes', async () => {
    const { service, uploaded } = makeService(ctx.db, dir);
    const chunks = chunksOf(FILE, CHUNK);
    for (const [cutChunk, keep] of [
      [0, 0],
      [0, 1],
      [1, 4095],
      [2, CHUNK - 1],
      [chunks.length - 1, 5],
    ] as const) {
      const job = await insertJob(ctx.db, { sensors: ['edge-1'] });
      const who = job.tasks[0]!;
      await service.declare(who, declaration());
      for (const c of chunks.slice(0, cutChunk)) await service.chunk(who, { start: c.start, end: c.end, size: FILE.length }, c.sha256, streamOf(c.bytes));
      const cut = chunks[cutChunk]!;
      await assert.rejects(
        service.chunk(who, { start: cut.start, end: cut.end, size: FILE.length }, cut.sha256, cutAfter(cut.bytes, keep)),
        domain('invalid', new RegExp(`broke off after ${keep} bytes \\(connection reset\\)`)),
      );
      const part = join(dir, job.jobId, 'tasks', `${who.taskId}.part`);
      assert.equal(statSync(part).size, cut.start, `cut after ${keep} bytes of chunk ${cutChunk}: nothing of it kept`);
      assert.deepEqual(await service.status(who), { received: cut.start, size: FILE.length, complete: false });
      assert.deepEqual(await service.declare(who, declaration()), { received: cut.start, size: FILE.length, complete: false }, 'the same declaration resumes');
      for (const c of chunks.slice(cutChunk)) await service.chunk(who, { start: c.start, end: c.end, size: FILE.length }, c.sha256, streamOf(c.bytes));
      assert.ok(readFileSync(join(dir, job.jobId, 'tasks', `${who.taskId}.pcap`)).equals(FILE));
    }
    assert.equal(uploaded.length, 5);
  });

  test('bytes a crash left beyond the acknowledged offset are dropped by the next chunk', async () => {
    const { service } = makeService(ctx.db, dir);
    const job = await insertJob(ctx.db, { sensors: ['edge-1'] });
    const who = job.tasks[0]!;
    await service.declare(who, declaration());
    const [first, ...rest] = chunksOf(FILE, CHUNK);
    await service.chunk(who, { start: first!.start, end: first!.end, size: FILE.length }, first!.sha256, streamOf(first!.bytes));
    const part = join(dir, job.jobId, 'tasks', `${who.taskId}.part`);
    writeFileSync(part, randomBytes(777), { flag: 'a' }); // written, fsynced, never acknowledged
    for (const c of rest) await service.chunk(who, { start: c.start, end: c.end, size: FILE.length }, c.sha256, streamOf(c.bytes));
    assert.ok(readFileSync(join(dir, job.jobId, 'tasks', `${who.taskId}.pcap`)).equals(FILE));
  });

  test('a chunk with a wrong hash, a body unlike its range, or reaching past the size is refused and nothing of it kept', async () => {
    const { service } = makeService(ctx.db, dir);
    const job = await insertJob(ctx.db, { sensors: ['edge-1'] });
    const who = job.tasks[0]!;
    await service.declare(who, declaration());
    const [a, b] = chunksOf(FILE, CHUNK) as [ReturnType<typeof chunksOf>[0], ReturnType<typeof chunksOf>[0]];
    await service.chunk(who, { start: a.start, end: a.end, size: FILE.length }, a.sha256, streamOf(a.bytes));
    const part = join(dir, job.jobId, 'tasks', `${who.taskId}.part`);
    const range = { start: b.start, end: b.end, size: FILE.length };
    await assert.rejects(service.chunk(who, range, a.sha256, streamOf(b.bytes)), domain('invalid', /does not match the chunk's SHA-256/));
    assert.equal(statSync(part).size, CHUNK);
    await assert.rejects(
      service.chunk(who, range, b.sha256, streamOf(b.bytes.subarray(1))),
      domain('invalid', /has 16383 bytes, its Content-Range says 16384/),
    );
    await assert.rejects(service.chunk(who, { ...range, end: range.end - 1 }, b.sha256, streamOf(b.bytes)), domain('invalid', /longer than its Content-Range/));
    assert.equal(statSync(part).size, CHUNK);
    await assert.rejects(
      service.chunk(who, { start: CHUNK, end: FILE.length + 10, size: FILE.length }, b.sha256, streamOf(b.bytes)),
      domain('invalid', /past the declared size 100000/),
    );
    await assert.rejects(
      service.chunk(who, { ...range, size: FILE.length + 1 }, b.sha256, streamOf(b.bytes)),
      domain('invalid', /differs from the declared size/),
    );
    assert.deepEqual(await service.status(who), { received: CHUNK, size: FILE.length, complete: false });
  });

  test('a chunk not starting at received is refused with received; one larger than the chunk limit as too large', async () => {
    const { service } = makeService(ctx.db, dir, { chunkMaxBytes: CHUNK });
    const job = await insertJob(ctx.db, { sensors: ['edge-1'] });
    const who = job.tasks[0]!;
    const [a, b] = chunksOf(FILE, CHUNK) as [ReturnType<typeof chunksOf>[0], ReturnType<typeof chunksOf>[0]];
    await assert.rejects(
      service.chunk(who, { start: 0, end: a.end, size: FILE.length }, a.sha256, streamOf(a.bytes)),
      domain('conflict', /POST the declaration first/),
    );
    await service.declare(who, declaration());
    await assert.rejects(service.chunk(who, { start: b.start, end: b.end, size: FILE.length }, b.sha256, streamOf(b.bytes)), rejected('out-of-order', 0));
    await service.chunk(who, { start: 0, end: a.end, size: FILE.length }, a.sha256, streamOf(a.bytes));
    await assert.rejects(
      service.chunk(who, { start: 0, end: a.end, size: FILE.length }, a.sha256, streamOf(a.bytes)),
      rejected('out-of-order', CHUNK),
      'a replayed chunk',
    );
    const big = FILE.subarray(CHUNK, CHUNK * 2 + 1);
    await assert.rejects(
      service.chunk(who, { start: CHUNK, end: CHUNK * 2, size: FILE.length }, sha256(big), streamOf(big)),
      rejected('chunk-too-large', CHUNK),
    );
    await assert.rejects(
      service.chunk(who, { start: CHUNK, end: CHUNK * 2 - 1, size: FILE.length }, sha256(big), streamOf(big)),
      rejected('chunk-too-large', CHUNK),
      'a body larger than the limit, whatever its range says',
    );
    assert.equal(statSync(join(dir, job.jobId, 'tasks', `${who.taskId}.part`)).size, CHUNK);
  });

  test('a whole file unlike its declaration resets the upload to 0 (declaration kept); a new declaration starts over', async () => {
    const { service, uploaded } = makeService(ctx.db, dir);
    const job = await insertJob(ctx.db, { sensors: ['edge-1'] });
    const who = job.tasks[0]!;
    const other = randomBytes(FILE.length);
    await service.declare(who, declaration(other)); // declares one file, sends another
    const chunks = chunksOf(FILE, CHUNK);
    for (const c of chunks.slice(0, -1)) await service.chunk(who, { start: c.start, end: c.end, size: FILE.length }, c.sha256, streamOf(c.bytes));
    const last = chunks.at(-1)!;
    await assert.rejects(
      service.chunk(who, { start: last.start, end: last.end, size: FILE.length }, last.sha256, streamOf(last.bytes)),
      rejected('file-mismatch', 0),
    );
    assert.deepEqual(await service.status(who), { received: 0, size: FILE.length, complete: false });
    assert.ok(!existsSync(join(dir, job.jobId, 'tasks', `${who.taskId}.part`)));
    assert.equal(uploaded.length, 0);
    const [a] = chunksOf(FILE, CHUNK);
    await service.declare(who, declaration());
    await service.chunk(who, { start: 0, end: a!.end, size: FILE.length }, a!.sha256, streamOf(a!.bytes));
    const smaller = FILE.subarray(0, 5000);
    assert.deepEqual(await service.declare(who, declaration(smaller)), { received: 0, size: 5000, complete: false }, 'a different declaration starts over');
    assert.ok(!existsSync(join(dir, job.jobId, 'tasks', `${who.taskId}.part`)));
  });

  test('over results.maxBytes the declaration is refused naming the quota and the task fails', async () => {
    const quotaDir = mkdtempSync(join(root, `quota-${ctx.kind}-`));
    const { failed } = makeService(ctx.db, quotaDir);
    const job = await insertJob(ctx.db, { sensors: ['edge-1', 'edge-2'] });
    const [one, two] = job.tasks as [FixtureJob['tasks'][0], FixtureJob['tasks'][0]];
    const used = await (async () => {
      const { service: probe } = makeService(ctx.db, quotaDir, { maxBytes: Number.MAX_SAFE_INTEGER });
      await probe.declare(one, declaration());
      const rows = await ctx.db.query<{ used: string }>(
        'SELECT (SELECT coalesce(sum(upload_size), 0) FROM job_tasks) + (SELECT coalesce(sum(result_file_bytes), 0) FROM jobs) AS used',
      );
      return Number(rows[0]!.used);
    })();
    const tight = makeService(ctx.db, quotaDir, { maxBytes: used + FILE.length - 1 });
    await assert.rejects(tight.service.declare(two, declaration()), domain('unavailable', /results quota exceeded: .*results\.maxBytes/));
    assert.deepEqual(
      tight.failed.map((f) => f.taskId),
      [two.taskId],
    );
    assert.match(tight.failed[0]!.reason, /results quota exceeded/);
    assert.deepEqual(failed, []);
    const roomy = makeService(ctx.db, quotaDir, { maxBytes: used + FILE.length });
    const third = (await insertJob(ctx.db, { sensors: ['edge-3'] })).tasks[0]!;
    assert.deepEqual(await roomy.service.declare(third, declaration()), { received: 0, size: FILE.length, complete: false }, 'exactly at the quota is allowed');
    assert.deepEqual(
      await roomy.service.declare(one, declaration()),
      { received: 0, size: FILE.length, complete: false },
      'a resumed declaration is not counted twice',
    );
  });

  test('a service restarted mid-upload over the same database and directory continues where the first stopped', async () => {
    const first = makeService(ctx.db, dir);
    const job = await insertJob(ctx.db, { sensors: ['edge-1'] });
    const who = job.tasks[0]!;
    const chunks = chunksOf(FILE, CHUNK);
    await first.service.declare(who, declaration());
    for (const c of chunks.slice(0, 3)) await first.service.chunk(who, { start: c.start, end: c.end, size: FILE.length }, c.sha256, streamOf(c.bytes));
    const second = makeService(ctx.db, dir);
    assert.deepEqual(await second.service.status(who), { received: 3 * CHUNK, size: FILE.length, complete: false });
    for (const c of chunks.slice(3)) await second.service.chunk(who, { start: c.start, end: c.end, size: FILE.length }, c.sha256, streamOf(c.bytes));
    assert.equal(second.uploaded.length, 1);
    assert.ok(readFileSync(join(dir, job.jobId, 'tasks', `${who.taskId}.pcap`)).equals(FILE));
  });

  test('a stop between the last chunk and its check: status (or recover) on the next start verifies and completes it', async () => {
    const { service } = makeService(ctx.db, dir);
    const job = await insertJob(ctx.db, { sensors: ['edge-1', 'edge-2'] });
    const [one, two] = job.tasks as [FixtureJob['tasks'][0], FixtureJob['tasks'][0]];
    for (const who of [one, two]) {
      await service.declare(who, declaration());
      mkdirSync(join(dir, job.jobId, 'tasks'), { recursive: true });
      writeFileSync(join(dir, job.jobId, 'tasks', `${who.taskId}.part`), FILE);
      await ctx.db.query('UPDATE job_tasks SET upload_received = upload_size WHERE id = $1', [who.taskId]); // the DB advanced, then the stop
    }
    const next = makeService(ctx.db, dir);
    assert.deepEqual(await next.service.status(one), { received: FILE.length, size: FILE.length, complete: true });
    assert.equal(await next.service.recover(), 1, 'recover finishes the other one');
    assert.deepEqual(next.uploaded.map((u) => u.taskId).sort(), [one.taskId, two.taskId].sort());
  });

  test('a full disk (ENOSPC) fails the task with "results disk full" and the service keeps serving others', async () => {
    const { service, failed, uploaded } = makeService(ctx.db, dir);
    const job = await insertJob(ctx.db, { sensors: ['edge-1', 'edge-2'] });
    const [one, two] = job.tasks as [FixtureJob['tasks'][0], FixtureJob['tasks'][0]];
    await service.declare(one, declaration());
    mkdirSync(join(dir, job.jobId, 'tasks'), { recursive: true });
    symlinkSync('/dev/full', join(dir, job.jobId, 'tasks', `${one.taskId}.part`)); // every write: ENOSPC
    const [a] = chunksOf(FILE, CHUNK);
    await assert.rejects(
      service.chunk(one, { start: 0, end: a!.end, size: FILE.length }, a!.sha256, streamOf(a!.bytes)),
      domain('unavailable', /results disk full/),
    );
    assert.deepEqual(failed, [{ taskId: one.taskId, reason: DISK_FULL_REASON }]);
    assert.deepEqual(await service.status(one), { received: 0, size: null, complete: false }, 'the declaration is dropped with the file');
    await service.declare(two, declaration());
    for (const c of chunksOf(FILE, CHUNK)) await service.chunk(two, { start: c.start, end: c.end, size: FILE.length }, c.sha256, streamOf(c.bytes));
    assert.deepEqual(
      uploaded.map((u) => u.taskId),
      [two.taskId],
    );
  });

  test('while a chunk still streams, a second chunk waits its turn (out-of-order with received) and the same declaration answers where it stands', async () => {
    const { service } = makeService(ctx.db, dir);
    const job = await insertJob(ctx.db, { sensors: ['edge-1'] });
    const who = job.tasks[0]!;
    await service.declare(who, declaration());
    const [a, b] = chunksOf(FILE, CHUNK) as [ReturnType<typeof chunksOf>[0], ReturnType<typeof chunksOf>[0]];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* slow(): AsyncIterable<Uint8Array> {
      yield a.bytes.subarray(0, 100);
      await gate;
      yield a.bytes.subarray(100);
    }
    const first = service.chunk(who, { start: 0, end: a.end, size: FILE.length }, a.sha256, slow());
    await new Promise((r) => setTimeout(r, 20));
    await assert.rejects(service.chunk(who, { start: 0, end: a.end, size: FILE.length }, a.sha256, streamOf(a.bytes)), rejected('out-of-order', 0));
    assert.deepEqual(await service.declare(who, declaration()), { received: 0, size: FILE.length, complete: false });
    await assert.rejects(service.declare(who, declaration(FILE.subarray(1))), rejected('out-of-order', 0), 'a different declaration waits');
    release();
    assert.deepEqual(await first, { received: CHUNK, size: FILE.length, complete: false });
    assert.deepEqual(await service.chunk(who, { start: b.start, end: b.end, size: FILE.length }, b.sha256, streamOf(b.bytes)), {
      received: 2 * CHUNK,
      size: FILE.length,
      complete: false,
    });
  });

  test('a chunk still streaming when its task is cancelled or its job deleted is refused and leaves no file behind', async () => {
    const { service, uploaded } = makeService(ctx.db, dir);
    const [a] = chunksOf(FILE, CHUNK);
    for (const ending of ['cancelled', 'deleted'] as const) {
      const job = await insertJob(ctx.db, { sensors: ['edge-1'] });
      const who = job.tasks[0]!;
      await service.declare(who, declaration());
      let release!: () => void;
      const gate = new Promise<void>((r) => (release = r));
      async function* slow(): AsyncIterable<Uint8Array> {
        yield a!.bytes.subarray(0, 100);
        await gate;
        yield a!.bytes.subarray(100);
      }
      const streaming = service.chunk(who, { start: 0, end: a!.end, size: FILE.length }, a!.sha256, slow());
      await new Promise((r) => setTimeout(r, 20));
      if (ending === 'cancelled') {
        await ctx.db.query("UPDATE job_tasks SET status = 'cancelled' WHERE id = $1", [who.taskId]);
      } else {
        // What JobsService.remove does: the job's directory, then its rows.
        rmSync(join(dir, job.jobId), { recursive: true, force: true });
        await ctx.db.query('DELETE FROM jobs WHERE id = $1', [job.jobId]);
      }
      release();
      await assert.rejects(
        streaming,
        ending === 'cancelled' ? domain('conflict', /is cancelled/) : domain('not_found', new RegExp(`task ${who.taskId}`)),
        ending,
      );
      assert.ok(!existsSync(join(dir, job.jobId, 'tasks', `${who.taskId}.part`)), `${ending}: the chunk's bytes are not kept`);
      if (ending === 'deleted') assert.ok(!existsSync(join(dir, job.jobId)), 'the deleted job has no directory again');
      else
        assert.equal(
          (await ctx.db.query<{ received: number }>('SELECT upload_received AS received FROM job_tasks WHERE id = $1', [who.taskId]))[0]!.received,
          0,
        );
    }
    assert.deepEqual(uploaded, []);
  });

  test('a chunk holding the whole file declares it: one call declares, writes, verifies and completes; repeated, it answers complete', async () => {
    const { service, uploaded } = makeService(ctx.db, dir);
    const small = randomBytes(20_000);
    const whole = { start: 0, end: small.length - 1, size: small.length };
    const job = await insertJob(ctx.db, { sensors: ['edge-1', 'edge-2'] });
    const [who, other] = job.tasks as [FixtureJob['tasks'][number], FixtureJob['tasks'][number]];
    const declared = { packets: 7, bytes: 19_000, truncated: 'max-bytes' as const };
    assert.deepEqual(await service.chunk(who, whole, sha256(small), streamOf(small, 3000), declared), {
      received: small.length,
      size: small.length,
      complete: true,
    });
    assert.ok(readFileSync(join(dir, job.jobId, 'tasks', `${who.taskId}.pcap`)).equals(small));
    assert.deepEqual(uploaded, [
      { taskId: who.taskId, result: { packets: 7, bytes: 19_000, fileBytes: small.length, sha256: sha256(small), truncated: 'max-bytes' } },
    ]);
    // The answer was lost and the agent sends it again: complete, nothing written twice, no second notice.
    assert.deepEqual(await service.chunk(who, whole, sha256(small), streamOf(small), declared), { received: small.length, size: small.length, complete: true });
    assert.equal(uploaded.length, 1);

    // Not the whole file, or over the chunk limit: refused before anything is declared.
    await assert.rejects(
      service.chunk(other, { start: 0, end: 999, size: small.length }, sha256(small.subarray(0, 1000)), streamOf(small.subarray(0, 1000)), declared),
      domain('invalid', /must hold the whole file \(bytes 0-19999\/20000\)/),
    );
    const big = randomBytes(70_000);
    await assert.rejects(
      service.chunk(other, { start: 0, end: big.length - 1, size: big.length }, sha256(big), streamOf(big), declared),
      rejected('chunk-too-large', 0),
    );
    assert.deepEqual(await service.status(other), { received: 0, size: null, complete: false });
    // The collector already holds part of that file (an earlier upload in chunks): out-of-order with what it holds.
    await service.declare(other, { size: small.length, sha256: sha256(small), ...declared });
    const [first] = chunksOf(small, 8000);
    await service.chunk(other, { start: 0, end: first!.end, size: small.length }, first!.sha256, streamOf(first!.bytes));
    await assert.rejects(service.chunk(other, whole, sha256(small), streamOf(small), declared), rejected('out-of-order', 8000));
    // A wrong hash is refused like any chunk's, and a declaring chunk of a closed task like a declaration.
    const job2 = await insertJob(ctx.db, { sensors: ['edge-1'] });
    const third = job2.tasks[0]!;
    await assert.rejects(
      service.chunk(third, whole, sha256(randomBytes(8)), streamOf(small), declared),
      domain('invalid', /does not match the chunk's SHA-256/),
    );
    assert.ok(!existsSync(join(dir, job2.jobId, 'tasks', `${third.taskId}.pcap`)));
    await ctx.db.query("UPDATE job_tasks SET status = 'cancelled' WHERE id = $1", [third.taskId]);
    await assert.rejects(service.chunk(third, whole, sha256(small), streamOf(small), declared), domain('conflict', /is cancelled/));
  });

  test('a token of the right task but another job or sensor is forbidden; closed tasks take no upload', async () => {
    const { service } = makeService(ctx.db, dir);
    const job = await insertJob(ctx.db, { sensors: ['edge-1'] });
    const who = job.tasks[0]!;
    await assert.rejects(service.status({ ...who, sensor: 'edge-9' }), domain('forbidden', /not for task/));
    await assert.rejects(service.status({ ...who, taskId: 'nope' }), domain('not_found', /task nope/));
    await ctx.db.query("UPDATE job_tasks SET status = 'cancelled' WHERE id = $1", [who.taskId]);
    await assert.rejects(service.declare(who, declaration()), domain('conflict', /is cancelled/));
  });
});

type FixtureJob = Awaited<ReturnType<typeof insertJob>>;
