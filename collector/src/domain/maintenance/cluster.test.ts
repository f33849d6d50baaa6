/**
 * Several collectors on one database: periodic work runs once per interval whoever checks
 * (periodic.ts), and the start check of cluster.service.ts — data directory lock, writable results
 * directory, the one results directory every collector shares (strict on PostgreSQL).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLogger } from '../../log.js';
import { forEachDatabase } from '../../testing/databases.js';
import { CLUSTER_MARKER_FILE, joinCluster } from './cluster.service.js';
import { PeriodicRuns } from './periodic.js';

const log = createLogger({ log: { level: 'silent' } });

forEachDatabase('several collectors', (ctx) => {
  test('periodic work: one of two concurrent claims runs it; not again until due; not while a run is in progress; a failure ends the run', async () => {
    const name = `work-${Math.random().toString(36).slice(2)}`;
    const [a, b] = [new PeriodicRuns(ctx.db, 'collector-a', log), new PeriodicRuns(ctx.db, 'collector-b', log)];
    const ran: string[] = [];
    const both = await Promise.all([a.runIfDue(name, 60, async () => void ran.push('a')), b.runIfDue(name, 60, async () => void ran.push('b'))]);
    assert.equal(ran.length, 1, `exactly one ran (${ran.join(',')})`);
    assert.deepEqual(both.filter(Boolean).length, 1);
    assert.equal(await b.runIfDue(name, 60, async () => void ran.push('b')), false, 'not due again yet');
    assert.equal(await a.runIfDue(name, 60, async () => void ran.push('a')), false);

    const due = () => ctx.db.query(`UPDATE periodic_runs SET next_due_at = clock_timestamp() - interval '1 second' WHERE name = $1`, [name]);
    await due();
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const running = a.runIfDue(name, 60, () => held);
    await new Promise((r) => setTimeout(r, 50));
    await due();
    assert.equal(await b.runIfDue(name, 60, async () => void ran.push('b')), false, 'a run in progress holds the work even when due');
    release();
    assert.equal(await running, true);

    await due();
    await assert.rejects(
      b.runIfDue(name, 60, async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    const [row] = await ctx.db.query<{ holder: string; lease: Date | null; finished: Date | null }>(
      'SELECT holder, lease_until AS lease, finished_at AS finished FROM periodic_runs WHERE name = $1',
      [name],
    );
    assert.equal(row?.holder, 'collector-b');
    assert.equal(row?.lease, null, 'a failed run is finished: the next one is not blocked');
    assert.ok(row?.finished);
    await assert.rejects(
      a.runIfDue(name, 0, async () => undefined),
      /interval must be > 0/,
    );
  });

  test('start check: collectors on one database share the results directory; a data directory is one process’s; bad directories refused', async (t) => {
    const root = mkdtempSync(join(tmpdir(), 'pcapmesh-cluster-'));
    t.after(() => rmSync(root, { recursive: true, force: true }));
    const fresh = await ctx.fresh({ migrate: true });
    t.after(() => fresh.drop());
    const db = fresh.db;
    const shared = join(root, 'results');
    const one = await joinCluster({ db, dataDir: join(root, 'one'), resultsDir: shared, log });
    const two = await joinCluster({ db, dataDir: join(root, 'two'), resultsDir: shared, log });
    assert.equal(one.clusterId, two.clusterId);
    assert.notEqual(one.holder, two.holder);
    await assert.rejects(joinCluster({ db, dataDir: join(root, 'one'), resultsDir: shared, log }), /dataDir .*one: .*locked by process/);
    one.release();
    const again = await joinCluster({ db, dataDir: join(root, 'one'), resultsDir: shared, log });
    assert.equal(again.holder, one.holder, 'a collector restarted on its data directory is the same holder');

    writeFileSync(join(root, 'a-file'), 'x');
    await assert.rejects(
      joinCluster({ db, dataDir: join(root, 'three'), resultsDir: join(root, 'a-file', 'results'), log }),
      /results\.directory .* is not writable/,
    );

    const other = join(root, 'other-results');
    if (ctx.kind === 'postgres') {
      await assert.rejects(
        joinCluster({ db, dataDir: join(root, 'four'), resultsDir: other, log }),
        /results\.directory .*other-results is not the directory the other collectors on this database use: its \.pcapmesh-cluster is missing/,
      );
      writeFileSync(join(other, CLUSTER_MARKER_FILE), JSON.stringify({ cluster: 'another-database', marker: 'm' }));
      await assert.rejects(joinCluster({ db, dataDir: join(root, 'four'), resultsDir: other, log }), /belongs to another database/);
    } else {
      // PGlite: one process is the database's only user, so its marker is simply (re)written.
      const moved = await joinCluster({ db, dataDir: join(root, 'four'), resultsDir: other, log });
      assert.equal(moved.clusterId, one.clusterId);
      moved.release();
    }
    for (const m of [two, again]) m.release();
  });
});
