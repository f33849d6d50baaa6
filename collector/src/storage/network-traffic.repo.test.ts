import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../log.js';
import { forEachDatabase } from '../testing/databases.js';
import type { Queryable } from './db.js';
import { foldTraffic, type FoldInput } from './traffic-fold.js';
import {
  addNetworkTraffic,
  ensureLocationTrafficTable,
  interLocationFlows,
  locationTotals,
  locationTrafficTable,
  networkPartitionedTables,
  topPairs,
  trafficSeries,
  trafficSeriesSql,
  type SeriesSource,
  type TrafficFilter,
} from './network-traffic.repo.js';
import { PartitionManager, partitionName, partitionsOf } from './partitions.js';

const DAY = 86_400_000;
const log = createLogger({ log: { level: 'silent' } });

/** The relations a plan reads (Seq Scan / Index Scan / Bitmap Heap Scan … on <name>). */
async function scanned(q: Queryable, sql: string, params: unknown[]): Promise<string[]> {
  const rows = await q.query<{ 'QUERY PLAN': string }>(`EXPLAIN (COSTS OFF) ${sql}`, params);
  const plan = rows.map((r) => r['QUERY PLAN']).join('\n');
  // network_nets (subnet ids, read by a subnet filter) is no time series: not counted.
  return [...plan.matchAll(/ on (network_\w*)/g)]
    .map((m) => m[1]!)
    .filter((t) => t !== 'network_nets' && !t.startsWith('network_nets_'))
    .sort();
}

/** Folds and adds traffic the way ingest does. */
async function add(q: Queryable, inputs: FoldInput[]): Promise<void> {
  await addNetworkTraffic(q, foldTraffic(inputs));
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
      [...ids.map(locationTrafficTable).sort(), 'network_traffic_minute', 'network_pairs_hour'],
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
        await add(db, [{ locationId: id, sensorId: 1, intervalStart: new Date(day + 60_000), flows }]);
        await add(db, [{ locationId: id, sensorId: 1, intervalStart: new Date(day + 60_000), flows }]);
      }
    }
    const filter = { from: new Date(day0), to: new Date(day0 + DAY), locationId: a!, subnet: null };
    for (const source of ['minute', 'hour', 'base'] as const) {
      assert.deepEqual(await trafficSeries(db, filter, 3600, source), [{ at: new Date(day0), packets: 4, bytes: 400 }], source);
    }
    assert.throws(() => trafficSeriesSql(filter, 300, 'hour'), /bucket of 300 s is no whole number of hours/);

    const { sql, params } = trafficSeriesSql(filter, 3600, 'base');
    assert.deepEqual(await scanned(db, sql, params), [partitionName(locationTrafficTable(a!), day0)], 'only site-a, only that day');
    const withSubnet = trafficSeriesSql({ ...filter, subnet: '10.0.0.0/16' }, 60);
    assert.deepEqual(await scanned(db, withSubnet.sql, withSubnet.params), [partitionName(locationTrafficTable(a!), day0)]);
    // The rollups prune the same way: one day partition (the location is the key's first column).
    const minute = trafficSeriesSql(filter, 60);
    assert.deepEqual(await scanned(db, minute.sql, minute.params), [partitionName('network_traffic_minute', day0)], 'minute totals, that day');
    const hourly = trafficSeriesSql({ ...filter, subnet: '10.0.0.0/16' }, 3600);
    assert.deepEqual(await scanned(db, hourly.sql, hourly.params), [partitionName('network_pairs_hour', day0)], 'hourly pairs, that day');
    const edges = trafficSeriesSql({ ...filter, from: new Date(day0 + 90_000), subnet: '10.0.0.0/16' }, 3600);
    assert.deepEqual(
      await scanned(db, edges.sql, edges.params),
      [partitionName('network_pairs_hour', day0), partitionName(locationTrafficTable(a!), day0)].sort(),
      "hourly pairs and the first hour's minutes",
    );
    const allLocations = trafficSeriesSql({ ...filter, locationId: null }, 3600, 'base');
    assert.deepEqual(
      await scanned(db, allLocations.sql, allLocations.params),
      ids.map((id) => partitionName(locationTrafficTable(id), day0)).sort(),
      'every location, still one day',
    );

    // Retention: 7 days on, the first day's partitions go at every location.
    const later = await pm.run(new Date(day0 + 9 * DAY));
    for (const id of ids) assert.ok(later.dropped.includes(partitionName(locationTrafficTable(id), day0)));
  });

  test('the rollups answer exactly what the base rows do: series, top pairs, totals, flows, for aligned and unaligned windows', async () => {
    const fresh = await ctx.fresh({ migrate: true });
    const db = fresh.db;
    const locs: number[] = [];
    for (const name of ['r-a', 'r-b']) {
      const [row] = await db.query<{ id: number }>('INSERT INTO locations (name) VALUES ($1) RETURNING id', [name]);
      locs.push(row!.id);
      await db.transaction((tx) => ensureLocationTrafficTable(tx, row!.id));
    }
    // Map 10.1.x to r-a and 10.2.x to r-b so inter-location flows exist.
    await db.query(
      `INSERT INTO network_subnets (subnet, state, location_id, confidence) VALUES ('10.1.0.0/24', 'learned', $1, 1), ('10.2.0.0/24', 'learned', $2, 1)`,
      locs,
    );
    const day0 = Date.UTC(2026, 4, 1);
    const pm = new PartitionManager({ db, log, ahead: 1, tables: await networkPartitionedTables(db, 30) });
    await pm.run(new Date(day0));
    // A deterministic spread: 3 sensors, 2 locations, minutes over 26 hours (two days), 12 pairs,
    // every flow added in several batches (sub-minute intervals fold into the same rows).
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31), seed % n);
    const nets = ['10.1.0.0/24', '10.2.0.0/24', '10.3.0.0/24', '192.0.2.0/24', '2001:db8::/64', 'other'];
    for (let batch = 0; batch < 12; batch++) {
      const inputs: FoldInput[] = [];
      for (let m = 0; m < 40; m++) {
        const flows = Array.from({ length: 1 + rnd(6) }, () => ({
          src: nets[rnd(nets.length)]!,
          dst: nets[rnd(nets.length)]!,
          packets: 1 + rnd(50),
          bytes: 60 + rnd(9000),
        }));
        inputs.push({ locationId: locs[rnd(2)]!, sensorId: 1 + rnd(3), intervalStart: new Date(day0 + rnd(26 * 60) * 60_000 + rnd(60) * 1000), flows });
      }
      await db.transaction((tx) => addNetworkTraffic(tx, foldTraffic(inputs)));
    }
    // The tables with their subnets as texts (they hold network_nets ids, sql/0020).
    const named = (table: string) =>
      `(SELECT t.*, sn.net AS src_net, dn.net AS dst_net FROM ${table} t JOIN network_nets sn ON sn.id = t.src_id JOIN network_nets dn ON dn.id = t.dst_id) AS named`;
    const baseRows = named('network_traffic');
    // The rollup tables equal the base rows' sums, row for row.
    const asText = async (sql: string) => (await db.query<{ r: string }>(sql)).map((x) => x.r);
    assert.deepEqual(
      await asText("SELECT concat_ws(',', location_id, minute, packets, bytes) AS r FROM network_traffic_minute ORDER BY location_id, minute"),
      await asText(
        "SELECT concat_ws(',', location_id, minute, sum(packets), sum(bytes)) AS r FROM network_traffic GROUP BY location_id, minute ORDER BY location_id, minute",
      ),
    );
    assert.deepEqual(
      await asText(`SELECT concat_ws(',', location_id, hour, src_net, dst_net, packets, bytes) AS r FROM ${named('network_pairs_hour')} ORDER BY 1`),
      await asText(
        `SELECT concat_ws(',', location_id, date_trunc('hour', minute AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', src_net, dst_net, sum(packets), sum(bytes)) AS r
           FROM ${baseRows} GROUP BY location_id, date_trunc('hour', minute AT TIME ZONE 'UTC'), src_net, dst_net ORDER BY 1`,
      ),
    );
    assert.ok((await db.query('SELECT 1 FROM network_traffic_minute')).length > 100, 'enough minutes to mean something');

    const windows: [number, number][] = [
      [day0, day0 + 86_400_000],
      [day0 + 17 * 60_000, day0 + 25 * 3_600_000 + 11 * 60_000],
      [day0 + 5 * 60_000, day0 + 50 * 60_000],
      [day0 + 3_600_000, day0 + 3 * 3_600_000 + 30_000],
    ];
    for (const [from, to] of windows) {
      for (const locationId of [locs[0]!, null]) {
        for (const subnet of [null, '10.1.0.0/16']) {
          const f: TrafficFilter = { from: new Date(from), to: new Date(to), locationId, subnet };
          const label = JSON.stringify({ from: new Date(from), to: new Date(to), locationId, subnet });
          for (const bucket of [60, 300, 3600, 21_600]) {
            const base = await trafficSeries(db, f, bucket, 'base');
            const sources: SeriesSource[] = [...(subnet === null ? ['minute' as const] : []), ...(bucket % 3600 === 0 ? ['hour' as const] : [])];
            for (const source of sources) assert.deepEqual(await trafficSeries(db, f, bucket, source), base, `${label} bucket ${bucket} from ${source}`);
          }
          const where = [`minute >= $1 AND minute < $2`, ...(locationId === null ? [] : ['location_id = $3'])].join(' AND ');
          const rows = await db.query<{ src: string; dst: string; packets: number; bytes: number }>(
            `SELECT src_net AS src, dst_net AS dst, sum(packets)::int8 AS packets, sum(bytes)::int8 AS bytes FROM ${baseRows} WHERE ${where}
              GROUP BY 1, 2 ORDER BY bytes DESC, 1, 2 LIMIT 5`,
            locationId === null ? [f.from, f.to] : [f.from, f.to, locationId],
          );
          if (subnet !== null) {
            // The subnet filter (network_nets ids overlapping the CIDR) against the texts themselves.
            const overlap = (c: string) => `CASE WHEN ${c} <> 'other' THEN ${c}::cidr && '${subnet}'::cidr ELSE false END`;
            const [want] = await db.query<{ bytes: number | null }>(
              `SELECT sum(bytes)::int8 AS bytes FROM ${baseRows} WHERE ${where} AND (${overlap('src_net')} OR ${overlap('dst_net')})`,
              locationId === null ? [f.from, f.to] : [f.from, f.to, locationId],
            );
            const got = (await trafficSeries(db, f, 60, 'base')).reduce((n, x) => n + x.bytes, 0);
            assert.equal(got, want?.bytes ?? 0, `${label} subnet filter`);
            assert.ok(got > 0, `${label} the subnet filter matches some rows`);
          }
          if (subnet === null) {
            assert.deepEqual(
              (await topPairs(db, f, 5)).map((p) => ({ src: p.src, dst: p.dst, packets: p.packets, bytes: p.bytes })),
              rows,
              `${label} top pairs`,
            );
          }
        }
      }
      const totals = await db.query<{ locationId: number; packets: number; bytes: number }>(
        'SELECT location_id AS "locationId", sum(packets)::int8 AS packets, sum(bytes)::int8 AS bytes FROM network_traffic WHERE minute >= $1 AND minute < $2 GROUP BY 1',
        [new Date(from), new Date(to)],
      );
      const byId = (a: { locationId: number }, b: { locationId: number }) => a.locationId - b.locationId;
      assert.deepEqual((await locationTotals(db, new Date(from), new Date(to))).sort(byId), totals.sort(byId));
      const flows = await interLocationFlows(db, new Date(from), new Date(to));
      const [expected] = await db.query<{ bytes: number | null }>(
        `SELECT sum(bytes)::int8 AS bytes FROM ${baseRows} WHERE minute >= $1 AND minute < $2
            AND ((src_net = '10.1.0.0/24' AND dst_net = '10.2.0.0/24' AND location_id = $3) OR (src_net = '10.2.0.0/24' AND dst_net = '10.1.0.0/24' AND location_id = $4))`,
        [new Date(from), new Date(to), locs[0], locs[1]],
      );
      assert.equal(
        flows.reduce((n, x) => n + x.bytes, 0),
        expected?.bytes ?? 0,
        'inter-location flows',
      );
    }
    await fresh.drop();
  });
});
