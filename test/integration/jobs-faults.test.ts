/**
 * Issue #10, failures on the way, with real processes: the job must still end `complete` with the
 * reference's result (harness/job-fixtures.ts) — no packet missing, none twice.
 * - 20 random connection cuts during the uploads (a cutting proxy on the upload path, 64 KiB chunks):
 *   every sensor's result arrives with the SHA-256 its agent computed;
 * - agent kill -9 while its task uploads: the restarted agent resumes from the acknowledged offset
 *   (same attempt: not re-sent by the collector).
 * Collector kill -9 is jobs-restart.test.ts.
 */
import assert from 'node:assert/strict';
import { eventually, integrationTest } from './harness.js';
import { expectMergedEqualsReference } from './harness/job-checks.js';
import { FAULT_CHUNK, FAULT_JOB, expectTaskResultsIntact, startFaultWorld } from './harness/job-faults.js';

integrationTest('jobs: 20 random connection cuts during the uploads → identical SHA-256, reference result [pglite]', async (scope) => {
  const set = await startFaultWorld(scope, 'pglite');
  if (!set) return;
  const { world, reference } = set;
  const proxy = world.proxy!;
  proxy.cutRandomly({ cuts: 20, minGapBytes: FAULT_CHUNK + 8 * 1024, maxGapBytes: 4 * FAULT_CHUNK, seed: 20261207 });
  const { job } = await world.jobs.submit({ ...FAULT_JOB, name: 'cuts' });
  const done = await world.jobs.waitFor(job.id, ['complete'], 180_000);
  assert.equal(proxy.cuts, 20, `cuts made: ${proxy.cuts} at ${proxy.cutPositions.join(', ')} (upstream bytes ${proxy.bytesUp})`);
  await expectTaskResultsIntact(world, done);
  await expectMergedEqualsReference(world.jobs, done, reference, scope.dir);
  await world.collector.stop();
});

integrationTest('jobs: agent kill -9 while its task uploads → the restarted agent resumes, the job completes [postgres]', async (scope) => {
  const set = await startFaultWorld(scope, 'postgres');
  if (!set) return;
  const { world, reference } = set;
  const { jobs } = world;
  const proxy = world.proxy!;
  const { job } = await jobs.submit({ ...FAULT_JOB, name: 'agent kill' });
  const partial = await eventually(
    async () => {
      const t = (await jobs.get(job.id)).taskList.find((x) => x.sensor === 'tap-c' && x.upload.received > 0 && !x.upload.complete);
      return t;
    },
    { what: "tap-c's upload under way", timeoutMs: 60_000, intervalMs: 20 },
  );
  proxy.refuse(true);
  await world.agent('tap-c').kill9();
  proxy.refuse(false);
  world.agent('tap-c').start();
  const done = await jobs.waitFor(job.id, ['complete'], 120_000);
  const task = done.taskList.find((t) => t.sensor === 'tap-c')!;
  assert.equal(task.attempt, partial.attempt, 'resumed by the agent, not re-sent as a new attempt');
  await expectTaskResultsIntact(world, done);
  await expectMergedEqualsReference(jobs, done, reference, scope.dir);
  await world.collector.stop();
});
