/**
 * Two collectors on one database (two jobs stacks: service, lifecycle and scheduler each, over the
 * same PGlite or PostgreSQL database): exactly one merges a job, the merge lease is renewed while
 * a long merge runs, and a crashed holder's lease expires so that another collector takes it over.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { forEachDatabase } from '../../testing/databases.js';
import { jobsHarness, source, type JobsHarness } from '../../testing/jobs.fixture.js';
import type { JobResults, MergeOutcome } from './jobs.ports.js';
import type { JobStatus, ResultFile } from './jobs.types.js';
import { nsOfDate } from './window.js';

/** The results directory as far as leases go: counts merges; a merge waits while `hold` is set. */
class GatedResults implements JobResults {
  readonly merges: string[] = [];
  hold: Promise<void> | undefined;
  taskResultFile(): ResultFile | null {
    return null;
  }
  mergedFile(): ResultFile | null {
    return null;
  }
  async merge(jobId: string, _status: JobStatus): Promise<MergeOutcome> {
    this.merges.push(jobId);
    await this.hold;
    return { packets: 1, bytes: 100, fileBytes: 124, sha256: 'd'.repeat(64), duplicatesRemoved: 0 };
  }
  removeJobFiles(): void {}
  async sweepExpired(): Promise<number> {
    return 0;
  }
}

const NOW = new Date('2026-03-01T12:00:00Z');
const HOUR = 3_600_000;
const ns = (ms: number) => nsOfDate(new Date(ms));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function runningJob(h: JobsHarness): Promise<{ jobId: string; taskId: string }> {
  const sensor = await h.sensor([source(NOW.getTime() - 2 * HOUR, NOW.getTime() - 1000, 1_000_000)]);
  const name = `ana-${randomUUID().slice(0, 8)}`;
  const { job } = await h.jobs.service.submit(
    { id: `user:${name}`, name, role: 'analyst' },
    { window: { from: ns(NOW.getTime() - HOUR - 60_000), to: ns(NOW.getTime() - HOUR) }, filter: { expression: 'tcp' }, targets: { sensors: [sensor] } },
  );
  return { jobId: job!.id, taskId: job!.taskList[0]!.id };
}

forEachDatabase('merge lease', (ctx) => {
  test('two collectors: exactly one merges a job; the lease is renewed through a merge longer than it, then released', async () => {
    const [ra, rb] = [new GatedResults(), new GatedResults()];
    const a = await jobsHarness(ctx.db, ra, { start: NOW, settings: { mergeLeaseSeconds: 1 } });
    const b = await jobsHarness(ctx.db, rb, { start: NOW, settings: { mergeLeaseSeconds: 1 } });
    const { jobId, taskId } = await runningJob(a);
    let release!: () => void;
    ra.hold = new Promise((resolve) => (release = resolve));
    // A's last task is done: A starts the merge in the background and holds it 2.5 s (2.5 leases).
    assert.equal(await a.jobs.service.taskUploaded(taskId, { packets: 1, bytes: 100, fileBytes: 124, sha256: 'e'.repeat(64) }), true);
    for (let i = 0; i < 5; i += 1) {
      await sleep(500);
      await b.jobs.scheduler.tick();
      await b.jobs.scheduler.settled();
    }
    assert.deepEqual(rb.merges, [], 'B never merges the job A holds the lease of, also after A’s first lease would have run out');
    const [held] = await ctx.db.query<{ status: string; holder: string | null }>('SELECT status, merge_holder AS holder FROM jobs WHERE id = $1', [jobId]);
    assert.equal(held?.status, 'merging');
    assert.ok(held?.holder, 'the lease is held');
    release();
    await a.jobs.service.settled();
    await b.jobs.scheduler.tick();
    await b.jobs.scheduler.settled();
    assert.deepEqual([ra.merges, rb.merges], [[jobId], []]);
    const [ended] = await ctx.db.query<{ status: string; holder: string | null }>('SELECT status, merge_holder AS holder FROM jobs WHERE id = $1', [jobId]);
    assert.deepEqual(ended, { status: 'complete', holder: null }, 'complete, lease released');
    await a.jobs.close();
    await b.jobs.close();
  });

  test('a crashed holder’s lease expires: until then no collector merges, then the next tick of another takes the merge over', async () => {
    const [ra, rb] = [new GatedResults(), new GatedResults()];
    const a = await jobsHarness(ctx.db, ra, { start: NOW });
    const b = await jobsHarness(ctx.db, rb, { start: NOW });
    const { jobId, taskId } = await runningJob(a);
    // As a collector killed mid-merge leaves it: task done, job merging, its lease running 1.5 s more.
    await ctx.db.query(
      `UPDATE job_tasks SET status = 'done', upload_complete = true, upload_size = 124, upload_sha256 = $2, finished_at = now() WHERE id = $1`,
      [taskId, 'f'.repeat(64)],
    );
    await ctx.db.query(
      `UPDATE jobs SET status = 'merging', merge_holder = 'crashed-collector', merge_lease_until = clock_timestamp() + interval '1.5 seconds' WHERE id = $1`,
      [jobId],
    );
    for (const h of [a, b]) {
      await h.jobs.scheduler.tick();
      await h.jobs.scheduler.settled();
    }
    assert.deepEqual([ra.merges, rb.merges], [[], []], 'nobody merges while the crashed holder’s lease runs');
    await sleep(1600);
    await Promise.all([b.jobs.scheduler.tick(), a.jobs.scheduler.tick()]);
    await Promise.all([a.jobs.scheduler.settled(), b.jobs.scheduler.settled()]);
    assert.equal(ra.merges.length + rb.merges.length, 1, 'exactly one collector took the merge over');
    const [ended] = await ctx.db.query<{ status: string; holder: string | null }>('SELECT status, merge_holder AS holder FROM jobs WHERE id = $1', [jobId]);
    assert.deepEqual(ended, { status: 'complete', holder: null });
    await a.jobs.close();
    await b.jobs.close();
  });
});
