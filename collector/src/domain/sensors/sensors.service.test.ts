import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hash as argon2Hash } from '@node-rs/argon2';
import { createLogger } from '../../log.js';
import { LegacyVerifier, secretHashCounters } from '../accounts/machine-secrets.js';
import type { Db } from '../../storage/db.js';
import { PartitionManager, partitionedTables } from '../../storage/partitions.js';
import { forEachDatabase } from '../../testing/databases.js';
import { isDomainError } from '../errors.js';
import { birth, health, pcap, serviceHarness, traffic, uniqueName, will } from './sensors.fixture.js';

forEachDatabase('SensorService', (ctx) => {
  test('register, verify, rotate; bad and duplicate names refused', async () => {
    const { sensors } = serviceHarness(ctx.db);
    const name = uniqueName();
    const { sensor, secret } = await sensors.register({ name, location: 'lab' });
    assert.equal(sensor.name, name);
    assert.equal(sensor.status, 'unknown');
    assert.equal(sensor.location, 'lab');
    assert.match(secret, /^[A-Za-z0-9_-]{43}$/, '32 random bytes, base64url');
    assert.equal(await sensors.verifySecret(name, secret), true);
    assert.equal(await sensors.verifySecret(name, secret + 'x'), false);
    assert.equal(await sensors.verifySecret('no-such-sensor', secret), false);
    const [row] = await ctx.db.query<{ h: string }>('SELECT secret_hash AS h FROM sensors WHERE name = $1', [name]);
    assert.match(row!.h, /^sha256:[0-9a-f]{64}$/, 'a random secret is stored as its SHA-256, not a password hash');
    assert.ok(!row!.h.includes(secret));

    const rotated = await sensors.rotateSecret(name);
    const [rotatedRow] = await ctx.db.query<{ h: string }>('SELECT secret_hash AS h FROM sensors WHERE name = $1', [name]);
    assert.match(rotatedRow!.h, /^sha256:[0-9a-f]{64}$/);
    assert.notEqual(rotated, secret);
    assert.equal(await sensors.verifySecret(name, secret), false, 'old secret invalid at once');
    assert.equal(await sensors.verifySecret(name, rotated), true);

    await assert.rejects(sensors.register({ name }), (err) => isDomainError(err, 'conflict') && /already exists/.test(err.message));
    await assert.rejects(sensors.register({ name: 'Bad Name' }), (err) => isDomainError(err, 'invalid') && /Bad Name/.test(err.message));
    await assert.rejects(sensors.rotateSecret('no-such-sensor'), (err) => isDomainError(err, 'not_found'));
    await assert.rejects(sensors.get('no-such-sensor'), (err) => isDomainError(err, 'not_found'));
  });

  test('secrets cost no argon2; a legacy argon2 hash verifies once and is rewritten as SHA-256', async () => {
    // A clock of the test's own: the budget is per second, and three argon2 checks on a loaded
    // machine can take longer than one.
    let clock = 1_000_000;
    const legacy = new LegacyVerifier(2, () => clock);
    const { sensors } = serviceHarness(ctx.db, { legacy });
    const name = uniqueName();
    await sensors.register({ name });
    const before = secretHashCounters.argon2;
    for (let i = 0; i < 50; i += 1) assert.equal(await sensors.verifySecret(name, `wrong-${i}`), false);
    assert.equal(await sensors.verifySecret('no-such-sensor', 'x'), false);
    assert.equal(secretHashCounters.argon2, before, 'wrong secrets and unknown names: no argon2');

    const old = 'an-old-secret-from-before-the-upgrade-0123456';
    await ctx.db.query('UPDATE sensors SET secret_hash = $2 WHERE name = $1', [name, await argon2Hash(old)]);
    assert.equal(await sensors.verifySecret(name, 'wrong'), false);
    assert.equal(await sensors.verifySecret(name, 'wrong again'), false);
    assert.equal(await sensors.verifySecret(name, old), false, 'over the legacy budget (2 a second): refused unchecked');
    assert.equal(secretHashCounters.argon2, before + 2);
    clock += 1_050;
    assert.equal(await sensors.verifySecret(name, old), true);
    const [row] = await ctx.db.query<{ h: string }>('SELECT secret_hash AS h FROM sensors WHERE name = $1', [name]);
    assert.match(row!.h, /^sha256:[0-9a-f]{64}$/, 'rewritten after its first successful use');
    assert.equal(await sensors.verifySecret(name, old), true);
    assert.equal(secretHashCounters.argon2, before + 3, 'later checks are SHA-256 only');
  });

  test('bdSeq rule: a stale will delivered late does not flip a reconnected sensor offline', async () => {
    const { sensors, emitted } = serviceHarness(ctx.db);
    const name = uniqueName();
    await sensors.register({ name });
    assert.equal(
      await sensors.ingestState(name, birth(1, 10, { location: 'dc-1', interfaces: [{ name: 'eth0', managed: true, directory: '/data/pcap' }] })),
      'applied',
    );
    assert.equal((await sensors.status(name)).status, 'online');
    // The agent is killed and restarts before its will is delivered: birth with bdSeq 2 first.
    assert.equal(await sensors.ingestState(name, birth(2, 20)), 'applied');
    assert.equal(await sensors.ingestState(name, will(1, 10)), 'stale');
    assert.equal((await sensors.status(name)).status, 'online');
    // The will of the current session counts.
    assert.equal(await sensors.ingestState(name, will(2, 20)), 'applied');
    const status = await sensors.status(name);
    assert.equal(status.status, 'offline');
    assert.equal(status.reason, 'last will');
    // A replayed birth (same session, old seq) changes nothing.
    assert.equal(await sensors.ingestState(name, birth(2, 20)), 'duplicate');
    assert.equal((await sensors.status(name)).status, 'offline');

    const history = await sensors.activity({ limit: 10, sensor: name });
    assert.deepEqual(
      history.map((h) => [h.from, h.to, h.reason]),
      [
        ['online', 'offline', 'last will'],
        ['unknown', 'online', 'birth'],
      ],
    );
    const statusEvents = emitted.filter((e) => e.name === 'sensor.status').map((e) => e.event);
    assert.deepEqual(
      statusEvents.map((e) => e.type === 'sensor.status' && [e.sensor, e.previous, e.status, e.reason]),
      [
        [name, 'unknown', 'online', 'birth'],
        [name, 'online', 'offline', 'last will'],
      ],
    );
    const view = await sensors.get(name);
    assert.equal(view.location, 'dc-1');
    assert.equal(view.version, '0.1.0');
    assert.deepEqual(
      (await sensors.devices(name)).map((d) => [d.name, d.managed, d.status]),
      [['eth0', true, 'unknown']],
    );
  });

  test('heartbeat timeout marks a silent sensor offline, not before', async () => {
    const t0 = new Date('2026-03-01T10:00:00Z');
    const h = serviceHarness(ctx.db, { heartbeatTimeoutSeconds: 30, start: t0 });
    const name = uniqueName();
    await h.sensors.register({ name });
    await h.sensors.ingestState(name, birth(1, 1));
    h.clock.now = new Date(t0.getTime() + 20_000);
    await h.sensors.ingestHealth(name, health(2, h.clock.now.getTime(), { captures: [] }));
    h.clock.now = new Date(t0.getTime() + 45_000);
    assert.ok(!(await h.sensors.sweepHeartbeats()).includes(name), 'seen 25 s ago: still online');
    assert.equal((await h.sensors.status(name)).status, 'online');
    h.clock.now = new Date(t0.getTime() + 51_000);
    assert.ok((await h.sensors.sweepHeartbeats()).includes(name));
    const status = await h.sensors.status(name);
    assert.equal(status.status, 'offline');
    assert.equal(status.reason, 'heartbeat timeout');
    assert.equal(status.since, h.clock.now.toISOString());
    assert.ok(!(await h.sensors.sweepHeartbeats()).includes(name), 'only once');
    const [last] = await h.sensors.activity({ limit: 1, sensor: name });
    assert.deepEqual([last?.from, last?.to, last?.reason], ['online', 'offline', 'heartbeat timeout']);
    // Health again: online with a reason.
    h.clock.now = new Date(t0.getTime() + 60_000);
    await h.sensors.ingestHealth(name, health(3, h.clock.now.getTime(), { captures: [] }));
    assert.deepEqual(await h.sensors.status(name).then((s) => [s.status, s.reason]), ['online', 'health received']);
  });

  test('a sweep right after start gives every sensor one full timeout', async () => {
    const t0 = new Date('2026-03-02T10:00:00Z');
    const first = serviceHarness(ctx.db, { start: t0 });
    const name = uniqueName();
    await first.sensors.register({ name });
    await first.sensors.ingestState(name, birth(1, 1));
    // A new collector process starts an hour later: the sensor's old last_seen must not count yet.
    const later = serviceHarness(ctx.db, { start: new Date(t0.getTime() + 3_600_000) });
    assert.ok(!(await later.sensors.sweepHeartbeats()).includes(name));
    later.clock.now = new Date(later.clock.now.getTime() + 31_000);
    assert.ok((await later.sensors.sweepHeartbeats()).includes(name));
  });

  test('a replayed health message is stored once; health updates disks, devices and degraded status', async () => {
    const { sensors, emitted } = serviceHarness(ctx.db);
    const name = uniqueName();
    await sensors.register({ name });
    await sensors.ingestState(
      name,
      birth(1, 1, {
        interfaces: [
          { name: 'eth0', managed: true, directory: '/data/pcap' },
          { name: 'upload', managed: false, directory: '/srv/in' },
        ],
      }),
    );
    const sentAt = Date.now();
    const msg = health(2, sentAt);
    assert.equal(await sensors.ingestHealth(name, msg), 'applied');
    assert.equal(await sensors.ingestHealth(name, msg), 'duplicate');
    const [{ n }] = (await ctx.db.query<{ n: number }>(
      'SELECT count(*)::int AS n FROM health_samples h JOIN sensors s ON s.id = h.sensor_id WHERE s.name = $1',
      [name],
    )) as [{ n: number }];
    assert.equal(n, 1);
    assert.equal(emitted.filter((e) => e.name === 'sensor.health').length, 1);

    const view = await sensors.get(name);
    assert.equal(view.status, 'online');
    assert.equal(view.disks[0]?.mount, '/data');
    assert.equal(view.clockOffsetMs, 3);
    const devices = await sensors.devices(name);
    assert.deepEqual(
      devices.map((d) => [d.name, d.status, d.packets, d.drops, d.rxBytes]),
      [
        ['eth0', 'running', 1000, 2, 100],
        ['upload', 'watching', null, null, null],
      ],
    );

    assert.equal(
      await sensors.ingestHealth(name, health(3, sentAt + 10_000, { captures: [{ interface: 'eth0', running: false, error: 'tcpdump exited 1' }] })),
      'applied',
    );
    assert.deepEqual(await sensors.status(name).then((s) => [s.status, s.reason]), ['degraded', 'capture eth0 not running: tcpdump exited 1']);
    const fullDisk = [{ mount: '/data', fs: 'ext4', size: 1000, used: 950, available: 50, directories: ['/data/pcap'] }];
    await sensors.ingestHealth(name, health(4, sentAt + 20_000, { disks: fullDisk }));
    assert.deepEqual(await sensors.status(name).then((s) => [s.status, s.reason]), ['degraded', 'disk /data 95% full']);
    await sensors.ingestHealth(name, health(5, sentAt + 30_000));
    assert.deepEqual(await sensors.status(name).then((s) => [s.status, s.reason]), ['online', 'recovered']);
    // A spooled (older) message is stored but does not change the current state.
    assert.equal(await sensors.ingestHealth(name, health(4, sentAt + 15_000, { disks: fullDisk })), 'applied');
    assert.equal((await sensors.status(name)).status, 'online');
    const history = await sensors.activity({ limit: 10, sensor: name });
    assert.deepEqual(history.map((x) => x.to).reverse(), ['online', 'degraded', 'online']);
  });

  test('health series downsamples to at most maxPoints', async () => {
    const { sensors } = serviceHarness(ctx.db);
    const name = uniqueName();
    await sensors.register({ name });
    const t0 = Date.parse('2026-03-03T00:00:00Z');
    for (let i = 0; i < 10; i++) {
      await sensors.ingestHealth(name, health(i + 1, t0 + i * 10_000, { cpu: { usage: i * 10, cores: 4 } }));
    }
    const raw = await sensors.healthSeries(name, new Date(t0), new Date(t0 + 100_000), 100);
    assert.equal(raw.length, 10);
    assert.equal(raw[3]!.at, new Date(t0 + 30_000).toISOString());
    assert.equal(raw[3]!.cpu, 30);
    const five = await sensors.healthSeries(name, new Date(t0), new Date(t0 + 100_000), 5);
    assert.equal(five.length, 5);
    assert.deepEqual(
      five.map((p) => [p.samples, p.cpu]),
      [
        [2, 5],
        [2, 25],
        [2, 45],
        [2, 65],
        [2, 85],
      ],
    );
    assert.equal(five[0]!.diskUsedPercent, 50);
    await assert.rejects(sensors.healthSeries(name, new Date(t0 + 1), new Date(t0)), (err) => isDomainError(err, 'invalid'));
    await assert.rejects(sensors.healthSeries('no-such-sensor', new Date(t0), new Date(t0 + 1)), (err) => isDomainError(err, 'not_found'));
  });

  test('latestHealth: each sensor its own newest sample, across day partitions and late spooled samples; none → null', async () => {
    const fresh = await ctx.fresh({ migrate: true });
    try {
      const DAY = 86_400_000;
      const day0 = Date.UTC(2026, 2, 10);
      const tables = partitionedTables({ healthDays: 30, trafficDays: 7 });
      await new PartitionManager({ db: fresh.db, log: createLogger({ log: { level: 'silent' } }), ahead: 1, tables }).run(new Date(day0 + 3_600_000));
      const { sensors } = serviceHarness(fresh.db);
      for (const name of ['lh-a', 'lh-b', 'lh-c']) await sensors.register({ name });
      assert.equal((await sensors.get('lh-a')).latestHealth, null, 'no sample yet');

      // lh-a: a sample on day 0, the newest on day 1 (another partition), then a spooled one from
      // before day 0 (default partition) that arrives last.
      await sensors.ingestHealth('lh-a', health(2, day0 + 60_000, { cpu: { usage: 10, cores: 4 } }));
      const newest = health(3, day0 + DAY + 60_000, {
        cpu: { usage: 33.3, cores: 4 },
        memory: { total: 16_000_000_000, used: 5_250_000_000, available: 10_750_000_000 },
        load: [1.25, 1, 0.5],
      });
      assert.equal(await sensors.ingestHealth('lh-a', newest), 'applied');
      assert.equal(await sensors.ingestHealth('lh-a', health(1, day0 - 3 * DAY, { cpu: { usage: 99, cores: 4 } })), 'applied');
      // lh-b: one sample of its own.
      await sensors.ingestHealth('lh-b', health(1, day0 + 5_000, { cpu: { usage: 71.5, cores: 2 }, load: [0.75, 0.5, 0.25] }));

      const expectedA = { at: new Date(day0 + DAY + 60_000).toISOString(), cpu: 33.3, memoryUsed: 5_250_000_000, memoryTotal: 16_000_000_000, load1: 1.25 };
      const expectedB = { at: new Date(day0 + 5_000).toISOString(), cpu: 71.5, memoryUsed: 2_000_000_000, memoryTotal: 8_000_000_000, load1: 0.75 };
      assert.deepEqual((await sensors.get('lh-a')).latestHealth, expectedA);
      assert.deepEqual((await sensors.get('lh-b')).latestHealth, expectedB);
      assert.deepEqual(
        (await sensors.list()).map((s) => [s.name, s.latestHealth]),
        [
          ['lh-a', expectedA],
          ['lh-b', expectedB],
          ['lh-c', null],
        ],
      );
      assert.deepEqual(JSON.parse(JSON.stringify(await sensors.get('lh-c'))).latestHealth, null, 'null on the wire, not absent');

      // The list costs the same number of queries whatever the number of sensors.
      const countQueries = async (): Promise<number> => {
        let n = 0;
        const counting = new Proxy(fresh.db, {
          get(target, prop, receiver) {
            if (prop === 'query') return (...args: Parameters<Db['query']>) => ((n += 1), target.query(...args));
            const value: unknown = Reflect.get(target, prop, receiver);
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
          },
        });
        await serviceHarness(counting).sensors.list();
        return n;
      };
      const withThree = await countQueries();
      for (let i = 0; i < 20; i++) {
        const name = `lh-more-${i}`;
        await sensors.register({ name });
        await sensors.ingestHealth(name, health(1, day0 + i * 1000));
      }
      assert.equal(await countQueries(), withThree, '23 sensors cost as many queries as 3');
      assert.equal(withThree, 2);
    } finally {
      await fresh.drop();
    }
  });

  test('pcap availability: overall oldest/newest in µs, replays ignored', async () => {
    const { sensors } = serviceHarness(ctx.db);
    const name = uniqueName();
    await sensors.register({ name });
    const source = (n: string, oldest: number, newest: number) => ({
      name: n,
      directory: `/data/${n}`,
      oldest: { sec: oldest, nsec: 123_456_789 },
      newest: { sec: newest, nsec: 5_000 },
      files: 3,
      bytes: 3000,
      gaps: [],
      problems: [],
    });
    assert.equal(
      await sensors.ingestPcap(name, pcap(5, [source('eth0', 1_700_000_100, 1_700_000_900), source('eth1', 1_700_000_000, 1_700_000_500)])),
      'applied',
    );
    let view = await sensors.get(name);
    assert.equal(view.pcap.oldest, '2023-11-14T22:13:20.123456Z');
    assert.equal(view.pcap.newest, '2023-11-14T22:28:20.000005Z');
    assert.equal(view.pcap.sources.length, 2);
    assert.equal(await sensors.ingestPcap(name, pcap(5, [])), 'duplicate');
    assert.equal(await sensors.ingestPcap(name, pcap(4, [])), 'stale');
    assert.equal(await sensors.ingestPcap(name, pcap(6, [{ ...source('eth0', 0, 0), oldest: null, newest: null, files: 0 }])), 'applied');
    view = await sensors.get(name);
    assert.equal(view.pcap.oldest, null);
    assert.equal(view.pcap.sources.length, 1);
  });

  test('traffic stored once; unknown sensors reported, not thrown', async () => {
    const { sensors } = serviceHarness(ctx.db);
    const name = uniqueName();
    await sensors.register({ name });
    const msg = traffic(7, Date.parse('2026-03-04T00:00:00Z'), [
      { srcNet: '10.0.0.0/24', dstNet: '10.0.1.0/24', packets: 10, bytes: 1000 },
      { srcNet: '10.0.1.0/24', dstNet: '10.0.0.0/24', packets: 5, bytes: 500 },
    ]);
    assert.equal(await sensors.ingestTraffic(name, msg), 'applied');
    assert.equal(await sensors.ingestTraffic(name, msg), 'duplicate');
    const [row] = await ctx.db.query<{ n: number; bytes: number }>(
      'SELECT count(*)::int AS n, sum(bytes)::int8 AS bytes FROM traffic_samples t JOIN sensors s ON s.id = t.sensor_id WHERE s.name = $1',
      [name],
    );
    assert.deepEqual(row, { n: 2, bytes: 1500 });
    assert.equal(await sensors.ingestTraffic('no-such-sensor', msg), 'unknown-sensor');
    assert.equal(await sensors.ingestHealth('no-such-sensor', health(1, Date.now())), 'unknown-sensor');
    assert.equal(await sensors.ingestState('no-such-sensor', birth(1, 1)), 'unknown-sensor');
  });

  test("traffic: a minute split over two capture files (parts) keeps both shares; a part's resend adds nothing", async () => {
    const { sensors } = serviceHarness(ctx.db);
    const name = uniqueName();
    await sensors.register({ name });
    const minute = Date.parse('2026-03-05T00:01:00Z');
    const flows = [{ srcNet: '10.0.0.0/24', dstNet: '10.0.1.0/24', packets: 10, bytes: 1000 }];
    const first = { ...traffic(1, minute, flows), part: '00000000000000aa' };
    const second = { ...traffic(2, minute, [{ ...flows[0]!, packets: 4, bytes: 400 }]), part: '00000000000000bb' };
    assert.equal(await sensors.ingestTraffic(name, first), 'applied');
    assert.equal(await sensors.ingestTraffic(name, second), 'applied');
    assert.equal(await sensors.ingestTraffic(name, { ...second, seq: 3 }), 'duplicate');
    const [row] = await ctx.db.query<{ n: number; packets: number; bytes: number }>(
      `SELECT count(*)::int AS n, sum(packets)::int8 AS packets, sum(bytes)::int8 AS bytes
         FROM traffic_samples t JOIN sensors s ON s.id = t.sensor_id WHERE s.name = $1`,
      [name],
    );
    assert.deepEqual(row, { n: 2, packets: 14, bytes: 1400 });
  });

  test('status counts and locations', async () => {
    const fresh = await ctx.fresh({ migrate: true });
    try {
      const { sensors } = serviceHarness(fresh.db);
      await sensors.register({ name: 'a1', location: 'north' });
      await sensors.register({ name: 'a2', location: 'north' });
      await sensors.register({ name: 'b1', location: 'south' });
      await sensors.register({ name: 'c1' });
      await sensors.ingestState('a1', birth(1, 1));
      await sensors.ingestState('b1', birth(1, 1));
      await sensors.ingestState('b1', will(1, 1));
      assert.deepEqual(await sensors.statusCounts(), { unknown: 2, online: 1, offline: 1, degraded: 0 });
      assert.deepEqual(
        (await sensors.locations()).map((l) => [l.name, l.sensors, l.online]),
        [
          ['north', 2, 1],
          ['south', 1, 0],
        ],
      );
      assert.deepEqual(
        (await sensors.list()).map((s) => s.name),
        ['a1', 'a2', 'b1', 'c1'],
      );
    } finally {
      await fresh.drop();
    }
  });
});
