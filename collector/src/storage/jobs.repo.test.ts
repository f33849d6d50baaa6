import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { forEachDatabase } from '../testing/databases.js';
import {
  applyTaskStatus,
  closeOpenTasks,
  findTask,
  insertTasks,
  listTasks,
  markDispatched,
  openTasksOfSensor,
  reopenForRetry,
  OPEN_TASK_STATES,
} from './job-tasks.repo.js';
import {
  bytesDownloadedSince,
  countOpenJobs,
  deleteJob,
  endJob,
  findJob,
  insertDownload,
  insertJob,
  listJobs,
  lockOwner,
  openJobs,
  setJobStatus,
  startMerge,
  type NewJob,
} from './jobs.repo.js';

const T0 = new Date('2026-03-01T10:00:00.000Z');

function newJob(over: Partial<NewJob> = {}): NewJob {
  return {
    id: randomUUID(),
    name: 'probe',
    owner: 'alice',
    ownerId: 'user:1',
    windowFrom: '2026-03-01T09:00:00.123456Z',
    windowTo: '2026-03-01T09:10:00.000000Z',
    windowNs: { from: '1772355600123456789', to: '1772356200000000000' },
    filter: { expression: 'tcp port 443' },
    filterExpression: 'tcp port 443',
    targets: { sensors: ['edge-1'] },
    limits: { maxBytes: 1000, maxPackets: 10, timeoutSeconds: 60 },
    plan: { sensors: [] },
    createdAt: T0,
    deadlineAt: new Date(T0.getTime() + 60_000),
    ...over,
  };
}

forEachDatabase('jobs repo', (ctx) => {
  test('insert and read back a job with its tasks, tallies and nanosecond window', async () => {
    const job = newJob();
    await ctx.db.transaction(async (tx) => {
      await insertJob(tx, job);
      await insertTasks(tx, [
        { id: `t-${randomUUID()}`, jobId: job.id, sensorName: 'edge-1', status: 'pending', reason: null, at: T0 },
        { id: `t-${randomUUID()}`, jobId: job.id, sensorName: 'edge-2', status: 'skipped', reason: 'no availability overlaps the window', at: T0 },
      ]);
    });
    const row = (await findJob(ctx.db, job.id))!;
    assert.equal(row.status, 'pending');
    assert.deepEqual(row.windowNs, job.windowNs);
    assert.equal(row.windowFrom.toISOString(), '2026-03-01T09:00:00.123Z');
    assert.deepEqual(row.limits, job.limits);
    assert.deepEqual(row.filter, { expression: 'tcp port 443' });
    assert.deepEqual(row.tally, { total: 2, pending: 1, running: 0, done: 0, failed: 0, cancelled: 0, skipped: 1, packets: 0, bytes: 0 });
    const tasks = await listTasks(ctx.db, job.id);
    assert.deepEqual(
      tasks.map((t) => [t.sensorName, t.status, t.finishedAt !== null]),
      [
        ['edge-1', 'pending', false],
        ['edge-2', 'skipped', true],
      ],
    );
    assert.equal(await findJob(ctx.db, 'not-a-uuid'), null, 'a malformed id finds nothing rather than failing the cast');
  });

  test('task guards: attempt, forward-only states, seq; retry reopens at attempt + 1', async () => {
    const job = newJob();
    const id = `t-${randomUUID()}`;
    await insertJob(ctx.db, job);
    await insertTasks(ctx.db, [{ id, jobId: job.id, sensorName: 'edge-1', status: 'pending', reason: null, at: T0 }]);
    const dispatched = (await markDispatched(ctx.db, id, 0, T0))!;
    assert.equal(dispatched.dispatchedAt?.getTime(), T0.getTime());
    const scanning = await applyTaskStatus(
      ctx.db,
      {
        id,
        attempt: 0,
        from: ['pending', 'accepted', 'waiting', 'scanning'],
        to: 'scanning',
        at: T0,
        seq: 5,
        progress: { filesScanned: 1, filesTotal: 2, packets: 7, bytes: 700 },
      },
      false,
    );
    assert.equal(scanning?.status, 'scanning');
    assert.equal(scanning?.startedAt?.getTime(), T0.getTime());
    assert.equal((await findJob(ctx.db, job.id))!.tally.packets, 7, 'progress counts into the tally');
    // Older seq, wrong attempt, backwards: refused.
    assert.equal(
      await applyTaskStatus(ctx.db, { id, attempt: 0, from: ['pending', 'accepted', 'waiting', 'scanning'], to: 'scanning', at: T0, seq: 4 }, false),
      null,
    );
    assert.equal(await applyTaskStatus(ctx.db, { id, attempt: 1, from: OPEN_TASK_STATES, to: 'uploading', at: T0, seq: 6 }, false), null);
    await applyTaskStatus(
      ctx.db,
      { id, attempt: 0, from: OPEN_TASK_STATES, to: 'uploading', at: T0, seq: 6, result: { packets: 9, bytes: 900, truncated: 'max-packets' } },
      false,
    );
    assert.equal(
      await applyTaskStatus(ctx.db, { id, attempt: 0, from: ['pending', 'accepted', 'waiting', 'scanning'], to: 'scanning', at: T0, seq: 7 }, false),
      null,
    );
    assert.equal((await findTask(ctx.db, id))!.truncated, 'max-packets');

    assert.equal(await reopenForRetry(ctx.db, id, 1, T0), false, 'only from the current attempt');
    assert.equal(await reopenForRetry(ctx.db, id, 0, T0), true);
    const reopened = (await findTask(ctx.db, id))!;
    assert.deepEqual([reopened.status, reopened.attempt, reopened.progress, reopened.lastSeq], ['pending', 1, null, null]);
    assert.equal(await markDispatched(ctx.db, id, 0, T0), null, 'an older attempt is never re-dispatched');
    assert.equal(
      (await openTasksOfSensor(ctx.db, 'edge-1')).some((t) => t.id === id),
      true,
    );

    const closed = await closeOpenTasks(ctx.db, job.id, { to: 'cancelled', reason: 'cancelled by alice', at: T0 });
    assert.deepEqual(
      closed.map((t) => [t.id, t.status, t.reason]),
      [[id, 'cancelled', 'cancelled by alice']],
    );
    assert.equal(await applyTaskStatus(ctx.db, { id, attempt: 1, from: OPEN_TASK_STATES, to: 'done', at: T0 }, true), null, 'final stays final');
  });

  test('job status moves only from the named states; open-job count; delete cascades', async () => {
    const job = newJob({ owner: 'alice', ownerId: `user:${randomUUID()}` });
    await insertJob(ctx.db, job);
    assert.equal(await countOpenJobs(ctx.db, job.ownerId), 1, 'counted by principal id');
    assert.equal(await countOpenJobs(ctx.db, 'alice'), 0, 'not by the name shown');
    assert.equal(await setJobStatus(ctx.db, job.id, { from: ['running'], to: 'merging', at: T0 }), false);
    assert.equal(await setJobStatus(ctx.db, job.id, { from: ['pending'], to: 'running', at: T0 }), true);
    assert.equal((await findJob(ctx.db, job.id))!.startedAt?.getTime(), T0.getTime());
    assert.ok((await openJobs(ctx.db)).some((j) => j.id === job.id));
    assert.equal(await setJobStatus(ctx.db, job.id, { from: ['running'], to: 'cancelled', reason: 'cancelled by alice', at: T0, final: true }), true);
    const ended = (await findJob(ctx.db, job.id))!;
    assert.deepEqual([ended.status, ended.statusReason, ended.finishedAt?.getTime()], ['cancelled', 'cancelled by alice', T0.getTime()]);
    assert.equal(await countOpenJobs(ctx.db, job.ownerId), 0);
    await ctx.db.transaction((tx) => lockOwner(tx, job.ownerId));
    await insertTasks(ctx.db, [{ id: `t-${randomUUID()}`, jobId: job.id, sensorName: 'edge-1', status: 'pending', reason: null, at: T0 }]);
    assert.equal(await deleteJob(ctx.db, job.id), true);
    assert.equal(await findJob(ctx.db, job.id), null);
    assert.deepEqual(await listTasks(ctx.db, job.id), []);
  });

  test('cursor pagination by (created_at, id), newest first, with status and owner filters', async () => {
    const owner = `pager-${randomUUID()}`;
    const ids: string[] = [];
    for (let i = 0; i < 5; i += 1) {
      // Two jobs share a created_at: the id breaks the tie.
      const createdAt = new Date(T0.getTime() + Math.floor(i / 2) * 1000);
      const job = newJob({ owner, createdAt });
      ids.push(job.id);
      await insertJob(ctx.db, job);
    }
    const seen: string[] = [];
    let after: { createdAt: string; id: string } | undefined;
    for (;;) {
      const page = await listJobs(ctx.db, { owner, limit: 2, ...(after ? { after } : {}) });
      if (page.length === 0) break;
      seen.push(...page.map((j) => j.id));
      const last = page[page.length - 1]!;
      after = { createdAt: last.createdAtText, id: last.id };
    }
    assert.equal(seen.length, 5);
    assert.equal(new Set(seen).size, 5, 'no job twice across pages');
    const times = await Promise.all(seen.map(async (id) => (await findJob(ctx.db, id))!.createdAt.getTime()));
    assert.deepEqual(
      times,
      [...times].sort((a, b) => b - a),
      'newest first',
    );
    await setJobStatus(ctx.db, ids[0]!, { from: ['pending'], to: 'running', at: T0 });
    assert.deepEqual(
      (await listJobs(ctx.db, { owner, status: ['running'], limit: 10 })).map((j) => j.id),
      [ids[0]],
    );
  });

  test('downloads are summed per principal (by id) over a time range', async () => {
    const user = `user:${randomUUID()}`;
    const d = { principal: user, username: 'dl', jobId: randomUUID() };
    await insertDownload(ctx.db, { ...d, bytes: 100, at: new Date(T0.getTime() - 2 * 86_400_000) });
    await insertDownload(ctx.db, { ...d, bytes: 250, at: T0 });
    await insertDownload(ctx.db, { ...d, bytes: 5_000_000_000, at: T0 });
    await insertDownload(ctx.db, { ...d, principal: `user:${randomUUID()}`, bytes: 7, at: T0 });
    assert.equal(await bytesDownloadedSince(ctx.db, user, new Date(T0.getTime() - 86_400_000)), 5_000_000_250);
    assert.equal(await bytesDownloadedSince(ctx.db, 'dl', T0), 0, 'not by the name shown');
  });

  test('startMerge takes running → merging with the lease in one statement; endJob ends, sets the expiry and gives up only its holder’s lease', async () => {
    const lease = async (id: string) =>
      (
        await ctx.db.query<{ holder: string | null; held: boolean }>(
          'SELECT merge_holder AS holder, merge_lease_until IS NOT NULL AS held FROM jobs WHERE id = $1',
          [id],
        )
      )[0];
    const job = newJob();
    await insertJob(ctx.db, job);
    assert.equal(await setJobStatus(ctx.db, job.id, { from: ['pending'], to: 'running', at: T0 }), true);
    const at = new Date(T0.getTime() + 5_000);
    assert.equal(await startMerge(ctx.db, job.id, 'collector-a', 30, at), true);
    assert.equal((await findJob(ctx.db, job.id))!.status, 'merging');
    assert.deepEqual(await lease(job.id), { holder: 'collector-a', held: true });
    assert.equal(await startMerge(ctx.db, job.id, 'collector-b', 30, at), false, 'a merging job is not started twice');
    assert.deepEqual(await lease(job.id), { holder: 'collector-a', held: true }, 'nor its lease taken');

    const end = new Date(T0.getTime() + 9_000);
    const expiresAt = new Date(T0.getTime() + 86_400_000);
    const change = { from: ['merging' as const], to: 'partial' as const, reason: 'edge-2 failed: gone', at: end, expiresAt };
    assert.equal(await endJob(ctx.db, job.id, { ...change, holder: 'collector-b' }), true);
    const ended = (await findJob(ctx.db, job.id))!;
    assert.deepEqual(
      [ended.status, ended.statusReason, ended.finishedAt?.toISOString(), ended.expiresAt?.toISOString()],
      ['partial', 'edge-2 failed: gone', end.toISOString(), expiresAt.toISOString()],
    );
    assert.deepEqual(await lease(job.id), { holder: 'collector-a', held: true }, 'another holder’s lease stays');
    assert.equal(await endJob(ctx.db, job.id, { ...change, to: 'complete', reason: null, holder: 'collector-a' }), false, 'guarded: no longer merging');
    assert.equal((await findJob(ctx.db, job.id))!.status, 'partial', 'and nothing changed');

    const other = newJob();
    await insertJob(ctx.db, other);
    assert.equal(await startMerge(ctx.db, other.id, 'collector-a', 30, at), true, 'from pending too');
    assert.equal(await endJob(ctx.db, other.id, { ...change, to: 'complete', reason: null, holder: 'collector-a' }), true);
    assert.deepEqual(await lease(other.id), { holder: null, held: false }, 'its own holder’s lease given up with the end');
    assert.equal(await startMerge(ctx.db, other.id, 'collector-a', 30, at), false, 'an ended job is not merged again');
  });
});
