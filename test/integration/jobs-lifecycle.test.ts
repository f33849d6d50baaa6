/**
 * Issue #10, a job's life around the happy path, with real agents and a real collector:
 * - cancel mid-scan: the extract of a large directory is frozen in the middle (SIGSTOP of the agent,
 *   so "mid-scan" is certain, not a race), the job is cancelled through the API, the agent resumes:
 *   job and task end `cancelled` and the agent's task files (result, extract parts) are gone;
 * - an offline sensor: its agent stopped before the submit, the job waits for it while the others
 *   finish; started again it gets its task and the job completes with the reference's result;
 * - a window in the future: the agent waits while new capture files arrive in its directory, starts
 *   once a file past the window's end exists, and the result equals the reference over what was
 *   written.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { integrationTest, prepareBackend, requireTool, eventually } from './harness.js';
import { agentTaskLeftovers, agentTaskRecords, expectMergedEqualsReference } from './harness/job-checks.js';
import { FIXTURE_START, LiveCaptureWriter, buildBigSensor, buildOverlappingSensors, referenceExtract } from './harness/job-fixtures.js';
import { JobWorld } from './harness/job-world.js';

const iso = (sec: number): string => new Date(sec * 1000).toISOString();

integrationTest("jobs: cancel mid-scan → cancelled, the agent's task files gone [postgres]", async (scope) => {
  const backend = await prepareBackend(scope, 'postgres');
  if (!backend) return;
  const big = buildBigSensor(join(scope.dir, 'big'), 200);
  // No sidecar indexes: the extract reads all 200 MB.
  const world = await JobWorld.start(scope, { backend, sensors: [big], agentConfig: { index: { enabled: false } } });
  const { jobs } = world;
  const agent = world.agent('big');

  const { job } = await jobs.submit({
    window: { from: iso(FIXTURE_START), to: iso(FIXTURE_START + 600) },
    filter: { expression: 'tcp or udp' },
    targets: { sensors: ['big'] },
  });
  await eventually(async () => ((await jobs.get(job.id)).taskList[0]?.status === 'scanning' ? true : undefined), {
    what: 'the task scanning',
    timeoutMs: 60_000,
    intervalMs: 20,
  });
  // Freeze the agent once its extract has started writing (a local look, every 5 ms).
  await eventually(async () => (agentTaskLeftovers(agent).length > 0 ? true : undefined), {
    what: 'the extract writing its output',
    timeoutMs: 30_000,
    intervalMs: 5,
  });
  agent.process.signal('SIGSTOP');
  let frozen = true;
  scope.defer(() => {
    if (frozen) agent.process.signal('SIGCONT');
  });
  try {
    const scanning = await jobs.get(job.id);
    assert.equal(scanning.taskList[0]?.status, 'scanning', 'frozen while scanning');
    assert.ok(agentTaskLeftovers(agent).length > 0, `the extract has written something before the cancel`);
    await jobs.cancel(job.id);
  } finally {
    agent.process.signal('SIGCONT');
    frozen = false;
  }
  const cancelled = await jobs.waitFor(job.id, ['cancelled'], 30_000);
  assert.equal(cancelled.result, null);
  await eventually(
    async () => {
      const record = agentTaskRecords(agent).find((r) => r.command.jobId === job.id);
      const left = agentTaskLeftovers(agent);
      return record?.status === 'cancelled' && left.length === 0 ? true : undefined;
    },
    { what: 'the agent to record the task cancelled with no file left', timeoutMs: 30_000 },
  );
  const task = (await jobs.get(job.id)).taskList[0];
  assert.equal(task?.status, 'cancelled', JSON.stringify(task));
  await world.collector.stop();
});

integrationTest('jobs: an offline sensor gets its task when it comes back; the job completes [pglite]', async (scope) => {
  for (const tool of ['tcpdump', 'mergecap', 'editcap']) if (!requireTool(scope.t, tool)) return;
  const backend = await prepareBackend(scope, 'pglite');
  if (!backend) return;
  const sensors = buildOverlappingSensors(join(scope.dir, 'captures'));
  const filter = 'host 10.1.1.10 or host 2001:db8:1::10 or icmp';
  const window = { from: { sec: FIXTURE_START + 30, nsec: 0 }, to: { sec: FIXTURE_START + 570, nsec: 0 } };
  const reference = referenceExtract(sensors, filter, window, scope.dir);
  const world = await JobWorld.start(scope, { backend, sensors });
  const { jobs } = world;

  // tap-c reported its availability, then went away.
  await world.agent('tap-c').stop();
  await world.collector.api.waitForStatus('tap-c', 'offline', 15_000);
  const { job, plan } = await jobs.submit({
    window: { from: iso(window.from.sec), to: iso(window.to.sec) },
    filter: { expression: filter },
    targets: { auto: true },
  });
  const planned = plan.sensors.find((s) => s.sensor === 'tap-c');
  assert.ok(planned?.included, `the offline sensor is still planned: ${JSON.stringify(planned)}`);
  assert.equal(planned?.status, 'offline');

  // The others finish; the job waits for tap-c.
  await eventually(
    async () => {
      const j = await jobs.get(job.id);
      return j.taskList.filter((t) => t.sensor !== 'tap-c').every((t) => t.status === 'done') ? j : undefined;
    },
    { what: 'tap-a and tap-b done', timeoutMs: 60_000 },
  );
  const waiting = await jobs.get(job.id);
  assert.equal(waiting.status, 'running', 'the job waits for the offline sensor');
  assert.equal(waiting.taskList.find((t) => t.sensor === 'tap-c')?.status, 'pending');

  world.agent('tap-c').start();
  const done = await jobs.waitFor(job.id, ['complete'], 90_000);
  await expectMergedEqualsReference(jobs, done, reference, scope.dir);
  await world.collector.stop();
});

integrationTest('jobs: a window in the future while the agent writes files into its directory [postgres]', async (scope) => {
  for (const tool of ['tcpdump', 'mergecap', 'editcap']) if (!requireTool(scope.t, tool)) return;
  const backend = await prepareBackend(scope, 'postgres');
  if (!backend) return;
  const dir = join(scope.dir, 'live');
  const writer = new LiveCaptureWriter(dir, 2);
  writer.start();
  scope.defer(() => writer.stop());
  const world = await JobWorld.start(scope, { backend, sensors: [{ name: 'live', location: 'edge', directory: dir }] });
  const { jobs } = world;

  const now = Math.floor(Date.now() / 1000);
  const window = { from: { sec: now + 3, nsec: 0 }, to: { sec: now + 13, nsec: 0 } };
  const { job, plan } = await jobs.submit({
    window: { from: iso(window.from.sec), to: iso(window.to.sec) },
    filter: { expression: 'udp or tcp port 443' },
    targets: { sensors: ['live'] },
  });
  assert.equal(plan.scheduled, true, 'a window reaching into the future is scheduled');
  const waiting = await eventually(
    async () => {
      const t = (await jobs.get(job.id)).taskList[0];
      return t?.status === 'waiting' ? t : undefined;
    },
    { what: 'the task waiting for its window', timeoutMs: 30_000, intervalMs: 50 },
  );
  assert.ok(waiting.waitUntil !== null && Date.parse(waiting.waitUntil) >= window.to.sec * 1000, `waitUntil ${waiting.waitUntil}`);

  const done = await jobs.waitFor(job.id, ['complete'], 90_000);
  writer.stop();
  const reference = referenceExtract([{ name: 'live', files: [...writer.files] }], 'udp or tcp port 443', window, scope.dir);
  assert.ok(reference.packets.length > 100, `${reference.packets.length} packets in the window`);
  await expectMergedEqualsReference(jobs, done, reference, scope.dir);
  await world.collector.stop();
});
