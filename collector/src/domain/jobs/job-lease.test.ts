/**
 * Job leases with two collectors on one database (two jobs stacks over the same PGlite or
 * PostgreSQL database, docs/jobs.md "Job lease"): a pending job is dispatched by exactly one of
 * two concurrent ticks; only the holder retries its stalled tasks; when the holder stops renewing
 * (its lease expired: it died), the other's next tick takes the job over and re-sends its open
 * task; a job left merging is merged by the one holding its lease.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { insertTasks } from '../../storage/job-tasks.repo.js';
import type { Db } from '../../storage/db.js';
import { findJob, insertJob } from '../../storage/jobs.repo.js';
import { forEachDatabase } from '../../testing/databases.js';
import { jobsHarness, source } from '../../testing/jobs.fixture.js';
import type { JobResults, MergeOutcome } from './jobs.ports.js';
import { nsOfDate } from './window.js';

class CountingResults implements JobResults {
  readonly merges: string[] = [];
  taskResultFile = () => null;
  mergedFile = () => null;
  removeJobFiles = () => undefined;
  async merge(jobId: string): Promise<MergeOutcome> {
    this.merges.push(jobId);
    return { packets: 1, bytes: 100, fileBytes: 124, sha256: 'a'.repeat(64), duplicatesRemoved: 0 };
  }
  async sweepExpired(): Promise<number> {
    return 0;
  }
}

const NOW = new Date('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;
const ns = (ms: number) => nsOfDate(new Date(ms));

/** A pending job with one task for `sensor`, as a crash between insert and dispatch leaves it. */
async function pendingJob(db: Db, sensor: string): Promise<{ jobId: string; taskId: string }> {
  const jobId = randomUUID();
  const taskId = randomUUID();
  await insertJob(db, {
    id: jobId,
    name: null,
    owner: 'lease',
    ownerId: 'user:lease',
    windowFrom: new Date(NOW.getTime() - HOUR).toISOString(),
    windowTo: new Date(NOW.getTime() - HOUR + 60_000).toISOString(),
    windowNs: { from: String(ns(NOW.getTime() - HOUR)), to: String(ns(NOW.getTime() - HOUR + 60_000)) },
    filter: { expression: '' },
    filterExpression: '',
    targets: { sensors: [sensor] },
    limits: { maxBytes: 100, maxPackets: 10, timeoutSeconds: 600 },
    plan: {},
    createdAt: NOW,
    deadlineAt: new Date(NOW.getTime() + 600_000),
  });
  await insertTasks(db, [{ id: taskId, jobId, sensorName: sensor, status: 'pending', reason: null, at: NOW }]);
  return { jobId, taskId };
}

const leaseHolder = async (db: Db, jobId: string): Promise<string | null> =>
  (await db.query<{ holder: string | null }>('SELECT lease_holder AS holder FROM jobs WHERE id = $1', [jobId]))[0]?.holder ?? null;

forEachDatabase('job lease', (ctx) => {
  test('two collectors: one dispatches a job, only the holder retries it; an expired holder’s job is taken over and its task re-sent', async () => {
    const [ra, rb] = [new CountingResults(), new CountingResults()];
    const a = await jobsHarness(ctx.db, ra, { start: NOW });
    const b = await jobsHarness(ctx.db, rb, { start: NOW });
    const sensor = await a.sensor([source(NOW.getTime() - 2 * HOUR, NOW.getTime() - 1000, 1_000_000)]);
    const { jobId, taskId } = await pendingJob(ctx.db, sensor);

    const [ta, tb] = await Promise.all([a.jobs.scheduler.tick(), b.jobs.scheduler.tick()]);
    const sent = () => [...a.broker.commands('tasks', sensor), ...b.broker.commands('tasks', sensor)].map((c) => [c.message.taskId, c.message.attempt]);
    assert.deepEqual(sent(), [[taskId, 0]], 'the task went out once, from one collector');
    assert.equal(ta.dispatched + tb.dispatched, 1);
    assert.equal((await findJob(ctx.db, jobId))!.status, 'running');
    const [holder, other] = a.broker.commands('tasks', sensor).length === 1 ? [a, b] : [b, a];
    const held = await leaseHolder(ctx.db, jobId);
    assert.ok(held !== null, 'the dispatcher holds the lease');

    // Past the no-progress limit on both clocks: only the holder fails the attempt and re-sends it.
    for (const h of [a, b]) h.clock.now = new Date(NOW.getTime() + 200_000);
    assert.equal((await other.jobs.scheduler.tick()).stalled, 0, 'the other collector leaves the job alone');
    assert.equal((await holder.jobs.scheduler.tick()).stalled, 1, 'the holder retries it');
    assert.deepEqual(sent(), [
      [taskId, 0],
      [taskId, 1],
    ]);

    // The holder dies: its lease runs out (made to here); the other's next tick takes the job over and re-sends the open task.
    await ctx.db.query(`UPDATE jobs SET lease_until = clock_timestamp() - interval '1 second' WHERE id = $1`, [jobId]);
    const takeover = await other.jobs.scheduler.tick();
    assert.equal(takeover.takenOver, 1);
    assert.notEqual(await leaseHolder(ctx.db, jobId), held, 'the lease changed hands');
    assert.deepEqual(other.broker.commands('tasks', sensor).at(-1)?.message.taskId, taskId, 'the new holder re-sent the open task');
    assert.equal((await holder.jobs.scheduler.tick()).takenOver, 0, 'the old holder does not take it back while the new one renews');
    await a.jobs.close();
    await b.jobs.close();
  });

  test('a job left merging is merged by the collector holding its lease, not by the other', async () => {
    const [ra, rb] = [new CountingResults(), new CountingResults()];
    const a = await jobsHarness(ctx.db, ra, { start: NOW });
    const b = await jobsHarness(ctx.db, rb, { start: NOW });
    const sensor = await a.sensor([source(NOW.getTime() - 2 * HOUR, NOW.getTime() - 1000, 1_000_000)]);
    const { jobId } = await pendingJob(ctx.db, sensor);
    await a.jobs.scheduler.tick(); // A dispatches and holds the lease
    await ctx.db.query(`UPDATE job_tasks SET status = 'done' WHERE job_id = $1`, [jobId]);
    await ctx.db.query(`UPDATE jobs SET status = 'merging' WHERE id = $1`, [jobId]);
    // (tick, not resume: on PGlite resume() gives up every other holder's lease, one process being the only user.)
    await b.jobs.scheduler.tick();
    await b.jobs.scheduler.settled();
    assert.deepEqual(rb.merges, [], 'B does not merge a job A holds');
    await a.jobs.scheduler.tick();
    await a.jobs.scheduler.settled();
    assert.deepEqual(ra.merges, [jobId]);
    assert.equal((await findJob(ctx.db, jobId))!.status, 'complete');
    await a.jobs.close();
    await b.jobs.close();
  });
});
