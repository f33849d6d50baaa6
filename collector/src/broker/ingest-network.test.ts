/**
 * The network view fed by real agent traffic messages (CBOR, through Ingest), on PGlite and
 * PostgreSQL: two locations with their own subnets, flows between them and to a shared outside
 * subnet → the map learns each site's subnets and marks the shared one external; a replay adds
 * nothing; totals and inter-location flows; pins win and unpinning restores learning; a subnet
 * that moves is reported; the location cache empties and refills; bad input names the field.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { encodeMessage, Sequencer, topics, type TrafficMessage } from '@pcapmesh/shared/wire';
import { IngestStats } from '../domain/ingest-stats.js';
import { CACHE_KEYS } from '../domain/network/location-cache.js';
import { flow, networkHarness } from '../domain/network/network.fixture.js';
import { traffic } from '../domain/sensors/sensors.fixture.js';
import { forEachDatabase } from '../testing/databases.js';
import { Ingest } from './ingest.js';

const DAY = 86_400_000;

forEachDatabase('network view from traffic ingest', (ctx) => {
  test('learns sites and the external subnet, totals, replay, pins, moves, cache, bad input', async () => {
    const start = new Date(Date.UTC(2026, 2, 10, 12, 0, 30));
    const h = networkHarness(ctx.db, { start });
    const { sensors, network, clock } = h;
    await sensors.register({ name: 'a1', location: 'site-a' });
    await sensors.register({ name: 'b1', location: 'site-b' });
    await sensors.register({ name: 'nowhere' });
    const stats = new IngestStats();
    const ingest = new Ingest(sensors, stats, pino({ level: 'silent' }));
    const seqs = new Map<string, Sequencer>();
    const send = async (sensor: string, intervalStart: number, flows: TrafficMessage['flows'], replay?: Uint8Array) => {
      let s = seqs.get(sensor);
      if (!s) seqs.set(sensor, (s = new Sequencer(1)));
      const payload = replay ?? encodeMessage('traffic', s.stamp('traffic', { intervalStart, intervalSeconds: 60, flows }));
      await ingest.handle(topics.sensor(sensor, 'traffic'), payload);
      return payload;
    };
    const minute = Date.UTC(2026, 2, 10, 12, 0);
    const aMsg = await send('a1', minute, [
      flow('10.1.1.0/24', '10.1.2.0/24', 1000),
      flow('10.1.1.7/24', '8.8.8.0/24', 500), // host bits: masked at ingest
      flow('10.1.1.0/24', '10.2.1.0/24', 300),
    ]);
    await send('b1', minute, [flow('10.2.1.0/24', '8.8.8.0/24', 400), flow('10.1.1.0/24', '10.2.1.0/24', 300), flow('10.2.1.0/24', '10.2.2.0/24', 700)]);
    await send('b1', minute + 30_000, [flow('10.2.1.0/24', '10.2.2.0/24', 50), flow('other', '10.2.2.0/24', 10)]); // same minute: adds up
    await send('nowhere', minute, [flow('172.16.0.0/24', '8.8.8.0/24', 999)]);
    await send('a1', 0, [], aMsg); // replay of a1's message
    assert.equal(stats.snapshot().accepted.traffic, 4);
    assert.equal(stats.snapshot().rejected.duplicate, 1, 'the replay');

    const report = await network.learn();
    const map = Object.fromEntries((await network.subnets()).map((s) => [s.subnet, [s.state, s.location]]));
    assert.deepEqual(map, {
      '10.1.1.0/24': ['learned', 'site-a'],
      '10.1.2.0/24': ['learned', 'site-a'],
      '10.2.1.0/24': ['learned', 'site-b'],
      '10.2.2.0/24': ['learned', 'site-b'],
      '8.8.8.0/24': ['external', null],
    });
    assert.equal(report.events.length, 5);
    assert.deepEqual(
      h.subnetEvents.map((e) => e.change),
      ['learned', 'learned', 'learned', 'learned', 'learned'],
    );
    const siteA = (await network.subnets({ location: 'site-a' })).find((s) => s.subnet === '10.1.1.0/24')!;
    assert.equal(siteA.learned.confidence, 0.857, '1,800 of 2,100 bytes seen at site-a');
    assert.equal(siteA.bytes, 2100);
    assert.equal(siteA.locations, 2);

    // Totals: the replay added nothing; the location-less sensor adds nothing.
    const window = { from: new Date(minute), to: new Date(minute + 3_600_000) };
    const a = await network.traffic({ ...window, location: 'site-a' });
    assert.deepEqual(a.totals, { packets: 18, bytes: 1800 });
    assert.equal(a.bucketSeconds, 60);
    assert.deepEqual(a.series, [{ at: new Date(minute).toISOString(), packets: 18, bytes: 1800 }]);
    assert.deepEqual(a.top[0], { src: '10.1.1.0/24', dst: '10.1.2.0/24', srcLocation: 'site-a', dstLocation: 'site-a', packets: 10, bytes: 1000 });
    assert.deepEqual((await network.traffic({ ...window, location: 'site-b' })).totals.bytes, 1460);
    assert.equal((await network.traffic({ ...window, subnet: '8.8.8.0/24' })).totals.bytes, 900);
    assert.equal((await network.traffic({ ...window, subnet: '10.2.0.0/16' })).totals.bytes, 300 + 1460);
    const locs = await network.locations(window);
    assert.deepEqual(
      locs.locations.map((l) => [l.name, l.sensors, l.subnets, l.bytes]),
      [
        ['site-a', ['a1'], 2, 1800],
        ['site-b', ['b1'], 2, 1460],
      ],
    );
    assert.deepEqual(locs.flows, [{ from: 'site-a', to: 'site-b', packets: 3, bytes: 300 }]);

    // A pin wins over learning, and survives a learning pass; unpinning restores the verdict.
    const pinned = await network.pin('8.8.8.0/24', 'site-b', { actor: 'admin' });
    assert.deepEqual([pinned.state, pinned.location, pinned.learned.state], ['pinned', 'site-b', 'external']);
    await network.learn();
    assert.equal((await network.subnets()).find((s) => s.subnet === '8.8.8.0/24')!.location, 'site-b');
    await network.unpin('8.8.8.0/24', { actor: 'admin' });
    assert.deepEqual(
      (await network.subnets()).filter((s) => s.subnet === '8.8.8.0/24').map((s) => [s.state, s.location]),
      [['external', null]],
    );
    await assert.rejects(network.unpin('8.8.8.0/24', { actor: 'admin' }), { code: 'not_found' });
    await assert.rejects(network.pin('9.9.9.0/24', 'atlantis', { actor: 'admin' }), { code: 'not_found', message: 'location atlantis not found' });
    const pinEvents = h.subnetEvents.slice(5).map((e) => [e.change, e.subnet, e.location, e.previousLocation]);
    assert.deepEqual(pinEvents, [
      ['pinned', '8.8.8.0/24', 'site-b', null],
      ['unpinned', '8.8.8.0/24', null, 'site-b'],
    ]);
    const audit = await h.audit.list({ action: 'network.', limit: 10 });
    assert.deepEqual(audit.entries.map((e) => e.action).sort(), ['network.subnet.pin', 'network.subnet.unpin']);

    // Eight days on, site-a's evidence is forgotten and 10.1.2.0/24 is seen at site-b only: it moves.
    clock.now = new Date(start.getTime() + 8 * DAY);
    await send('b1', clock.now.getTime(), [flow('10.1.2.0/24', '10.2.2.0/24', 100)]);
    const moved = await network.learn();
    assert.deepEqual(
      moved.events.map((e) => [e.change, e.subnet, e.location, e.previousLocation]),
      [['moved', '10.1.2.0/24', 'site-b', 'site-a']],
    );

    // The location cache: filled by reads, emptied by clear-cache (audited), refilled by the next read.
    await network.locations();
    await network.subnets();
    assert.equal(await network.cache.has(CACHE_KEYS.locations), true);
    assert.equal(await network.clearCache({ actor: 'admin' }), 2);
    assert.equal(await network.cache.has(CACHE_KEYS.locations), false);
    assert.equal(await network.cache.has(CACHE_KEYS.subnets), false);
    assert.equal((await network.locations()).locations.length, 2);
    assert.equal(await network.cache.has(CACHE_KEYS.locations), true);
    assert.equal((await h.audit.list({ action: 'network.cache.clear', limit: 1 })).entries.length, 1);

    // Coordinates.
    await network.updateLocation('site-a', { latitude: 52.37, longitude: 4.89, description: 'Amsterdam DC' }, { actor: 'admin' });
    const withCoords = (await network.locations()).locations.find((l) => l.name === 'site-a')!;
    assert.deepEqual([withCoords.latitude, withCoords.longitude, withCoords.description], [52.37, 4.89, 'Amsterdam DC']);
    await network.updateLocation('site-a', { description: null }, { actor: 'admin' });
    const cleared = (await network.locations()).locations.find((l) => l.name === 'site-a')!;
    assert.deepEqual([cleared.latitude, cleared.description], [52.37, null], 'only the given fields change');

    // Bad input names the field.
    await assert.rejects(network.updateLocation('site-a', { latitude: 91 }, { actor: 'admin' }), { code: 'invalid', message: /^latitude:/ });
    await assert.rejects(network.updateLocation('site-a', { longitude: -180.5 }, { actor: 'admin' }), { code: 'invalid', message: /^longitude:/ });
    await assert.rejects(network.traffic({ from: new Date(minute + 1), to: new Date(minute) }), { code: 'invalid', message: 'from: must not be after to' });
    await assert.rejects(network.traffic({ from: new Date(minute), to: new Date(minute + 32 * DAY) }), {
      code: 'invalid',
      message: /^from: .*network.maxWindowDays \(31 days\)/,
    });
    await assert.rejects(network.locations({ from: new Date(minute + 1), to: new Date(minute) }), { code: 'invalid' });
    await assert.rejects(network.traffic({ ...window, location: 'atlantis' }), { code: 'not_found' });
    await assert.rejects(network.traffic({ from: new Date(minute), to: new Date(minute + 30 * DAY), bucketSeconds: 60 }), {
      code: 'invalid',
      message: /^bucket:/,
    });
  });

  test("a location's table made in a transaction that rolled back is made again by the next message", async () => {
    const h = networkHarness(ctx.db);
    await h.sensors.register({ name: 'c1', location: 'site-c' });
    const [row] = await ctx.db.query<{ id: number; locationId: number }>('SELECT id, location_id AS "locationId" FROM sensors WHERE name = $1', ['c1']);
    const now = Date.now();
    await assert.rejects(
      ctx.db.transaction(async (tx) => {
        await h.network.recordTraffic(tx, [
          { sensorId: row!.id, locationId: row!.locationId, intervalStart: new Date(now), part: '', flows: [flow('10.3.0.0/24', '10.3.1.0/24', 100)] },
        ]);
        throw new Error('rolled back');
      }),
      /rolled back/,
    );
    assert.equal(await h.sensors.ingestTraffic('c1', traffic(1, now, [flow('10.3.0.0/24', '10.3.1.0/24', 700)])), 'applied');
    const view = await h.network.traffic({ location: 'site-c', from: new Date(now - 120_000), to: new Date(now + 60_000) });
    assert.equal(view.totals.bytes, 700);
    // The subnet ids the rolled-back transaction made went with it: the pair is stored under ids that exist.
    assert.deepEqual(
      view.top.map((p) => [p.src, p.dst, p.bytes]),
      [['10.3.0.0/24', '10.3.1.0/24', 700]],
    );
  });

  test('traffic of several sensors is stored in one transaction: one bad message fails (does not acknowledge) all of them; resent, each is stored once', async () => {
    const fresh = await ctx.fresh({ migrate: true });
    const h = networkHarness(fresh.db);
    const stats = new IngestStats();
    const ingest = new Ingest(h.sensors, stats, pino({ level: 'silent' }));
    const names = ['t1', 't2', 't3', 't4'];
    for (const name of names) await h.sensors.register({ name, location: 'site-t' });
    const now = Date.now();
    const minute = Math.floor(now / 60_000) * 60_000;
    const payloads = names.map((name, i) =>
      encodeMessage(
        'traffic',
        traffic(1, minute, [flow(`10.9.${i}.0/24`, '10.9.100.0/24', 1000 + i), flow('10.9.100.0/24', `10.9.${i}.0/24`, i === 2 ? 666 : 500)]),
      ),
    );
    const storedRows = async () => (await fresh.db.query<{ n: number }>('SELECT count(*)::int AS n FROM network_traffic'))[0]!.n;
    // A real storage failure caused by one message's row (t3's 666 bytes) fails its whole batch.
    await fresh.db.exec('ALTER TABLE network_traffic ADD CONSTRAINT test_no_666 CHECK (bytes <> 666)');
    const sendAll = (extra: [string, Uint8Array][] = []) =>
      Promise.all([...names.map((n, i): [string, Uint8Array] => [n, payloads[i]!]), ...extra].map(([n, p]) => ingest.handle(topics.sensor(n, 'traffic'), p)));
    assert.deepEqual(await sendAll(), ['retry', 'retry', 'retry', 'retry'], 'no message of the failed batch is acknowledged');
    assert.equal(stats.snapshot().rejected['store-error'], 4);
    assert.equal(await storedRows(), 0, 'nothing of the failed batch is stored');

    await fresh.db.exec('ALTER TABLE network_traffic DROP CONSTRAINT test_no_666');
    // The resend, with an unknown sensor and a replay in the same batch: each gets its own outcome.
    assert.deepEqual(await sendAll([['ghost', payloads[0]!]]), ['done', 'done', 'done', 'done', 'done']);
    assert.deepEqual([stats.snapshot().accepted.traffic, stats.snapshot().rejected['unknown-sensor']], [4, 1]);
    assert.deepEqual(await sendAll(), ['done', 'done', 'done', 'done']);
    assert.equal(stats.snapshot().rejected.duplicate, 4, 'the second resend is a replay');
    assert.equal(await storedRows(), 8);
    // Same sensor, minute and part again with a flow set that is partly new: only the new flow counts.
    const partly = encodeMessage('traffic', traffic(2, minute, [flow('10.9.0.0/24', '10.9.100.0/24', 1000), flow('10.9.0.0/24', '10.9.200.0/24', 77)]));
    assert.equal(await ingest.handle(topics.sensor('t1', 'traffic'), partly), 'done');
    assert.equal(stats.snapshot().accepted.traffic, 5);
    const view = await h.network.traffic({ location: 'site-t', from: new Date(minute), to: new Date(minute + 60_000) });
    assert.equal(view.totals.bytes, 1000 + 1001 + 1002 + 1003 + 500 * 3 + 666 + 77);
    const [seen] = await fresh.db.query<{ n: number }>('SELECT count(*)::int AS n FROM sensors WHERE last_seq >= 1 AND last_seen IS NOT NULL');
    assert.equal(seen!.n, 4, 'every sensor of the batch was touched');
    await fresh.drop();
  });

  test("locate (the jobs planner's SubnetLocator): the most specific mapped subnet containing a network decides; external and unknown give null", async () => {
    const fresh = await ctx.fresh({ migrate: true });
    const h = networkHarness(fresh.db);
    await h.sensors.register({ name: 'la', location: 'site-la' });
    await h.sensors.register({ name: 'lb', location: 'site-lb' });
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    await h.sensors.ingestTraffic('la', traffic(1, minute, [flow('10.5.1.0/24', '198.51.100.0/24', 900)]));
    await h.sensors.ingestTraffic('lb', traffic(1, minute, [flow('10.6.1.0/24', '198.51.100.0/24', 900)]));
    await h.network.learn();
    const nets = ['10.5.1.7/32', '10.6.1.0/24', '198.51.100.1/32', '192.0.2.1/32', '10.5.0.0/16'];
    const where = async () => Object.fromEntries(await h.network.locate(nets));
    assert.deepEqual(await where(), {
      '10.5.1.7/32': 'site-la',
      '10.6.1.0/24': 'site-lb',
      '198.51.100.1/32': null, // seen at both: external
      '192.0.2.1/32': null, // unknown to the map
      '10.5.0.0/16': null, // wider than any mapped subnet
    });
    // A pin on a wider network places what it contains unless a more specific subnet says otherwise.
    await h.network.pin('10.5.0.0/16', 'site-lb', { actor: 'admin' });
    await h.network.pin('198.51.100.0/24', 'site-la', { actor: 'admin' });
    assert.deepEqual(await where(), {
      '10.5.1.7/32': 'site-la',
      '10.6.1.0/24': 'site-lb',
      '198.51.100.1/32': 'site-la',
      '192.0.2.1/32': null,
      '10.5.0.0/16': 'site-lb',
    });
    await fresh.drop();
  });
  test('a replay racing its original in another transaction fails on the key (plain insert) and counts nothing twice; its resend stores nothing', async () => {
    const fresh = await ctx.fresh({ migrate: true });
    const h = networkHarness(fresh.db);
    await h.sensors.register({ name: 'r1', location: 'site-r' });
    const [row] = await fresh.db.query<{ id: number; locationId: number }>('SELECT id, location_id AS "locationId" FROM sensors WHERE name = $1', ['r1']);
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    // The location's table and the subnets' ids exist first (made under locks of their own).
    assert.equal(
      await h.sensors.ingestTraffic('r1', traffic(1, minute - 60_000, [flow('10.8.0.0/24', '10.8.1.0/24', 10), flow('10.8.2.0/24', '10.8.1.0/24', 10)])),
      'applied',
    );
    const msg = {
      sensorId: row!.id,
      locationId: row!.locationId,
      intervalStart: new Date(minute),
      part: 'p',
      flows: [flow('10.8.0.0/24', '10.8.1.0/24', 300), flow('10.8.1.0/24', '10.8.2.0/24', 40)],
    };
    const record = () => fresh.db.transaction(async (tx) => (await h.network.recordTraffic(tx, [msg])).stored);
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let recorded!: () => void;
    const firstRecorded = new Promise<void>((resolve) => (recorded = resolve));
    const first = fresh.db.transaction(async (tx) => {
      const r = await h.network.recordTraffic(tx, [msg]);
      recorded();
      await held;
      return r.stored;
    });
    if (ctx.kind === 'pglite') {
      // One connection: the transactions run one after the other, and the second sees the rows.
      release();
      assert.deepEqual([await first, await record()], [[2], [0]]);
    } else {
      await firstRecorded;
      const second = record();
      const outcome = second.then(
        () => 'stored',
        (err: unknown) => String(err),
      );
      // The second's insert waits on the first's uncommitted key (a lock wait), then the first commits.
      for (let i = 0; i < 600; i++) {
        const waiting = await fresh.db.query("SELECT 1 FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'");
        if (waiting.length > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      release();
      assert.deepEqual(await first, [2]);
      assert.match(await outcome, /duplicate key/);
      assert.deepEqual(await record(), [0], 'the resend finds the rows');
    }
    const view = await h.network.traffic({ location: 'site-r', from: new Date(minute), to: new Date(minute + 60_000) });
    assert.equal(view.totals.bytes, 340, 'each flow counted once');
    const [rows] = await fresh.db.query<{ n: number }>('SELECT count(*)::int AS n FROM network_traffic WHERE minute = $1', [new Date(minute)]);
    assert.equal(rows!.n, 2);
    await fresh.drop();
  });
});
