import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SCHEMA_VERSION, type TaskStatusMessage } from '@pcapmesh/shared/wire';
import { findTask, insertTasks } from '../../storage/job-tasks.repo.js';
import { findJob, insertJob, setJobStatus } from '../../storage/jobs.repo.js';
import { forEachDatabase } from '../../testing/databases.js';
import { jobsHarness, source, ts, type JobsHarness } from '../../testing/jobs.fixture.js';
import type { JobResults, MergeOutcome } from './jobs.ports.js';
import type { JobStatus } from './jobs.types.js';
import { nsOfDate } from './window.js';

/** Records merges (J1b's ResultsService is tested on its own); a merge may be made to fail. */
class RecordingResults implements JobResults {
  readonly merges: { jobId: string; status: JobStatus }[] = [];
  readonly sweeps: Date[] = [];
  taskResultFile = () => null;
  mergedFile = () => null;
  removeJobFiles = () => undefined;
  failMerge: Error | undefined;
  /** While set, merges wait for it (a long merge). */
  hold: Promise<void> | undefined;
  async merge(jobId: string, status: JobStatus): Promise<MergeOutcome> {
    this.merges.push({ jobId, status });
    await this.hold;
    if (this.failMerge) throw this.failMerge;
    return { packets: 1, bytes: 100, fileBytes: 124, sha256: 'c'.repeat(64), duplicatesRemoved: 0 };
  }
  async sweepExpired(now: Date): Promise<number> {
    this.sweeps.push(now);
    return 0;
  }
}

const NOW = new Date('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;
const ns = (ms: number) => nsOfDate(new Date(ms));
const covering = () => [source(NOW.getTime() - 2 * HOUR, NOW.getTime() - 1000, 1_000_000)];

/** A job row as a crash left it (written straight to the tables, no service): one minute an hour ago, one sensor. */
function jobRow(owner: string, sensor: string) {
  return {
    name: null,
    owner,
    ownerId: `user:${owner}`,
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
  };
}

let seq = 1000;
const status = (taskId: string, s: TaskStatusMessage['status'], extra: Partial<TaskStatusMessage> = {}): TaskStatusMessage => ({
  v: SCHEMA_VERSION,
  sentAt: 0,
  seq: (seq += 1),
  taskId,
  attempt: 0,
  status: s,
  ...extra,
});
const later = (h: JobsHarness, seconds: number) => {
  h.clock.now = new Date(h.clock.now.getTime() + seconds * 1000);
};

async function submit(
  h: JobsHarness,
  sensors: string[],
  window = { from: ns(NOW.getTime() - HOUR - 600_000), to: ns(NOW.getTime() - HOUR) },
  timeoutSeconds = 600,
) {
  const { job } = await h.jobs.service.submit(
    { id: `user:${randomUUID()}`, name: `ana-${randomUUID().slice(0, 6)}`, role: 'analyst' },
    { window, filter: { expression: 'tcp' }, targets: { sensors }, limits: { timeoutSeconds } },
  );
  return job!;
}

forEachDatabase('JobScheduler', (ctx) => {
  test('no progress for taskNoProgressSeconds: re-sent as a new attempt, then failed naming the cause; offline sensors are not timed out', async () => {
    const results = new RecordingResults();
    const h = await jobsHarness(ctx.db, results, { start: NOW, settings: { taskMaxAttempts: 2 } });
    const a = await h.sensor(covering());
    const b = await h.sensor(covering());
    const job = await submit(h, [a, b], undefined, 3600);
    const tA = job.taskList.find((t) => t.sensor === a)!.id;
    const tB = job.taskList.find((t) => t.sensor === b)!.id;
    await h.offline(b);
    later(h, 119);
    assert.equal((await h.jobs.scheduler.tick()).stalled, 0, 'not yet');
    later(h, 2);
    assert.equal((await h.jobs.scheduler.tick()).stalled, 1, 'only the online sensor stalls');
    const retried = (await findTask(ctx.db, tA))!;
    assert.deepEqual([retried.status, retried.attempt], ['pending', 1]);
    assert.deepEqual(
      h.broker.commands('tasks', a).map((c) => c.message.attempt),
      [0, 1],
    );
    assert.equal((await findTask(ctx.db, tB))!.status, 'pending', 'the offline sensor keeps its task');

    later(h, 121);
    await h.jobs.scheduler.tick();
    const failed = (await findTask(ctx.db, tA))!;
    assert.deepEqual([failed.status, failed.reason], ['failed', 'no progress for 120 s (attempt 2 of 2)']);
    assert.equal((await findJob(ctx.db, job.id))!.status, 'running', 'the offline sensor may still come back');
  });

  test('a waiting task is fine until waitUntil plus the timeout', async () => {
    const h = await jobsHarness(ctx.db, new RecordingResults(), { start: NOW });
    const a = await h.sensor(covering());
    // A window ending in 10 minutes: the agent waits for it.
    const job = await submit(h, [a], { from: ns(NOW.getTime() - 600_000), to: ns(NOW.getTime() + 600_000) }, 3600);
    const t = job.taskList[0]!.id;
    assert.equal(await h.jobs.service.ingestTaskStatus(a, t, status(t, 'waiting', { waitUntil: ts(NOW.getTime() + 660_000) })), 'applied');
    later(h, 660 + 100);
    assert.equal((await h.jobs.scheduler.tick()).stalled, 0);
    later(h, 21);
    assert.equal((await h.jobs.scheduler.tick()).stalled, 1);
    assert.equal((await findTask(ctx.db, t))!.attempt, 1);
  });

  test('a sensor coming back online gets its unfinished tasks again at their current attempt (until the jobs are closed)', async () => {
    const h = await jobsHarness(ctx.db, new RecordingResults(), { start: NOW });
    const a = await h.sensor(covering());
    const job = await submit(h, [a]);
    const t = job.taskList[0]!.id;
    assert.equal(await h.jobs.service.ingestTaskStatus(a, t, status(t, 'scanning')), 'applied');
    await h.offline(a);
    later(h, 30);
    await h.online(a);
    await h.jobs.scheduler.settled();
    assert.equal(h.broker.commands('tasks', a).length, 1, 'nothing is re-sent before resume() (the upload URL may not be known yet)');
    await h.jobs.scheduler.resume();
    assert.deepEqual(
      h.broker.commands('tasks', a).map((c) => [c.message.taskId, c.message.attempt]),
      [
        [t, 0],
        [t, 0],
      ],
      'resume re-sends for online sensors',
    );
    await h.offline(a);
    later(h, 30);
    await h.online(a);
    assert.equal(await h.jobs.scheduler.sensorOnline(a), 0, 'the same birth seen a second time (ingest) re-sends nothing more');
    await h.jobs.scheduler.settled();
    const sent = h.broker.commands('tasks', a);
    assert.deepEqual(
      sent.map((c) => [c.message.taskId, c.message.attempt]),
      [
        [t, 0],
        [t, 0],
        [t, 0],
      ],
    );
    assert.equal((await findTask(ctx.db, t))!.status, 'scanning', 'a re-send does not move the task back');
    // A quick restart (offline, then a new birth well within the debounce) is a new birth: re-sent.
    await h.offline(a);
    await h.online(a);
    await h.jobs.scheduler.settled();
    assert.equal(h.broker.commands('tasks', a).length, 4, 'a sensor back within a second still gets its task');
    later(h, 6);
    await h.jobs.close();
    await h.offline(a);
    await h.online(a);
    await h.jobs.scheduler.settled();
    assert.equal(h.broker.commands('tasks', a).length, 4, 'no longer watching');
  });

  test('past its deadline a job ends with what it has: open tasks cancelled and told, done ones merged (partial)', async () => {
    const results = new RecordingResults();
    const h = await jobsHarness(ctx.db, results, { start: NOW });
    const a = await h.sensor(covering());
    const b = await h.sensor(covering());
    const job = await submit(h, [a, b], undefined, 60);
    const tA = job.taskList.find((t) => t.sensor === a)!.id;
    const tB = job.taskList.find((t) => t.sensor === b)!.id;
    assert.equal(await h.jobs.service.taskUploaded(tA, { packets: 1, bytes: 100, fileBytes: 124, sha256: 'd'.repeat(64) }), true);
    await h.jobs.service.settled();
    for (let i = 0; i < 2; i += 1) {
      later(h, 30);
      assert.equal(await h.jobs.service.ingestTaskStatus(b, tB, status(tB, 'scanning')), 'applied', 'progress keeps the task alive');
    }
    later(h, 1);
    const report = await h.jobs.scheduler.tick();
    assert.equal(report.timedOut, 1);
    assert.ok(report.finishing >= 1, 'its finish is started');
    await h.jobs.scheduler.settled();
    const ended = (await findJob(ctx.db, job.id))!;
    assert.equal(ended.status, 'partial');
    assert.equal(ended.statusReason, `${b} cancelled: job deadline passed (limits.timeoutSeconds 60 s)`);
    assert.deepEqual(
      h.broker.commands('cancel', b).map((c) => c.message.taskId),
      [tB],
    );
    assert.deepEqual(results.merges, [{ jobId: job.id, status: 'partial' }]);
  });

  test('every sensor skipped: the job fails at once naming each; a failing merge fails the job with its message', async () => {
    const results = new RecordingResults();
    const h = await jobsHarness(ctx.db, results, { start: NOW });
    const old = await h.sensor([source(NOW.getTime() - 10 * HOUR, NOW.getTime() - 9 * HOUR, 10)]);
    const skipped = await submit(h, [old]);
    assert.equal(skipped.status, 'failed');
    assert.equal(skipped.reason, `${old} skipped: no availability overlaps the window`);

    const a = await h.sensor(covering());
    const job = await submit(h, [a]);
    results.failMerge = new Error('worker exited with code 1');
    await h.jobs.service.taskUploaded(job.taskList[0]!.id, { packets: 1, bytes: 1, fileBytes: 40, sha256: 'e'.repeat(64) });
    await h.jobs.service.settled();
    const ended = (await findJob(ctx.db, job.id))!;
    assert.deepEqual([ended.status, ended.statusReason], ['failed', 'merge failed: worker exited with code 1']);
  });

  test('resume after a restart: a job found merging is merged again, a pending one dispatched; the sweep passes the clock', async () => {
    const results = new RecordingResults();
    const h = await jobsHarness(ctx.db, results, { start: NOW });
    const a = await h.sensor(covering());
    const base = jobRow('restart', a);
    const merging = randomUUID();
    const pending = randomUUID();
    await insertJob(ctx.db, { ...base, id: merging });
    await insertTasks(ctx.db, [{ id: randomUUID(), jobId: merging, sensorName: a, status: 'pending', reason: null, at: NOW }]);
    await ctx.db.query(`UPDATE job_tasks SET status = 'done' WHERE job_id = $1`, [merging]);
    await setJobStatus(ctx.db, merging, { from: ['pending'], to: 'merging', at: NOW });
    await insertJob(ctx.db, { ...base, id: pending });
    const pendingTask = randomUUID();
    await insertTasks(ctx.db, [{ id: pendingTask, jobId: pending, sensorName: a, status: 'pending', reason: null, at: NOW }]);

    const report = await h.jobs.scheduler.resume();
    assert.ok(report.dispatched >= 1);
    await h.jobs.scheduler.settled();
    assert.deepEqual(
      results.merges.filter((m) => m.jobId === merging),
      [{ jobId: merging, status: 'complete' }],
    );
    assert.equal((await findJob(ctx.db, merging))!.status, 'complete');
    assert.equal((await findJob(ctx.db, pending))!.status, 'running');
    assert.deepEqual(
      h.broker.commands('tasks', a).map((c) => c.message.taskId),
      [pendingTask],
    );
    await h.jobs.scheduler.sweepExpired();
    assert.deepEqual(results.sweeps, [NOW]);
  });

  test('a long merge holds up no tick: pending jobs are dispatched meanwhile; a job left merging is finished by a tick', async () => {
    const results = new RecordingResults();
    let release!: () => void;
    results.hold = new Promise((resolve) => (release = resolve));
    const h = await jobsHarness(ctx.db, results, { start: NOW });
    const a = await h.sensor(covering());
    const base = jobRow('long-merge', a);
    // Left merging without a restart (as when an error followed its merge).
    const merging = randomUUID();
    await insertJob(ctx.db, { ...base, id: merging });
    await insertTasks(ctx.db, [{ id: randomUUID(), jobId: merging, sensorName: a, status: 'pending', reason: null, at: NOW }]);
    await ctx.db.query(`UPDATE job_tasks SET status = 'done' WHERE job_id = $1`, [merging]);
    await setJobStatus(ctx.db, merging, { from: ['pending'], to: 'merging', at: NOW });
    await h.jobs.scheduler.resume();
    await h.jobs.scheduler.tick();
    assert.deepEqual(results.merges.filter((m) => m.jobId === merging).length, 1, 'one merge, however many ticks');

    const pending = randomUUID();
    await insertJob(ctx.db, { ...base, id: pending });
    await insertTasks(ctx.db, [{ id: randomUUID(), jobId: pending, sensorName: a, status: 'pending', reason: null, at: NOW }]);
    assert.equal((await h.jobs.scheduler.tick()).dispatched, 1, 'dispatched while the merge still runs');
    assert.equal((await findJob(ctx.db, pending))!.status, 'running');
    assert.equal((await findJob(ctx.db, merging))!.status, 'merging');
    release();
    await h.jobs.scheduler.settled();
    assert.equal((await findJob(ctx.db, merging))!.status, 'complete');
  });
});
