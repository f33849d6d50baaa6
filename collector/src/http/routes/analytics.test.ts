import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { JobsAnalyticsView, SensorsAnalyticsView, TrafficAnalyticsView } from '../../domain/analytics/analytics.service.js';
import { health, pcap, traffic } from '../../domain/sensors/sensors.fixture.js';
import { insertTransition } from '../../storage/status-history.repo.js';
import { createTestHttp, type TestHttp } from '../app.fixture.js';
import { API_PREFIX } from '../app.js';
import { availableSensor, completedJob, userActor } from '../jobs.fixture.js';

const MIN = 60_000;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;
let t: TestHttp;
const bearer: Record<string, string> = {};
// The sensors window: [from, to) = the two hours ending a minute ago (ingest's own transitions come later).
const to = Math.floor((Date.now() - MIN) / 1000) * 1000;
const from = to - 2 * HOUR;
let seq = 100;
const ts = (ms: number) => ({ sec: Math.floor(ms / 1000), nsec: (ms % 1000) * 1_000_000 });

before(async () => {
  t = await createTestHttp();
  for (const user of ['admin1', 'analyst1', 'viewer1']) bearer[user] = await t.accessTokenOf(user);
  await t.sensors.register({ name: 'an-a', location: 'site-x' });
  await t.sensors.register({ name: 'an-b', location: 'site-y' });
  // an-a existed for days: online before the window, offline from +30 min to +60 min → up 90 of 120 minutes.
  await t.db.query(`UPDATE sensors SET created_at = $1 WHERE name = 'an-a'`, [new Date(from - DAY)]);
  const [{ id } = { id: 0 }] = await t.db.query<{ id: number }>(`SELECT id FROM sensors WHERE name = 'an-a'`);
  await insertTransition(t.db, { sensorId: id, from: 'unknown', to: 'online', reason: 'birth', at: new Date(from - HOUR) });
  await insertTransition(t.db, { sensorId: id, from: 'online', to: 'offline', reason: 'lost', at: new Date(from + 30 * MIN) });
  await insertTransition(t.db, { sensorId: id, from: 'offline', to: 'online', reason: 'birth', at: new Date(from + 60 * MIN) });
  // Counters: capture 1000/10 → 3000/30 → (restart) 500/5; interface rx 10/1 → 110/2 → 210/2.
  for (const [i, [packets, drops, rxPackets, rxDropped]] of [
    [1000, 10, 10, 1],
    [3000, 30, 110, 2],
    [500, 5, 210, 2],
  ].entries()) {
    await t.sensors.ingestHealth(
      'an-a',
      health((seq += 1), from + (i + 1) * 10 * MIN, {
        captures: [{ interface: 'eth0', running: true, packets: packets!, drops: drops! }],
        interfaces: [{ name: 'eth0', rxBytes: 0, txBytes: 0, rxPackets: rxPackets!, txPackets: 0, rxDropped: rxDropped!, rxErrors: 0 }],
      }),
    );
  }
  // Files on disk from 3 days ago to 30 minutes before `to`, with a 15-minute gap inside the window.
  await t.sensors.ingestPcap(
    'an-a',
    pcap((seq += 1), [
      {
        name: 'eth0',
        directory: '/data/pcap',
        oldest: ts(to - 3 * DAY),
        newest: ts(from + 90 * MIN),
        files: 99,
        bytes: 1 << 30,
        gaps: [{ from: ts(from + 30 * MIN), to: ts(from + 45 * MIN) }],
        problems: [],
      },
    ]),
  );
  // Traffic at both sites (the network view's per-location tables).
  await t.sensors.ingestTraffic(
    'an-a',
    traffic((seq += 1), from + 5 * MIN, [
      { srcNet: '10.1.0.0/24', dstNet: '10.2.0.0/24', packets: 10, bytes: 1000 },
      { srcNet: '10.1.0.0/24', dstNet: '8.8.8.0/24', packets: 5, bytes: 500 },
    ]),
  );
  await t.sensors.ingestTraffic('an-b', traffic((seq += 1), from + 65 * MIN, [{ srcNet: '10.2.0.0/24', dstNet: '8.8.8.0/24', packets: 7, bytes: 700 }]));
});
after(() => t.close());

async function call(user: string, path: string): Promise<Response> {
  return t.app.request(`${API_PREFIX}${path}`, { headers: { authorization: `Bearer ${bearer[user]}` } });
}
async function ok<T>(path: string): Promise<T> {
  const res = await call('viewer1', path);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as T;
}

test('GET /analytics/sensors: retention days, coverage, drop rates with a counter reset, uptime from the status history', async () => {
  const view = await ok<SensorsAnalyticsView>(`/analytics/sensors?from=${from}&to=${to}`);
  assert.equal(view.from, new Date(from).toISOString());
  const [a, b] = view.sensors;
  assert.equal(a?.sensor, 'an-a');
  assert.equal(a.location, 'site-x');
  assert.equal(a.retentionDays, Math.round(((3 * DAY - 30 * MIN) / DAY) * 100) / 100);
  assert.equal(a.coveragePercent, 62.5, '30 + 45 of 120 minutes on disk');
  assert.deepEqual(a.drops.capture, { packets: 2500, drops: 25, ratePercent: Math.round((25 / 2525) * 100 * 10_000) / 10_000 });
  assert.deepEqual(a.drops.interface, { packets: 200, drops: 1, ratePercent: Math.round((1 / 201) * 100 * 10_000) / 10_000 });
  assert.equal(a.uptimePercent, 75);
  assert.equal(b?.sensor, 'an-b');
  assert.deepEqual(
    [b.retentionDays, b.coveragePercent, b.drops.capture.ratePercent, b.uptimePercent],
    [null, 0, null, null],
    'created after the window: no uptime',
  );
  const earlier = await ok<SensorsAnalyticsView>(`/analytics/sensors?from=${from - HOUR}&to=${from}`);
  assert.equal(earlier.sensors[0]?.uptimePercent, 100, 'online all of the hour before');
});

test('GET /analytics/jobs: jobs per day by outcome, bytes retrieved, median time to result', async () => {
  const sensor = await availableSensor(t, { location: 'site-z' });
  const admin = await userActor(t, 'admin1');
  const job = await completedJob(t, admin, [sensor]);
  const download = await call('admin1', `/jobs/${job.id}/pcap`);
  assert.equal(download.status, 200);
  const size = (await download.arrayBuffer()).byteLength;
  const open = await t.jobs.jobs.service.submit(admin, {
    window: { from: BigInt(Date.now() - 30 * MIN) * 1_000_000n, to: BigInt(Date.now() - 20 * MIN) * 1_000_000n },
    filter: { expression: 'udp' },
    targets: { sensors: [sensor] },
  });
  assert.ok(open.job);
  const view = await ok<JobsAnalyticsView>('/analytics/jobs');
  assert.equal(view.days.length, 31, 'every day of the default 30-day window (partial days at both ends)');
  const today = view.days.find((d) => d.day === new Date().toISOString().slice(0, 10))!;
  assert.deepEqual([today.submitted, today.complete, today.open, today.downloads, today.bytesRetrieved], [2, 1, 1, 1, size]);
  assert.deepEqual(view.totals, { submitted: 2, bytesRetrieved: size, downloads: 1 });
  const finished = await t.db.query<{ s: number }>(`SELECT extract(epoch FROM finished_at - created_at)::float8 AS s FROM jobs WHERE id = $1`, [job.id]);
  assert.equal(view.timeToResult.jobs, 1);
  assert.equal(view.timeToResult.medianSeconds, Math.round(finished[0]!.s * 1000) / 1000);
  const before = await ok<JobsAnalyticsView>(`/analytics/jobs?from=${Date.now() - 10 * DAY}&to=${Date.now() - 5 * DAY}`);
  assert.deepEqual([before.totals.submitted, before.timeToResult.medianSeconds], [0, null]);
});

test('GET /analytics/traffic: bytes by location over time, top pairs, one location', async () => {
  const view = await ok<TrafficAnalyticsView>(`/analytics/traffic?from=${from}&to=${to}&bucket=3600`);
  assert.equal(view.bucketSeconds, 3600);
  assert.deepEqual(
    view.locations.map((l) => [l.location, l.bytes]),
    [
      ['site-x', 1500],
      ['site-y', 700],
    ],
  );
  assert.equal(
    view.locations[0]!.series.reduce((n, p) => n + p.bytes, 0),
    1500,
  );
  assert.deepEqual(view.top[0], { src: '10.1.0.0/24', dst: '10.2.0.0/24', srcLocation: null, dstLocation: null, packets: 10, bytes: 1000 });
  const y = await ok<TrafficAnalyticsView>(`/analytics/traffic?from=${from}&to=${to}&location=site-y`);
  assert.deepEqual(
    y.locations.map((l) => l.location),
    ['site-y'],
  );
  assert.deepEqual(
    y.top.map((p) => p.bytes),
    [700],
  );
  assert.equal(y.bucketSeconds, 60, 'default: the smallest bucket giving at most 1440 points (2 h of minutes)');
  assert.equal((await call('viewer1', '/analytics/traffic?location=nowhere')).status, 404);
});

test('bad input: 400 naming the field; no credential 401', async () => {
  for (const [path, message] of [
    [`/analytics/sensors?from=${to}&to=${from}`, /^from: must not be after to/],
    [`/analytics/jobs?from=${Date.now() - 100 * DAY}`, /^from: .*analytics\.maxWindowDays \(90 days\)/],
    [`/analytics/traffic?from=${from}&to=${to}&bucket=90`, /^bucket: /],
    [`/analytics/traffic?from=${Date.now() - 89 * DAY}&bucket=60`, /^bucket: .*points/],
    ['/analytics/sensors?to=tomorrow', /^to: /],
    ['/analytics/traffic?top=0', /^top: /],
  ] as const) {
    const res = await call('viewer1', path);
    assert.equal(res.status, 400, path);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, message, path);
  }
  assert.equal((await t.app.request(`${API_PREFIX}/analytics/sensors`)).status, 401);
});
