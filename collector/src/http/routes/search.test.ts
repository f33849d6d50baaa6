import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { TrafficMessage } from '@pcapmesh/shared/wire';
import type { SearchView } from '../../domain/search/search.service.js';
import { createTestHttp, type TestHttp } from '../app.fixture.js';
import { API_PREFIX } from '../app.js';

let t: TestHttp;
const bearer: Record<string, string> = {};
const MIN = 60_000;
// Two minutes of traffic an hour ago (inside the default 7-day window).
const minute = Math.floor((Date.now() - 60 * MIN) / MIN) * MIN;
let seq = 0;

async function traffic(sensor: string, at: number, flows: TrafficMessage['flows']): Promise<void> {
  seq += 1;
  const outcome = await t.sensors.ingestTraffic(sensor, { v: 1, sentAt: at + MIN, seq, intervalStart: at, intervalSeconds: 60, flows });
  assert.equal(outcome, 'applied');
}
const flow = (srcNet: string, dstNet: string, bytes: number) => ({ srcNet, dstNet, packets: bytes / 100, bytes });

before(async () => {
  t = await createTestHttp();
  for (const user of ['admin1', 'analyst1', 'viewer1']) bearer[user] = await t.accessTokenOf(user);
  await t.sensors.register({ name: 'edge-a1', location: 'site-a' });
  await t.sensors.register({ name: 'edge-a2', location: 'site-a' });
  await t.sensors.register({ name: 'edge-b1', location: 'site-b' });
  await t.sensors.register({ name: 'lonely' });
  await traffic('edge-a1', minute, [flow('10.1.1.0/24', '10.1.2.0/24', 1000), flow('10.1.1.0/24', '8.8.8.0/24', 500)]);
  await traffic('edge-a2', minute + MIN, [flow('10.1.1.0/24', '10.1.2.0/24', 300)]);
  await traffic('edge-b1', minute, [flow('10.2.1.0/24', '8.8.8.0/24', 700)]);
  await t.network.learn();
});
after(() => t.close());

async function call(user: string, method: string, path: string, body?: unknown): Promise<Response> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${bearer[user]}` } };
  if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  return t.app.request(`${API_PREFIX}${path}`, init);
}
async function find(user: string, q: string, extra = ''): Promise<SearchView> {
  const res = await call(user, 'GET', `/search?q=${encodeURIComponent(q)}${extra}`);
  assert.equal(res.status, 200, await res.clone().text());
  return (await res.json()) as SearchView;
}

test('text: sensors by name and location, locations, users for admins only', async () => {
  const found = await find('viewer1', 'SITE-A');
  assert.deepEqual(
    found.sensors.map((s) => s.name),
    ['edge-a1', 'edge-a2'],
    'by location, case-insensitive',
  );
  assert.deepEqual(found.locations, [{ name: 'site-a', description: null, sensors: 2 }]);
  assert.deepEqual(
    found.subnets.map((s) => s.subnet),
    ['10.1.1.0/24', '10.1.2.0/24'],
    'subnets mapped to site-a',
  );
  assert.equal(found.address, null);
  assert.equal(found.users, null, 'a viewer sees no users');
  assert.deepEqual(
    (await find('admin1', 'analyst')).users?.map((u) => u.username),
    ['analyst1', 'analyst2'],
  );
  assert.deepEqual(
    (await find('viewer1', 'lone')).sensors.map((s) => [s.name, s.location]),
    [['lonely', null]],
  );
  assert.deepEqual((await find('viewer1', '%')).sensors, [], 'wildcards match themselves');
});

test('an address: its subnet, location, the sensors that saw it and when, and a job request POST /jobs accepts as it is', async () => {
  const found = await find('analyst1', '10.1.1.77');
  const address = found.address!;
  assert.equal(address.query, '10.1.1.77/32');
  assert.equal(address.host, true);
  assert.equal(address.subnet?.subnet, '10.1.1.0/24');
  assert.equal(address.location, 'site-a');
  assert.deepEqual(
    address.sightings.map((s) => [s.sensor, s.location, s.bytes, s.firstSeen, s.lastSeen]),
    [
      ['edge-a1', 'site-a', 1500, new Date(minute).toISOString(), new Date(minute + MIN).toISOString()],
      ['edge-a2', 'site-a', 300, new Date(minute + MIN).toISOString(), new Date(minute + 2 * MIN).toISOString()],
    ],
  );
  assert.deepEqual(address.jobRequest, {
    window: { from: new Date(minute).toISOString(), to: new Date(minute + 2 * MIN).toISOString() },
    filter: { expression: 'host 10.1.1.77' },
    targets: { sensors: ['edge-a1', 'edge-a2'] },
  });
  // The real jobs service takes it unchanged.
  const submitted = await call('analyst1', 'POST', '/jobs', address.jobRequest);
  assert.equal(submitted.status, 201, await submitted.clone().text());
  const { job } = (await submitted.json()) as { job: { id: string; filter: { expression: string }; targets: unknown } };
  assert.deepEqual(job.targets, { sensors: ['edge-a1', 'edge-a2'] });
  // And the job is found by its filter.
  assert.ok((await find('viewer1', '10.1.1.77')).jobs.some((j) => j.id === job.id && j.filter.includes('10.1.1.77')));
  assert.ok(
    (await find('viewer1', job.id.slice(0, 8))).jobs.some((j) => j.id === job.id),
    'by id',
  );
});

test('a network: external subnet seen at both sites; a CIDR nobody saw has no job request', async () => {
  const external = (await find('viewer1', '8.8.8.0/24')).address!;
  assert.equal(external.host, false);
  assert.equal(external.subnet?.state, 'external');
  assert.equal(external.location, null);
  assert.deepEqual(
    external.sightings.map((s) => s.sensor),
    ['edge-b1', 'edge-a1'],
  );
  assert.equal(external.jobRequest?.filter.expression, 'net 8.8.8.0/24');
  const wide = (await find('viewer1', '10.0.0.0/8')).address!;
  assert.equal(wide.subnet, null, 'no map subnet contains a /8');
  assert.deepEqual(wide.sightings.map((s) => s.sensor).sort(), ['edge-a1', 'edge-a2', 'edge-b1']);
  const none = (await find('viewer1', '192.0.2.1')).address!;
  assert.deepEqual(none.sightings, []);
  assert.equal(none.jobRequest, null);
  const earlier = (await find('viewer1', '10.1.1.1', `&from=${minute - 3 * 86_400_000}&to=${minute - 86_400_000}`)).address!;
  assert.deepEqual(earlier.sightings, [], 'outside the window');
});

test('an IPv6 address: its /64 and a job request the jobs service accepts', async () => {
  await traffic('edge-b1', minute + 2 * MIN, [flow('2001:db8:1::/64', '2001:db8:2::/64', 400)]);
  const address = (await find('analyst1', '2001:DB8:1:0::5')).address!;
  assert.equal(address.query, '2001:db8:1::5/128');
  assert.deepEqual(
    address.sightings.map((s) => [s.sensor, s.bytes]),
    [['edge-b1', 400]],
  );
  assert.equal(address.jobRequest?.filter.expression, 'host 2001:db8:1::5');
  const submitted = await call('analyst1', 'POST', '/jobs', address.jobRequest);
  assert.equal(submitted.status, 201, await submitted.clone().text());
});

test('bad input: 400 naming the field; no credential 401', async () => {
  for (const [query, message] of [
    ['q=', /^q: must not be empty/],
    ['q=%20%20', /^q: must not be empty/],
    [`q=${'x'.repeat(257)}`, /^q: at most 256 characters/],
    ['', /^q: /],
    ['q=a&limit=0', /^limit: /],
    [`q=a&from=${Date.now()}&to=${Date.now() - 1000}`, /^from: must not be after to/],
    [`q=a&from=${Date.now() - 40 * 86_400_000}`, /^from: .*maxWindowDays/],
  ] as const) {
    const res = await call('viewer1', 'GET', `/search?${query}`);
    assert.equal(res.status, 400, query);
    assert.match(((await res.json()) as { error: { message: string } }).error.message, message, query);
  }
  assert.equal((await t.app.request(`${API_PREFIX}/search?q=a`)).status, 401);
});
