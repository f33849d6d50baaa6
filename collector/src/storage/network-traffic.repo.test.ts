import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../log.js';
import { forEachDatabase } from '../testing/databases.js';
import type { Queryable } from './db.js';
import {
  addNetworkTraffic,
  ensureLocationTrafficTable,
  locationTrafficTable,
  networkPartitionedTables,
  trafficSeries,
  trafficSeriesSql,
} from './network-traffic.repo.js';
import { PartitionManager, partitionName, partitionsOf } from './partitions.js';

const DAY = 86_400_000;
const log = createLogger({ log: { level: 'silent' } });

/** The relations a plan reads (Seq Scan / Index Scan / Bitmap Heap Scan … on <name>). */
async function scanned(q: Queryable, sql: string, params: unknown[]): Promise<string[]> {
  const rows = await q.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${sql}`, params);
  const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
  return [...plan.matchAll(/ on (network_traffic\w*)/g)].map((m) => m[1]!).sort();
}

forEachDatabase('network traffic storage', (ctx) => {
  test("two transactions creating one location's table at once: the second finds the first's table (no 'already exists')", async () => {
    const fresh = await ctx.fresh({ migrate: true });
    const db = fresh.db;
    const [row] = await db.query<{ id: number }>("INSERT INTO locations (name) VALUES ('race-site') RETURNING id");
    const id = row!.id;
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let created!: () => void;
    const firstCreated = new Promise<void>((resolve) => (created = resolve));
    const first = db.transaction(async (tx) => {
      const made = await ensureLocationTrafficTable(tx, id);
      created();
      await held;
      return made;
    });
    if (ctx.kind === 'pglite') {
      // One connection: transactions run one after the other.
      release();
      assert.deepEqual([await first, await db.transaction((tx) => ensureLocationTrafficTable(tx, id))], [true, false]);
      await fresh.drop();
      return;
    }
    await firstCreated;
    // The second looks (table missing: its catalog remembers that), then waits for the first's lock.
    const second = db.transaction((tx) => ensureLocationTrafficTable(tx, id));
    await new Promise((resolve) => setTimeout(resolve, 200));
    release();
    assert.deepEqual(await Promise.all([first, second]), [true, false]);
    await fresh.drop();
  });

  test('per-location tables, day partitions by the partition manager, one location and one day reads one partition', async () => {
    const db = ctx.db;
    const ids: number[] = [];
    for (const name of ['site-a', 'site-b', 'site-c']) {
      const [row] = await db.query<{ id: number }>('INSERT INTO locations (name) VALUES ($1) RETURNING id', [name]);
      ids.push(row!.id);
    }
    for (const id of ids) {
      assert.equal(await db.transaction((tx) => ensureLocationTrafficTable(tx, id)), true);
      assert.equal(await db.transaction((tx) => ensureLocationTrafficTable(tx, id)), false, 'second call: exists');
    }
    const tables = await networkPartitionedTables(db, 7);
    assert.deepEqual(
      tables.map((t) => t.table),
      ids.map(locationTrafficTable).sort(),
    );
    const day0 = Date.UTC(2026, 2, 10);
    const pm = new PartitionManager({ db, log, ahead: 2, tables });
    await pm.run(new Date(day0 + 3_600_000));
    const [a] = ids;
    assert.deepEqual(
      await partitionsOf(db, locationTrafficTable(a!)),
      [
        partitionName(locationTrafficTable(a!), day0),
        partitionName(locationTrafficTable(a!), day0 + DAY),
        partitionName(locationTrafficTable(a!), day0 + 2 * DAY),
        `${locationTrafficTable(a!)}_default`,
      ].sort(),
    );

    // Rows on two days at every location; a minute row adds up.
    for (const id of ids) {
      for (const day of [day0, day0 + DAY]) {
        const flows = [{ src: '10.0.0.0/24', dst: '10.0.1.0/24', packets: 2, bytes: 200 }];
        await addNetworkTraffic(db, { locationId: id, sensorId: 1, minute: new Date(day + 60_000), flows });
        await addNetworkTraffic(db, { locationId: id, sensorId: 1, minute: new Date(day + 60_000), flows });
      }
    }
    const filter = { from: new Date(day0), to: new Date(day0 + DAY), locationId: a!, subnet: null };
    assert.deepEqual(await trafficSeries(db, filter, 3600), [{ at: new Date(day0), packets: 4, bytes: 400 }]);

    const { sql, params } = trafficSeriesSql(filter, 3600);
    assert.deepEqual(await scanned(db, sql, params), [partitionName(locationTrafficTable(a!), day0)], 'only site-a, only that day');
    const withSubnet = trafficSeriesSql({ ...filter, subnet: '10.0.0.0/16' }, 60);
    assert.deepEqual(await scanned(db, withSubnet.sql, withSubnet.params), [partitionName(locationTrafficTable(a!), day0)]);
    const allLocations = trafficSeriesSql({ ...filter, locationId: null }, 3600);
    assert.deepEqual(
      await scanned(db, allLocations.sql, allLocations.params),
      ids.map((id) => partitionName(locationTrafficTable(id), day0)).sort(),
      'every location, still one day',
    );

    // Retention: 7 days on, the first day's partitions go at every location.
    const later = await pm.run(new Date(day0 + 9 * DAY));
    for (const id of ids) assert.ok(later.dropped.includes(partitionName(locationTrafficTable(id), day0)));
  });
});
