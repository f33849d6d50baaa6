/**
 * Issue #10, the collector killed (-9) at three moments of a job and restarted on the same data dir
 * (PGlite: its own crash recovery; PostgreSQL: the server keeps running): right after a submit (while
 * it dispatches), while uploads are held half done (the cutting proxy refuses connections), and while
 * the job is merging. Each job must still end `complete` with the reference's result — no packet
 * missing, none twice — and an upload resumes from what was acknowledged before the kill.
 * One test file per backend (jobs-restart.test.ts, jobs-restart-postgres.test.ts), so they run in parallel.
 */
import assert from 'node:assert/strict';
import type { BackendName } from './backends.js';
import { expectMergedEqualsReference } from './job-checks.js';
import { FAULT_JOB, expectTaskResultsIntact, startFaultWorld } from './job-faults.js';
import type { TestScope } from './scope.js';
import { eventually } from './wait.js';

export async function collectorKillsKeepTheResult(scope: TestScope, backendName: BackendName): Promise<void> {
  const set = await startFaultWorld(scope, backendName);
  if (!set) return;
  const { world, reference } = set;
  const { collector, jobs } = world;
  const proxy = world.proxy!;
  let mark = Date.now();
  const phase = (what: string): void => {
    scope.t.diagnostic(`${what}: ${((Date.now() - mark) / 1000).toFixed(1)} s`);
    mark = Date.now();
  };
  const restart = async (): Promise<void> => {
    await collector.process.kill9();
    await collector.start();
    phase('collector restarted');
  };

  // 1. Right after the submit: the tasks may or may not have gone out.
  const { job: first } = await jobs.submit({ ...FAULT_JOB, name: 'kill during dispatch' });
  await restart();
  const firstDone = await jobs.waitFor(first.id, ['complete'], 120_000);
  phase('job 1 complete');
  await expectMergedEqualsReference(jobs, firstDone, reference, scope.dir);

  // 2. Uploads half done: let some chunks through, then refuse connections; kill; restart; release.
  const { job: second } = await jobs.submit({ ...FAULT_JOB, name: 'kill during uploads' });
  await eventually(
    async () => {
      const j = await jobs.get(second.id);
      const partial = j.taskList.filter((t) => t.upload.received > 0 && !t.upload.complete);
      return partial.length > 0 ? j : undefined;
    },
    { what: 'an upload under way', timeoutMs: 60_000, intervalMs: 20 },
  );
  proxy.refuse(true);
  const held = await jobs.get(second.id);
  await restart();
  const resumed = await jobs.get(second.id);
  for (const task of held.taskList) {
    const after = resumed.taskList.find((t) => t.id === task.id)!;
    assert.ok(
      after.upload.received >= task.upload.received,
      `${task.sensor}: received ${task.upload.received} before, ${after.upload.received} after the restart`,
    );
  }
  proxy.refuse(false);
  const secondDone = await jobs.waitFor(second.id, ['complete'], 120_000);
  phase('job 2 complete');
  await expectTaskResultsIntact(world, secondDone);
  await expectMergedEqualsReference(jobs, secondDone, reference, scope.dir);

  // 3. During the merge: killed once the job is `merging`. The killed process' log must not show
  // that job's merge finished; when the kill came too late (the race is lost rarely: a merge of
  // ~14 MB takes hundreds of ms, the poll 10 ms), another job tries again.
  for (let attempt = 1; ; attempt++) {
    const { job: third } = await jobs.submit({ ...FAULT_JOB, name: `kill during merge ${attempt}` });
    await eventually(async () => ((await jobs.get(third.id)).status === 'merging' ? true : undefined), {
      what: 'the job merging',
      timeoutMs: 120_000,
      intervalMs: 10,
    });
    const killed = collector.process;
    await restart();
    const finished = killed
      .output()
      .split('\n')
      .some((l) => l.includes(third.id) && l.includes('job results merged'));
    const thirdDone = await jobs.waitFor(third.id, ['complete'], 120_000);
    phase(`job 3 (attempt ${attempt}) complete`);
    await expectMergedEqualsReference(jobs, thirdDone, reference, scope.dir);
    if (!finished) break;
    assert.ok(attempt < 3, 'three kills in a row came after the merge had finished');
  }
  await collector.stop();
}
