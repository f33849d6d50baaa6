import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../log.js';
import { forEachDatabase } from '../testing/databases.js';
import { openDb } from './db.js';
import { MAINTENANCE_LOCK_KEY, PartitionManager, PartitionRegistry, partitionName, partitionedTables, partitionsOf } from './partitions.js';

const DAY = 86_400_000;
const log = createLogger({ log: { level: 'silent' } });

forEachDatabase('partition manager', (ctx) => {
  test('creates days ahead, moves early rows out of default, drops and purges past retention, records all', async () => {
    const db = ctx.db;
    const pm = new PartitionManager({ db, log, ahead: 3, tables: partitionedTables({ healthDays: 30, trafficDays: 7 }) });
    const t0 = Date.UTC(2026, 0, 10, 13, 45); // 2026-01-10 13:45Z
    const day0 = Date.UTC(2026, 0, 10);

    const first = await pm.run(new Date(t0));
    const expected = [0, 1, 2, 3].map((i) => partitionName('health_samples', day0 + i * DAY));
    assert.deepEqual(
      first.created.filter((n) => n.startsWith('health')),
      expected,
    );
    assert.deepEqual(await partitionsOf(db, 'health_samples'), [...expected, 'health_samples_default'].sort());
    assert.equal(first.created.length, 8);
    const again = await pm.run(new Date(t0 + 3600_000));
    assert.deepEqual(again, { created: [], dropped: [], moved: 0, purged: 0, failed: [], skipped: false }, 'idempotent');

    // A sensor, a sample 5 days ahead (agent clock skew: lands in default) and one 2 days old.
    await db.query(`INSERT INTO sensors (name, secret_hash) VALUES ('pm-1', 'x')`);
    const insert = (at: number, seq: number) =>
      db.query(
        `INSERT INTO health_samples (sensor_id, sampled_at, seq, cpu_usage, cpu_cores, memory_total, memory_used, memory_available,
           load1, load5, load15, uptime_seconds, disks, interfaces, captures)
         SELECT id, $1, $2, 1, 1, 1, 1, 1, 0, 0, 0, 1, '[]', '[]', '[]' FROM sensors WHERE name = 'pm-1'`,
        [new Date(at), seq],
      );
    await insert(day0 + 5 * DAY + 1000, 1);
    await insert(day0 - 2 * DAY, 2);
    await insert(day0 + 1000, 3);
    const inDefault = async () => (await db.query<{ seq: number }>('SELECT seq FROM health_samples_default ORDER BY seq')).map((r) => r.seq);
    assert.deepEqual(await inDefault(), [1, 2]);

    const later = await pm.run(new Date(t0 + 2 * DAY));
    assert.ok(later.created.includes(partitionName('health_samples', day0 + 5 * DAY)));
    assert.equal(later.moved, 1);
    assert.deepEqual(await inDefault(), [2]);
    const moved = await db.query(`SELECT seq FROM ${partitionName('health_samples', day0 + 5 * DAY)}`);
    assert.deepEqual(moved, [{ seq: 1 }]);
    assert.equal((await db.query('SELECT * FROM health_samples')).length, 3, 'no sample lost');

    // 40 days on: health (30 d) partitions of day0..day0+5 and the old default row are gone.
    const expiry = await pm.run(new Date(t0 + 40 * DAY));
    assert.ok(expiry.dropped.includes(partitionName('health_samples', day0)));
    assert.ok(expiry.dropped.includes(partitionName('traffic_samples', day0)));
    assert.ok(!expiry.dropped.includes(partitionName('health_samples', day0 + 10 * DAY)), 'day0+10 ends within 30 days: kept');
    assert.equal(expiry.purged, 1);
    assert.deepEqual(await inDefault(), []);

    const ops = await db.query<{ action: string; n: number }>(`SELECT action, count(*)::int AS n FROM maintenance_operations GROUP BY action ORDER BY action`);
    const byAction = Object.fromEntries(ops.map((o) => [o.action, o.n]));
    assert.equal(byAction.create, first.created.length + later.created.length + expiry.created.length);
    assert.equal(byAction.drop, expiry.dropped.length);
    assert.equal(byAction['move-from-default'], 1);
    assert.equal(byAction['purge-default'], 1);
    const [move] = await db.query<{ rows: number; partition: string }>(
      `SELECT rows, partition_name AS partition FROM maintenance_operations WHERE action = 'move-from-default'`,
    );
    assert.deepEqual(move, { rows: 1, partition: partitionName('health_samples', day0 + 5 * DAY) });
    const [drop] = await db.query<{ bytes: number | null; outcome: string; durationMs: number; at: Date }>(
      `SELECT bytes, outcome, duration_ms AS "durationMs", at FROM maintenance_operations WHERE action = 'drop' AND partition_name = $1`,
      [partitionName('health_samples', day0)],
    );
    assert.ok(drop && drop.bytes !== null && drop.bytes > 0, 'a dropped partition says how many bytes it took');
    assert.equal(drop.outcome, 'ok');
    assert.ok(drop.durationMs >= 0);
    assert.equal(drop.at.getTime(), t0 + 40 * DAY, 'stamped with the run time');
  });

  test('registry: fixed tables and sources asked at every run, a table listed twice kept once; the status history is a time series', async () => {
    const fresh = await ctx.fresh({ migrate: true });
    try {
      const db = fresh.db;
      let asked = 0;
      const registry = new PartitionRegistry()
        .add(...partitionedTables({ healthDays: 30, trafficDays: 7, statusDays: 90 }))
        .addSource('late tables', async () => {
          asked += 1;
          return asked > 1
            ? [
                { table: 'audit_log', column: 'at', retentionDays: 10 },
                { table: 'health_samples', column: 'sampled_at', retentionDays: 1 },
              ]
            : [];
        });
      const pm = new PartitionManager({ db, log, ahead: 0, tables: registry });
      const t0 = Date.UTC(2026, 2, 1, 12);
      const first = await pm.run(new Date(t0));
      assert.deepEqual(
        first.created.sort(),
        ['health_samples', 'sensor_status_history', 'traffic_samples'].map((t) => partitionName(t, Date.UTC(2026, 2, 1))).sort(),
      );
      const second = await pm.run(new Date(t0 + DAY));
      assert.equal(asked, 2);
      assert.ok(second.created.includes(partitionName('audit_log', Date.UTC(2026, 2, 2))), 'the source added audit_log');
      assert.ok(!second.dropped.includes(partitionName('health_samples', Date.UTC(2026, 2, 1))), 'health_samples keeps its first retention (30 days)');

      // Status history rows land in the day partition and stay readable through the parent.
      await db.query(`INSERT INTO sensors (name, secret_hash) VALUES ('pm-s', 'x')`);
      await db.query(
        `INSERT INTO sensor_status_history (sensor_id, from_status, to_status, reason, at) SELECT id, 'unknown', 'online', 'birth', $1 FROM sensors WHERE name = 'pm-s'`,
        [new Date(t0 + DAY + 60_000)],
      );
      const [row] = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${partitionName('sensor_status_history', Date.UTC(2026, 2, 2))}`);
      assert.equal(row?.n, 1);
      const expiry = await pm.run(new Date(t0 + 100 * DAY));
      assert.ok(expiry.dropped.includes(partitionName('sensor_status_history', Date.UTC(2026, 2, 2))), 'past statusDays (90): dropped');
      assert.deepEqual(await db.query('SELECT * FROM sensor_status_history'), []);
    } finally {
      await fresh.drop();
    }
  });

  test('one run at a time: a second run skips (ifLocked skip) or waits (default) while another holds the lock', async () => {
    const db = ctx.db;
    const pm = new PartitionManager({ db, log, ahead: 0, tables: partitionedTables({ healthDays: 30, trafficDays: 30 }) });
    let release!: () => void;
    const holding = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inside = new Promise<void>((resolve) => (entered = resolve));
    const holder = db.withAdvisoryLock(MAINTENANCE_LOCK_KEY, async () => {
      entered();
      await holding;
      return 'held';
    });
    await inside;
    const skipped = await pm.run(new Date(Date.UTC(2026, 5, 1)), { ifLocked: 'skip' });
    assert.equal(skipped.skipped, true);
    if (ctx.kind === 'postgres') {
      // A second collector: its own pool on the same database.
      const other = await openDb({ url: ctx.url, maxConnections: 2 });
      try {
        const otherPm = new PartitionManager({ db: other, log, ahead: 0, tables: partitionedTables({ healthDays: 30, trafficDays: 30 }) });
        assert.equal((await otherPm.run(new Date(Date.UTC(2026, 5, 1)), { ifLocked: 'skip' })).skipped, true, 'another collector skips too');
      } finally {
        await other.close();
      }
    }
    assert.deepEqual(skipped.created, []);
    assert.deepEqual(await partitionsOf(db, 'health_samples').then((p) => p.filter((n) => n.endsWith('20260601'))), [], 'nothing done while locked');
    let waitedDone = false;
    const waiting = pm.run(new Date(Date.UTC(2026, 5, 1))).then((r) => ((waitedDone = true), r));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(waitedDone, false, 'the waiting run has not started its work');
    release();
    assert.deepEqual(await holder, { acquired: true, value: 'held' });
    const waited = await waiting;
    assert.equal(waited.skipped, false);
    assert.ok(waited.created.includes(partitionName('health_samples', Date.UTC(2026, 5, 1))));
  });

  test('a failing operation is recorded as failed with the database message; other tables go on', async () => {
    const fresh = await ctx.fresh({ migrate: true });
    try {
      const db = fresh.db;
      // A table whose default partition is missing: the create's move check fails on it.
      await db.exec(`CREATE TABLE pm_broken (at timestamptz NOT NULL) PARTITION BY RANGE (at)`);
      const pm = new PartitionManager({
        db,
        log,
        ahead: 0,
        tables: [{ table: 'pm_broken', column: 'at', retentionDays: 5 }, ...partitionedTables({ healthDays: 30, trafficDays: 30 })],
      });
      const report = await pm.run(new Date(Date.UTC(2026, 6, 1, 5)));
      assert.equal(report.failed.length, 1);
      assert.match(report.failed[0]!, /^create pm_broken_p20260701: .*pm_broken_default/);
      assert.ok(report.created.includes(partitionName('health_samples', Date.UTC(2026, 6, 1))), 'the next tables were maintained');
      const failed = await db.query<{ action: string; error: string; outcome: string }>(
        `SELECT action, error, outcome FROM maintenance_operations WHERE table_name = 'pm_broken'`,
      );
      assert.equal(failed.length, 1);
      assert.equal(failed[0]!.outcome, 'failed');
      assert.match(failed[0]!.error, /pm_broken_default/);
    } finally {
      await fresh.drop();
    }
  });
});
