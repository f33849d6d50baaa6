import { test } from 'node:test';
import assert from 'node:assert/strict';
import { forEachDatabase } from '../testing/databases.js';
import { ensureLocationTrafficTable } from './network-traffic.repo.js';
import { containsPattern, reportedNets, searchLocations, searchSensors, sightingsOf } from './search.repo.js';

forEachDatabase('search repo', (ctx) => {
  test('substring matches escape wildcards; reported nets and sightings over a window', async () => {
    const db = ctx.db;
    assert.equal(containsPattern('a_b%c\\'), '%a\\_b\\%c\\\\%');
    await db.query(`INSERT INTO locations (name, description) VALUES ('site_1', 'north hall'), ('site-2', NULL)`);
    await db.query(
      `INSERT INTO sensors (name, secret_hash, location_id, hostname) VALUES
         ('s1', 'x', (SELECT id FROM locations WHERE name = 'site_1'), 'Probe-One'), ('s2', 'x', (SELECT id FROM locations WHERE name = 'site-2'), NULL)`,
    );
    assert.deepEqual(
      (await searchSensors(db, 'probe', 10)).map((s) => s.name),
      ['s1'],
    );
    assert.deepEqual(
      (await searchSensors(db, 'site_', 10)).map((s) => s.name),
      ['s1'],
      '_ is no wildcard',
    );
    assert.deepEqual(await searchLocations(db, 'NORTH', 10), [{ name: 'site_1', description: 'north hall', sensors: 1 }]);
    const t0 = Date.UTC(2026, 4, 1, 10);
    await db.query(
      `INSERT INTO traffic_samples (sensor_id, interval_start, interval_seconds, src_net, dst_net, packets, bytes, seq)
       SELECT s.id, v.at, 60, v.src, v.dst, 1, v.bytes, 1 FROM sensors s,
         (VALUES ('s1', $1::timestamptz, '10.0.0.0/24', 'junk', 100), ('s1', $2::timestamptz, '10.0.1.0/24', '10.0.0.0/24', 50),
                 ('s2', $1::timestamptz, '10.0.0.0/24', 'other', 7)) AS v(sensor, at, src, dst, bytes)
        WHERE s.name = v.sensor`,
      [new Date(t0), new Date(t0 + 120_000)],
    );
    const window = [new Date(t0), new Date(t0 + 3_600_000)] as const;
    assert.deepEqual((await reportedNets(db, ...window)).sort(), ['10.0.0.0/24', '10.0.1.0/24', 'junk', 'other']);
    const seen = await sightingsOf(db, ['10.0.0.0/24'], ...window);
    assert.deepEqual(
      seen.map((s) => [s.sensor, s.location, s.bytes, s.firstSeen.getTime(), s.lastSeen.getTime()]),
      [
        ['s1', 'site_1', 150, t0, t0 + 180_000],
        ['s2', 'site-2', 7, t0, t0 + 60_000],
      ],
    );
    assert.deepEqual(await sightingsOf(db, ['10.0.0.0/24'], new Date(t0 + 3_600_000), new Date(t0 + 7_200_000)), []);

    // Located sensors' traffic is in network_traffic (one row per minute, sensor, part and pair, since
    // sql/0018); a (sensor, minute) that traffic_samples also holds (stored twice before) counts once.
    const t1 = t0 + 86_400_000;
    await db.transaction(async (tx) => {
      const [loc] = await tx.query<{ id: number }>(`SELECT id FROM locations WHERE name = 'site-2'`);
      await ensureLocationTrafficTable(tx, loc!.id);
      // Subnets as network_nets ids (sql/0020); one id no row uses must not be reported.
      await tx.query(`INSERT INTO network_nets (net) VALUES ('10.0.0.0/24'), ('10.0.2.0/24'), ('10.9.0.0/24'), ('10.7.0.0/24')`);
      await tx.query(
        `INSERT INTO network_traffic (location_id, minute, sensor_id, part, src_id, dst_id, packets, bytes)
         SELECT $1, v.at, s.id, v.part, sn.id, dn.id, 1, v.bytes FROM sensors s,
           (VALUES ($2::timestamptz, 'a', '10.0.0.0/24', 30), ($2::timestamptz, 'b', '10.0.0.0/24', 12), ($3::timestamptz, 'a', '10.0.2.0/24', 5)) AS v(at, part, src, bytes)
           JOIN network_nets sn ON sn.net = v.src JOIN network_nets dn ON dn.net = '10.9.0.0/24'
          WHERE s.name = 's2'`,
        [loc!.id, new Date(t1), new Date(t1 + 60_000)],
      );
      await tx.query(
        `INSERT INTO traffic_samples (sensor_id, interval_start, interval_seconds, src_net, dst_net, packets, bytes, seq)
         SELECT id, $1, 60, '10.0.0.0/24', '10.9.0.0/24', 1, 42, 1 FROM sensors WHERE name = 's2'`,
        [new Date(t1)],
      );
    });
    const day2 = [new Date(t1), new Date(t1 + 3_600_000)] as const;
    assert.deepEqual((await reportedNets(db, ...day2)).sort(), ['10.0.0.0/24', '10.0.2.0/24', '10.9.0.0/24']);
    assert.deepEqual(
      (await sightingsOf(db, ['10.0.0.0/24'], ...day2)).map((s) => [s.sensor, s.location, s.bytes, s.firstSeen.getTime(), s.lastSeen.getTime()]),
      [['s2', 'site-2', 42, t1, t1 + 60_000]],
    );
  });
});
