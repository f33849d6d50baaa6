/**
 * The world of the failure tests (jobs-faults, jobs-restart): the three overlapping sensors, a job
 * over everything in their span (results of ~3–5 MB per sensor, so an upload takes many 64 KiB
 * chunks), a cutting proxy on the upload path, and the reference result for that job.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { prepareBackend, type BackendName } from './backends.js';
import { requireTool } from './env.js';
import { sha256 } from './job-checks.js';
import { FIXTURE_START, buildOverlappingSensors, referenceExtract, type Reference, type SensorFixture } from './job-fixtures.js';
import type { JobBody, JobDetail } from './jobs-api.js';
import { JobWorld } from './job-world.js';
import type { TestScope } from './scope.js';

export const FAULT_FILTER = '';
export const FAULT_WINDOW = { from: { sec: FIXTURE_START, nsec: 0 }, to: { sec: FIXTURE_START + 600, nsec: 0 } };
export const FAULT_JOB: JobBody = {
  window: { from: new Date(FAULT_WINDOW.from.sec * 1000).toISOString(), to: new Date(FAULT_WINDOW.to.sec * 1000).toISOString() },
  filter: { expression: FAULT_FILTER },
  targets: { auto: true },
};
export const FAULT_CHUNK = 64 * 1024;

/** The world, or null when the test was skipped (a tool or service missing outside CI). */
export async function startFaultWorld(
  scope: TestScope,
  backendName: BackendName,
): Promise<{ world: JobWorld; reference: Reference; sensors: SensorFixture[] } | null> {
  for (const tool of ['tcpdump', 'mergecap', 'editcap']) if (!requireTool(scope.t, tool)) return null;
  const backend = await prepareBackend(scope, backendName);
  if (!backend) return null;
  const sensors = buildOverlappingSensors(join(scope.dir, 'captures'));
  const reference = referenceExtract(sensors, FAULT_FILTER, FAULT_WINDOW, scope.dir);
  // A short merge lease: a collector killed mid-merge leaves its lease, which the restarted one waits out.
  const world = await JobWorld.start(scope, {
    backend,
    sensors,
    proxy: true,
    agentConfig: { tasks: { uploadChunkBytes: FAULT_CHUNK } },
    collectorConfig: { jobs: { mergeLeaseSeconds: 3 } },
  });
  return { world, reference, sensors };
}

/** Each task's stored result is the file its agent computed (its declared SHA-256 and size). */
export async function expectTaskResultsIntact(world: JobWorld, job: JobDetail): Promise<void> {
  for (const task of job.taskList) {
    assert.ok(task.result, `${task.sensor} has a result`);
    const own = await world.jobs.download(job.id, { task: task.id });
    assert.equal(own.status, 200);
    assert.equal(sha256(own.body), task.result.sha256, `${task.sensor}: the stored result has the agent's SHA-256`);
    assert.equal(own.body.length, task.result.fileBytes);
  }
}
