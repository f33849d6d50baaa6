import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { SCHEMA_VERSION, type TaskStatusMessage } from '@pcapmesh/shared/wire';
import { findTask } from '../../storage/job-tasks.repo.js';
import { forEachDatabase } from '../../testing/databases.js';
import type { Actor } from '../accounts/roles.js';
import { isDomainError } from '../errors.js';
import { jobsHarness, source, ts, type JobsHarness } from '../../testing/jobs.fixture.js';
import type { JobResults, MergeOutcome } from './jobs.ports.js';
import type { JobRequest, JobStatus, ResultFile } from './jobs.types.js';
import { nsOfDate } from './window.js';

/**
 * The results directory as far as these tests need it: records merges and removals and serves
 * a file per task once told so. (J1b's ResultsService is tested on its own.)
 */
class RecordingResults implements JobResults {
  readonly merges: { jobId: string; status: JobStatus }[] = [];
  readonly removed: string[] = [];
  readonly files = new Map<string, ResultFile>();
  failMerge: Error | undefined;
  taskResultFile(jobId: string, taskId: string): ResultFile | null {
    return this.files.get(`${jobId}/${taskId}`) ?? null;
  }
  mergedFile(jobId: string): ResultFile | null {
    return this.files.get(jobId) ?? null;
  }
  async merge(jobId: string, status: JobStatus): Promise<MergeOutcome> {
    this.merges.push({ jobId, status });
    if (this.failMerge) throw this.failMerge;
    return { packets: 3, bytes: 300, fileBytes: 400, sha256: 'a'.repeat(64), duplicatesRemoved: 1 };
  }
  removeJobFiles(jobId: string): void {
    this.removed.push(jobId);
  }
  async sweepExpired(): Promise<number> {
    return 0;
  }
}

const NOW = new Date('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;
const analyst = (): Actor => {
  const name = `ana-${randomUUID().slice(0, 8)}`;
  return { id: `user:${name}`, name, role: 'analyst' };
};
const ns = (ms: number) => nsOfDate(new Date(ms));
/** A window of the last 10 minutes before NOW - 1 h. */
const pastWindow = { from: ns(NOW.getTime() - HOUR - 600_000), to: ns(NOW.getTime() - HOUR) };
/** Availability covering the last 2 hours. */
const covering = () => [source(NOW.getTime() - 2 * HOUR, NOW.getTime() - 1000, 2_000_000)];

let seq = 100;
function status(taskId: string, s: TaskStatusMessage['status'], extra: Partial<TaskStatusMessage> = {}): TaskStatusMessage {
  seq += 1;
  return { v: SCHEMA_VERSION, sentAt: Date.now(), seq, taskId, attempt: 0, status: s, ...extra };
}

async function submit(h: JobsHarness, actor: Actor, sensors: string[], over: Partial<JobRequest> = {}) {
  const { job, plan } = await h.jobs.service.submit(actor, { window: pastWindow, filter: { expression: 'tcp port 443' }, targets: { sensors }, ...over });
  assert.ok(job, 'a real submit returns the job');
  return { job, plan };
}

forEachDatabase('JobsService', (ctx) => {
  test('submit: plan, tasks (one skipped with its reason), dispatch with a verifiable token and upload URL, events', async () => {
    const results = new RecordingResults();
    const h = await jobsHarness(ctx.db, results, { start: NOW });
    const a = await h.sensor(covering());
    const b = await h.sensor([source(NOW.getTime() - 10 * HOUR, NOW.getTime() - 9 * HOUR, 100)]);
    const actor = analyst();
    const { job, plan } = await submit(h, actor, [a, b], { name: 'exfil check', limits: { maxPackets: 50 } });
    assert.equal(job.status, 'running');
    assert.equal(job.owner, actor.name);
    assert.equal(job.expression, 'tcp port 443');
    assert.deepEqual(job.limits, { maxBytes: 1_000_000, maxPackets: 50, timeoutSeconds: 600 });
    assert.equal(plan.scheduled, false);
    const entryA = plan.sensors.find((e) => e.sensor === a)!;
    assert.deepEqual([entryA.included, entryA.coverage.fraction, entryA.coverage.gaps], [true, 1, []]);
    assert.deepEqual(
      plan.sensors.find((e) => e.sensor === b),
      { ...plan.sensors.find((e) => e.sensor === b)!, included: false, note: 'no availability overlaps the window' },
    );
    const taskA = job.taskList.find((t) => t.sensor === a)!;
    const taskB = job.taskList.find((t) => t.sensor === b)!;
    assert.deepEqual([taskA.status, taskA.attempt, taskA.dispatchedAt], ['pending', 0, NOW.toISOString()]);
    assert.deepEqual([taskB.status, taskB.reason], ['skipped', 'no availability overlaps the window']);

    const sent = h.broker.commands('tasks');
    assert.equal(sent.length, 1, 'only the included sensor gets a command');
    const cmd = sent[0]!;
    assert.equal(cmd.sensor, a);
    assert.deepEqual([cmd.message.taskId, cmd.message.jobId, cmd.message.attempt, cmd.message.filter], [taskA.id, job.id, 0, 'tcp port 443']);
    assert.deepEqual(cmd.message.window, { from: ts(NOW.getTime() - HOUR - 600_000), to: ts(NOW.getTime() - HOUR) });
    assert.deepEqual(cmd.message.limits, { maxBytes: 1_000_000, maxPackets: 50 });
    assert.equal(cmd.message.upload.url, `http://collector.test:8080/api/v1/tasks/${taskA.id}/upload`);
    const claims = await h.tokens.verify(cmd.message.upload.token, taskA.id);
    assert.deepEqual([claims.jobId, claims.sensor], [job.id, a]);
    assert.equal(claims.expiresAt.getTime(), NOW.getTime() + 60 * 60_000, 'uploadTokenMinutes after the dispatch (the window has ended)');
    assert.equal(h.broker.published.find((p) => p.topic.endsWith('/tasks'))!.options.qos, 1);
    assert.deepEqual(
      h.emittedJobs.map((e) => [e.event, e.status]),
      [
        ['submitted', 'pending'],
        ['running', 'running'],
      ],
    );
  });

  test('submit refusals: bad filter with its position, unknown sensor, viewer, and the concurrent-jobs quota naming the limit', async () => {
    const h = await jobsHarness(ctx.db, new RecordingResults(), { start: NOW });
    const a = await h.sensor(covering());
    const actor = analyst();
    await assert.rejects(
      h.jobs.service.submit(actor, { window: pastWindow, filter: { expression: 'host 10.0.0.1 and xx' }, targets: { sensors: [a] } }),
      (err) => isDomainError(err, 'invalid') && /^filter: at 18: /.test(err.message),
    );
    await assert.rejects(
      h.jobs.service.submit(actor, { window: pastWindow, filter: { expression: '' }, targets: { sensors: [a, 'edge-none'] } }),
      (err) => isDomainError(err, 'invalid') && err.message === "targets: unknown sensor 'edge-none'",
    );
    await assert.rejects(
      h.jobs.service.submit({ id: 'user:vera', name: 'vera', role: 'viewer' }, { window: pastWindow, filter: { expression: '' }, targets: { sensors: [a] } }),
      (err) => isDomainError(err, 'forbidden'),
    );
    for (let i = 0; i < 3; i += 1) await submit(h, actor, [a]);
    await assert.rejects(
      submit(h, actor, [a]),
      (err) => isDomainError(err, 'throttled') && err.message === `${actor.name} has 3 open jobs; jobs.quota.concurrentJobs allows 3`,
    );
    await submit(h, analyst(), [a]);
  });

  test('dry run: estimates asked in parallel, answers matched per sensor, silence noted; no job created', async () => {
    const h = await jobsHarness(ctx.db, new RecordingResults(), { start: NOW });
    const talker = await h.sensor(covering());
    const silent = await h.sensor(covering());
    const down = await h.sensor(covering());
    await h.offline(down);
    h.broker.onPublish = (p) => {
      if (!p.topic.endsWith(`/${talker}/estimate`)) return;
      const [cmd] = h.broker.commands('estimate', talker).slice(-1);
      setImmediate(() => {
        // Another sensor answering the talker's question is refused; the talker's own answer counts.
        assert.equal(h.jobs.service.ingestEstimate(silent, { ...answer, requestId: cmd!.message.requestId }), 'not-permitted');
        assert.equal(h.jobs.service.ingestEstimate(talker, { ...answer, requestId: cmd!.message.requestId }), 'applied');
      });
    };
    const answer = {
      v: SCHEMA_VERSION,
      sentAt: 0,
      seq: 1,
      requestId: 'x',
      files: 4,
      bytesInWindow: 4096,
      indexedFiles: 3,
      matchUpperBound: { packets: 10, bytes: 999 },
      bytesToRead: 2048,
    };
    const started = Date.now();
    const { job, plan } = await h.jobs.service.submit(analyst(), {
      window: pastWindow,
      filter: { expression: 'udp' },
      targets: { sensors: [talker, silent, down] },
      dryRun: true,
    });
    assert.equal(job, null);
    assert.ok(Date.now() - started < 2000, 'waits about dryRunTimeoutMs, once for all');
    const byName = new Map(plan.sensors.map((e) => [e.sensor, e]));
    assert.deepEqual(byName.get(talker)!.estimate, { files: 4, indexedFiles: 3, bytesToRead: 2048, matchUpperBound: { packets: 10, bytes: 999 } });
    assert.equal(byName.get(talker)!.bytesInWindow, 4096);
    assert.deepEqual([byName.get(silent)!.estimate, byName.get(silent)!.note], [null, 'no estimate: no answer in time']);
    assert.match(byName.get(down)!.note!, /^sensor is offline/);
    assert.deepEqual(
      h.broker
        .commands('estimate')
        .map((c) => c.sensor)
        .sort(),
      [silent, talker].sort(),
      'the offline sensor is not asked',
    );
    assert.equal(h.jobs.estimates.open, 0, 'no question left waiting');
    assert.equal(h.broker.commands('tasks').length, 0);
    assert.equal(
      (await h.jobs.service.list(analyst(), { limit: 500 })).jobs.some((j) => j.filter && 'expression' in j.filter && j.filter.expression === 'udp'),
      false,
    );
  });

  test('dry runs are limited per user (jobs.quota.dryRunsPerMinute, 429 naming it); refused requests do not count; a minute later again', async () => {
    const h = await jobsHarness(ctx.db, new RecordingResults(), { start: NOW, settings: { dryRunTimeoutMs: 100 } });
    const a = await h.sensor(covering());
    const [ana, bob] = [analyst(), analyst()];
    const dryRun = (actor: Actor, expression = 'tcp') =>
      h.jobs.service.submit(actor, { window: pastWindow, filter: { expression }, targets: { sensors: [a] }, dryRun: true });
    await assert.rejects(dryRun(ana, 'tcp port'), (err) => isDomainError(err, 'invalid'), 'a refused filter is not a dry run that reached the sensors');
    for (let i = 0; i < 5; i += 1) await dryRun(ana);
    const asked = h.broker.commands('estimate').length;
    await assert.rejects(
      dryRun(ana),
      (err) => isDomainError(err, 'throttled') && /made 5 dry runs in the last minute; jobs\.quota\.dryRunsPerMinute allows 5/.test(err.message),
    );
    assert.equal(h.broker.commands('estimate').length, asked, 'a refused dry run asks no sensor');
    await dryRun(bob);
    h.clock.now = new Date(NOW.getTime() + 61_000);
    await dryRun(ana);
  });

  test('task statuses: current attempt only, forward only, newer seq only, from the owning sensor only; done needs the upload', async () => {
    const results = new RecordingResults();
    const h = await jobsHarness(ctx.db, results, { start: NOW });
    const a = await h.sensor(covering());
    const b = await h.sensor(covering());
    const { job } = await submit(h, analyst(), [a, b]);
    const tA = job.taskList.find((t) => t.sensor === a)!.id;
    const tB = job.taskList.find((t) => t.sensor === b)!.id;
    const svc = h.jobs.service;

    assert.equal(await svc.ingestTaskStatus(b, tA, status(tA, 'accepted')), 'not-permitted', 'a sensor reporting on a task that is not its own');
    assert.equal(await svc.ingestTaskStatus(a, tB, status(tA, 'accepted')), 'not-permitted', 'topic and message disagree');
    assert.equal(await svc.ingestTaskStatus(a, 'no-such-task', status('no-such-task', 'accepted')), 'unknown-topic');
    assert.equal(await svc.ingestTaskStatus(a, tA, status(tA, 'accepted', { attempt: 1 })), 'stale', 'a future attempt is not ours');

    const scanning = status(tA, 'scanning', { progress: { filesScanned: 1, filesTotal: 4, packets: 5, bytes: 500 } });
    assert.equal(await svc.ingestTaskStatus(a, tA, scanning), 'applied');
    assert.equal(await svc.ingestTaskStatus(a, tA, scanning), 'duplicate');
    assert.equal(await svc.ingestTaskStatus(a, tA, { ...scanning, seq: scanning.seq - 1 }), 'stale');
    const result = { packets: 5, bytes: 500, fileBytes: 620, sha256: 'b'.repeat(64) };
    assert.equal(await svc.ingestTaskStatus(a, tA, status(tA, 'done', { result })), 'applied');
    let row = (await findTask(ctx.db, tA))!;
    assert.deepEqual([row.status, row.resultPackets], ['uploading', 5], "the agent's done before the upload completes leaves it uploading");
    assert.equal(await svc.ingestTaskStatus(a, tA, status(tA, 'scanning')), 'stale', 'scanning never undoes uploading');
    assert.equal((await findTask(ctx.db, tA))!.status, 'uploading');

    assert.equal(await svc.taskUploaded(tA, result), true);
    row = (await findTask(ctx.db, tA))!;
    assert.equal(row.status, 'done');
    assert.equal(await svc.taskUploaded(tA, result), false, 'done once');
    assert.equal(await svc.ingestTaskStatus(a, tA, status(tA, 'done', { result })), 'applied', "the agent's done after the verified upload agrees");
    assert.equal(await svc.ingestTaskStatus(a, tA, status(tA, 'failed', { error: 'late' })), 'stale', 'a final state stays final');
    assert.equal((await svc.get(analyst(), job.id)).status, 'running', 'the other task is still open');
    assert.ok(h.emittedTasks.some((e) => e.task === tA && e.status === 'scanning' && e.progress?.packets === 5));

    assert.equal(await svc.ingestTaskStatus(b, tB, status(tB, 'failed', { error: 'capture directory unreadable' })), 'applied');
    await svc.settled();
    const ended = await svc.get(analyst(), job.id);
    assert.equal(ended.status, 'partial');
    assert.equal(ended.reason, `${b} failed: capture directory unreadable`);
    assert.deepEqual(results.merges, [{ jobId: job.id, status: 'partial' }]);
    assert.deepEqual(
      h.emittedJobs
        .filter((e) => e.job === job.id)
        .map((e) => e.event)
        .filter((e) => e !== 'progress'),
      ['submitted', 'running', 'merging', 'partial'],
    );
    assert.ok(ended.expiresAt !== null, 'expiry set when the job ended');
  });

  test('a transient failure is re-sent as attempt + 1 with a fresh token until taskMaxAttempts; then the job fails naming the sensor', async () => {
    const results = new RecordingResults();
    const h = await jobsHarness(ctx.db, results, { start: NOW });
    const a = await h.sensor(covering());
    const { job } = await submit(h, analyst(), [a]);
    const t = job.taskList[0]!.id;
    for (const attempt of [0, 1]) {
      h.clock.now = new Date(h.clock.now.getTime() + 1000);
      assert.equal(await h.jobs.service.ingestTaskStatus(a, t, status(t, 'failed', { attempt, error: 'disk read error', transient: true })), 'applied');
      const cmds = h.broker.commands('tasks');
      assert.equal(cmds[cmds.length - 1]!.message.attempt, attempt + 1);
      assert.notEqual(cmds[cmds.length - 1]!.message.upload.token, cmds[cmds.length - 2]!.message.upload.token);
      assert.equal(await h.jobs.service.ingestTaskStatus(a, t, status(t, 'accepted', { attempt })), 'stale', 'the old attempt is over');
    }
    assert.equal(await h.jobs.service.ingestTaskStatus(a, t, status(t, 'failed', { attempt: 2, error: 'disk read error', transient: true })), 'applied');
    await h.jobs.service.settled();
    const ended = await h.jobs.service.get(analyst(), job.id);
    assert.equal(ended.status, 'failed');
    assert.equal(ended.reason, `${a} failed: disk read error (attempt 3 of 3)`);
    assert.equal(h.broker.commands('tasks').length, 3);
    assert.deepEqual(results.merges, [], 'nothing to merge');
  });

  test('cancel: owner or admin only; open tasks cancelled and their sensors told; remove deletes rows and files', async () => {
    const results = new RecordingResults();
    const h = await jobsHarness(ctx.db, results, { start: NOW });
    const a = await h.sensor(covering());
    const owner = analyst();
    const { job } = await submit(h, owner, [a]);
    await assert.rejects(
      h.jobs.service.cancel(analyst(), job.id),
      (err) => isDomainError(err, 'forbidden') && err.message.includes(`belongs to ${owner.name}`),
    );
    const cancelled = await h.jobs.service.cancel({ id: 'user:root', name: 'root', role: 'admin' }, job.id);
    assert.deepEqual([cancelled.status, cancelled.reason], ['cancelled', 'cancelled by root']);
    const [cancel] = h.broker.commands('cancel', a);
    assert.deepEqual([cancel!.message.taskId, cancel!.message.reason], [job.taskList[0]!.id, 'cancelled by root']);
    assert.equal((await h.jobs.service.tasks(owner, job.id))[0]!.status, 'cancelled');
    // Its files (results of tasks done before the cancel) expire like any ended job's, so the sweep frees them.
    const [row] = await ctx.db.query<{ expiresAt: Date | null }>('SELECT expires_at AS "expiresAt" FROM jobs WHERE id = $1', [job.id]);
    assert.equal(
      row!.expiresAt?.toISOString(),
      new Date(NOW.getTime() + 7 * 86_400_000).toISOString(),
      'a cancelled job expires results.expiryDays after the cancel',
    );
    assert.equal((await h.jobs.service.cancel(owner, job.id)).status, 'cancelled', 'cancelling again is harmless');
    assert.equal(await h.jobs.service.ingestTaskStatus(a, job.taskList[0]!.id, status(job.taskList[0]!.id, 'scanning')), 'stale');

    await h.jobs.service.remove(owner, job.id);
    assert.deepEqual(results.removed, [job.id]);
    await assert.rejects(h.jobs.service.get(owner, job.id), (err) => isDomainError(err, 'not_found') && err.message === `job ${job.id} not found`);
  });

  test('download: rights, missing results, the daily byte quota naming the limit, downloads recorded', async () => {
    const results = new RecordingResults();
    const h = await jobsHarness(ctx.db, results, { start: NOW });
    const a = await h.sensor(covering());
    const owner = analyst();
    const { job } = await submit(h, owner, [a]);
    await assert.rejects(
      h.jobs.service.download(owner, job.id),
      (err) => isDomainError(err, 'not_found') && /merged result of job .* \(status running\)/.test(err.message),
    );
    await assert.rejects(h.jobs.service.download({ id: 'user:vera', name: 'vera', role: 'viewer' }, job.id), (err) => isDomainError(err, 'forbidden'));
    await assert.rejects(
      h.jobs.service.download(owner, 'not-a-job-id'),
      (err) => isDomainError(err, 'not_found'),
      'an id that is no uuid: not found, no database error',
    );
    results.files.set(job.id, { path: '/r/merged.pcap', size: 600, fileName: 'm.pcap', contentType: 'application/vnd.tcpdump.pcap' });
    assert.equal((await h.jobs.service.download(owner, job.id)).size, 600);
    await assert.rejects(
      h.jobs.service.download(owner, job.id),
      (err) =>
        isDomainError(err, 'throttled') && err.message === 'download of 600 bytes exceeds jobs.quota.bytesPerDay (1000): 600 bytes downloaded in the last 24 h',
    );
    h.clock.now = new Date(NOW.getTime() + 25 * HOUR);
    assert.equal((await h.jobs.service.download(owner, job.id)).size, 600, 'a day later the quota is free again');
    await assert.rejects(
      h.jobs.service.analysis(owner, job.id),
      (err) => isDomainError(err, 'not_found') && err.message === `analysis of job ${job.id} not found`,
    );
  });

  test('concurrent downloads: the daily byte quota is checked and counted in one step, so together they never pass it', async () => {
    const results = new RecordingResults();
    const h = await jobsHarness(ctx.db, results, { start: NOW });
    const owner = analyst();
    const { job } = await submit(h, owner, [await h.sensor(covering())]);
    results.files.set(job.id, { path: '/r/merged.pcap', size: 300, fileName: 'm.pcap', contentType: 'application/vnd.tcpdump.pcap' });
    // bytesPerDay 1000: three downloads of 300 bytes fit, the other five of eight fired at once are refused.
    const outcomes = await Promise.allSettled(Array.from({ length: 8 }, () => h.jobs.service.download(owner, job.id)));
    const refused = outcomes.filter((o) => o.status === 'rejected').map((o) => o.reason as Error);
    assert.equal(outcomes.filter((o) => o.status === 'fulfilled').length, 3);
    assert.equal(refused.length, 5);
    for (const err of refused)
      assert.ok(isDomainError(err, 'throttled') && /jobs\.quota\.bytesPerDay \(1000\): 900 bytes downloaded/.test(err.message), err.message);
    const [row] = await ctx.db.query<{ n: number }>('SELECT coalesce(sum(bytes), 0)::bigint AS n FROM job_downloads WHERE principal = $1', [owner.id]);
    assert.equal(Number(row?.n), 900, 'only what was served is counted');
  });

  test('list: newest first, cursor pages, bad cursor refused', async () => {
    const h = await jobsHarness(ctx.db, new RecordingResults(), { start: NOW });
    const a = await h.sensor(covering());
    const owner = analyst();
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) {
      h.clock.now = new Date(NOW.getTime() + i * 1000);
      ids.push((await submit(h, owner, [a])).job.id);
    }
    const first = await h.jobs.service.list(owner, { owner: owner.name, limit: 2 });
    assert.deepEqual(
      first.jobs.map((j) => j.id),
      [ids[2], ids[1]],
    );
    const second = await h.jobs.service.list(owner, { owner: owner.name, limit: 2, cursor: first.next! });
    assert.deepEqual([second.jobs.map((j) => j.id), second.next], [[ids[0]], null]);
    await assert.rejects(
      h.jobs.service.list(owner, { limit: 2, cursor: 'garbage' }),
      (err) => isDomainError(err, 'invalid') && err.message === 'cursor: not a cursor this server gave out',
    );
  });
});
