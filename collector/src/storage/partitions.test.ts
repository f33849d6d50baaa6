import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../log.js';
import { forEachDatabase } from '../testing/databases.js';
import { PartitionManager, partitionName, partitionedTables, partitionsOf } from './partitions.js';

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
    assert.deepEqual(first.created.filter((n) => n.startsWith('health')), expected);
    assert.deepEqual(await partitionsOf(db, 'health_samples'), [...expected, 'health_samples_default'].sort());
    assert.equal(first.created.length, 8);
    const again = await pm.run(new Date(t0 + 3600_000));
    assert.deepEqual(again, { created: [], dropped: [], moved: 0, purged: 0 }, 'idempotent');

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
    const inDefault = async () =>
      (await db.query<{ seq: number }>('SELECT seq FROM health_samples_default ORDER BY seq')).map((r) => r.seq);
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

    const ops = await db.query<{ action: string; n: number }>(
      `SELECT action, count(*)::int AS n FROM partition_operations GROUP BY action ORDER BY action`,
    );
    const byAction = Object.fromEntries(ops.map((o) => [o.action, o.n]));
    assert.equal(byAction.create, first.created.length + later.created.length + expiry.created.length);
    assert.equal(byAction.drop, expiry.dropped.length);
    assert.equal(byAction['move-from-default'], 1);
    assert.equal(byAction['purge-default'], 1);
    const [move] = await db.query<{ rows: number; partition: string }>(
      `SELECT rows, partition_name AS partition FROM partition_operations WHERE action = 'move-from-default'`,
    );
    assert.deepEqual(move, { rows: 1, partition: partitionName('health_samples', day0 + 5 * DAY) });
  });
});
