import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encode as rawCbor } from 'cbor-x';
import { pino } from 'pino';
import { encodeMessage, SCHEMA_VERSION, topics } from '@pcapmesh/shared/wire';
import { IngestStats } from '../domain/ingest-stats.js';
import type { JobResults } from '../domain/jobs/jobs.ports.js';
import { findTask } from '../storage/job-tasks.repo.js';
import { forEachDatabase } from '../testing/databases.js';
import { jobsHarness, source } from '../testing/jobs.fixture.js';
import { Ingest } from './ingest.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const ns = (ms: number) => BigInt(ms) * 1_000_000n;

/** No job in these tests reaches a merge; any call would be a bug. */
const noResults: JobResults = {
  taskResultFile: () => null,
  mergedFile: () => null,
  merge: () => Promise.reject(new Error('unexpected merge')),
  removeJobFiles: () => undefined,
  sweepExpired: () => Promise.resolve(0),
};

forEachDatabase('ingest of task statuses and estimates', (ctx) => {
  test('task statuses reach the jobs service in order; foreign, unknown, stale and malformed ones are counted by reason', async () => {
    const h = await jobsHarness(ctx.db, noResults, { start: NOW });
    const stats = new IngestStats();
    const ingest = new Ingest(h.sensors, stats, pino({ level: 'silent' }), h.jobs.service);
    await h.broker.consume((topic, payload) => ingest.handle(topic, payload));
    const a = await h.sensor([source(NOW.getTime() - 7_200_000, NOW.getTime(), 1000)]);
    const b = await h.sensor([source(NOW.getTime() - 7_200_000, NOW.getTime(), 1000)]);
    const { job } = await h.jobs.service.submit(
      { id: 'user:ana', name: 'ana', role: 'analyst' },
      { window: { from: ns(NOW.getTime() - 3_600_000), to: ns(NOW.getTime() - 3_000_000) }, filter: { expression: '' }, targets: { sensors: [a] } },
    );
    const task = job!.taskList[0]!.id;
    let seq = 10;
    const status = (s: 'accepted' | 'scanning' | 'uploading', extra: object = {}) =>
      encodeMessage('task-status', { v: SCHEMA_VERSION, sentAt: 0, seq: (seq += 1), taskId: task, attempt: 0, status: s, ...extra });

    const accepted = status('accepted');
    const scanning = status('scanning', { progress: { filesScanned: 1, filesTotal: 2, packets: 3, bytes: 300 } });
    // Delivered together: the per-sensor queue applies them in arrival order.
    await Promise.all([h.broker.deliver(topics.taskStatus(a, task), accepted), h.broker.deliver(topics.taskStatus(a, task), scanning)]);
    assert.equal((await findTask(ctx.db, task))!.status, 'scanning');
    await h.broker.deliver(topics.taskStatus(a, task), accepted); // replayed: older seq
    await h.broker.deliver(topics.taskStatus(b, task), status('uploading')); // another sensor's topic
    await h.broker.deliver(
      topics.taskStatus(a, 'no-such-task'),
      encodeMessage('task-status', { v: 1, sentAt: 0, seq: 99, taskId: 'no-such-task', attempt: 0, status: 'accepted' }),
    );
    await h.broker.deliver(topics.taskStatus(a, task), rawCbor({ v: 1, sentAt: 0, seq: 100, taskId: task, status: 'exploded' }));
    const snap = stats.snapshot();
    assert.equal(snap.accepted['task-status'], 2);
    assert.deepEqual([snap.rejected.stale, snap.rejected['not-permitted'], snap.rejected['unknown-topic'], snap.rejected.schema], [1, 1, 1, 1]);
    assert.equal((await findTask(ctx.db, task))!.status, 'scanning', 'nothing of the refused messages was applied');
  });

  test('every birth through ingest re-sends the unfinished tasks, also one that changes no status', async () => {
    const h = await jobsHarness(ctx.db, noResults, { start: NOW });
    const ingest = new Ingest(h.sensors, new IngestStats(), pino({ level: 'silent' }), {
      ingestTaskStatus: (sensor, taskId, msg) => h.jobs.service.ingestTaskStatus(sensor, taskId, msg),
      ingestEstimate: (sensor, msg) => h.jobs.service.ingestEstimate(sensor, msg),
      sensorBorn: (sensor) => h.jobs.scheduler.sensorOnline(sensor),
    });
    await h.broker.consume((topic, payload) => ingest.handle(topic, payload));
    const a = await h.sensor([source(NOW.getTime() - 7_200_000, NOW.getTime(), 1000)]);
    await h.jobs.scheduler.resume();
    const { job } = await h.jobs.service.submit(
      { id: 'user:ana-birth', name: 'ana-birth', role: 'analyst' },
      { window: { from: ns(NOW.getTime() - 3_600_000), to: ns(NOW.getTime() - 3_000_000) }, filter: { expression: '' }, targets: { sensors: [a] } },
    );
    assert.equal(h.broker.commands('tasks', a).length, 1);
    // The agent restarts before its will was seen: a birth with a new bdSeq while the sensor is online.
    h.clock.now = new Date(NOW.getTime() + 60_000);
    await h.broker.deliver(topics.sensor(a, 'state'), encodeMessage('state', { v: 1, sentAt: 0, seq: 500, status: 'online', bdSeq: 7 }));
    await ingest.drain();
    await h.jobs.scheduler.settled();
    for (let i = 0; i < 50 && h.broker.commands('tasks', a).length < 2; i += 1) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(
      h.broker.commands('tasks', a).map((c) => [c.message.taskId, c.message.attempt]),
      [
        [job!.taskList[0]!.id, 0],
        [job!.taskList[0]!.id, 0],
      ],
    );
  });

  test("a dry run's estimates arrive through ingest; an answer nobody asked for is stale", async () => {
    const h = await jobsHarness(ctx.db, noResults, { start: NOW });
    const stats = new IngestStats();
    const ingest = new Ingest(h.sensors, stats, pino({ level: 'silent' }), h.jobs.service);
    await h.broker.consume((topic, payload) => ingest.handle(topic, payload));
    const a = await h.sensor([source(NOW.getTime() - 7_200_000, NOW.getTime(), 1000)]);
    const answer = (requestId: string) =>
      encodeMessage('estimate', { v: 1, sentAt: 0, seq: 5, requestId, files: 2, bytesInWindow: 77, indexedFiles: 1, matchUpperBound: null, bytesToRead: 50 });
    h.broker.onPublish = (p) => {
      const parsed = h.broker.commands('estimate', a).at(-1);
      if (parsed && p.topic === topics.command(a, 'estimate'))
        void h.broker.deliver(topics.estimate(a, parsed.message.requestId), answer(parsed.message.requestId));
    };
    const { plan } = await h.jobs.service.submit(
      { id: 'user:ana', name: 'ana', role: 'analyst' },
      {
        window: { from: ns(NOW.getTime() - 3_600_000), to: ns(NOW.getTime() - 3_000_000) },
        filter: { expression: 'udp' },
        targets: { sensors: [a] },
        dryRun: true,
      },
    );
    assert.deepEqual(plan.sensors[0]!.estimate, { files: 2, indexedFiles: 1, bytesToRead: 50, matchUpperBound: null });
    await h.broker.deliver(topics.estimate(a, 'unasked'), answer('unasked'));
    const snap = stats.snapshot();
    assert.deepEqual([snap.accepted.estimate, snap.rejected.stale], [1, 1]);
  });
});
