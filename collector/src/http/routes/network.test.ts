/**
 * The network routes over the real app (app.fixture.ts: PGlite, SensorService feeding
 * NetworkService): viewer reads, admin changes, 403 for a viewer changing the map, 400 naming the
 * field for bad input, audit entries, and answers checked against their documented schemas.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { traffic } from '../../domain/sensors/sensors.fixture.js';
import { flow } from '../../domain/network/network.fixture.js';
import { API_PREFIX } from '../app.js';
import { createTestHttp, type TestHttp } from '../app.fixture.js';

let t: TestHttp;
let admin: string;
let viewer: string;
// Recent traffic: the map lists what was seen within network.learnWindowDays of the (real) clock.
const minute = Math.floor(Date.now() / 3_600_000) * 3_600_000 - 3_600_000;
const window = `from=${minute}&to=${minute + 3_600_000}`;

before(async () => {
  t = await createTestHttp();
  admin = await t.accessTokenOf('admin1');
  viewer = await t.accessTokenOf('viewer1');
  await t.sensors.register({ name: 'a1', location: 'site-a' });
  await t.sensors.register({ name: 'b1', location: 'site-b' });
  await t.sensors.ingestTraffic('a1', traffic(1, minute, [flow('10.1.1.0/24', '10.1.2.0/24', 1000), flow('10.1.1.0/24', '8.8.8.0/24', 500)]));
  await t.sensors.ingestTraffic('b1', traffic(1, minute, [flow('10.2.1.0/24', '8.8.8.0/24', 400)]));
  await t.network.learn();
});
after(() => t.close());

// Answers are read loosely here; the app checks each against its documented schema (checkResponses).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
async function call(token: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await t.app.request(`${API_PREFIX}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : null };
}

test('viewers read the map, the traffic and the locations', async () => {
  const subnets = await call(viewer, 'GET', '/network/subnets');
  assert.equal(subnets.status, 200);
  assert.deepEqual(
    subnets.json.subnets.map((s: { subnet: string; state: string; location: string | null }) => [s.subnet, s.state, s.location]),
    [
      ['10.1.1.0/24', 'learned', 'site-a'],
      ['10.1.2.0/24', 'learned', 'site-a'],
      ['10.2.1.0/24', 'learned', 'site-b'],
      ['8.8.8.0/24', 'external', null],
    ],
  );
  const onlyA = await call(viewer, 'GET', '/network/subnets?location=site-a');
  assert.equal(onlyA.json.subnets.length, 2);

  const a = await call(viewer, 'GET', `/network/traffic?${window}&location=site-a&bucket=3600&top=1`);
  assert.equal(a.status, 200);
  assert.deepEqual(a.json.totals, { packets: 15, bytes: 1500 });
  assert.deepEqual(a.json.series, [{ at: new Date(minute).toISOString(), packets: 15, bytes: 1500 }]);
  assert.equal(a.json.top.length, 1);
  const bySubnet = await call(viewer, 'GET', `/network/traffic?${window}&subnet=${encodeURIComponent('8.8.8.8')}`);
  assert.equal(bySubnet.json.totals.bytes, 900, 'an address finds its /24 at both locations');
  assert.equal(bySubnet.json.subnet, '8.8.8.8/32');

  const locations = await call(viewer, 'GET', `/network/locations?${window}`);
  assert.equal(locations.status, 200);
  assert.deepEqual(
    locations.json.locations.map((l: { name: string; bytes: number; sensors: string[] }) => [l.name, l.sensors, l.bytes]),
    [
      ['site-a', ['a1'], 1500],
      ['site-b', ['b1'], 400],
    ],
  );
  assert.equal((await call(viewer, 'GET', '/network/locations')).status, 200, 'default window (cached)');
});

test('bad input: 400 naming the field', async () => {
  const bad = async (path: string, field: string) => {
    const r = await call(viewer, 'GET', path);
    assert.equal(r.status, 400, path);
    assert.match(r.json.error.message, new RegExp(`^${field}: `), `${path}: ${r.json.error.message}`);
  };
  await bad(`/network/traffic?subnet=${encodeURIComponent('10.1.2.0/33')}`, 'subnet');
  await bad(`/network/traffic?subnet=${encodeURIComponent('10.1.2/24')}`, 'subnet');
  await bad(`/network/traffic?from=${minute + 1}&to=${minute}`, 'from');
  await bad(`/network/traffic?from=${minute}&to=${minute + 40 * 86_400_000}`, 'from');
  await bad(`/network/traffic?bucket=61`, 'bucket');
  await bad(`/network/traffic?from=yesterday`, 'from');
  await bad(`/network/locations?from=${minute + 1}&to=${minute}`, 'from');
  await bad(`/network/subnets?state=lost`, 'state');
  assert.equal((await call(viewer, 'GET', '/network/traffic?location=atlantis')).status, 404);
});

test('admins pin and unpin (a viewer may not), audited; bad CIDRs name cidr', async () => {
  const path = `/admin/subnets/${encodeURIComponent('8.8.8.0/24')}`;
  assert.equal((await call(viewer, 'PUT', path, { location: 'site-a' })).status, 403);
  assert.equal((await call(viewer, 'DELETE', path)).status, 403);
  const pinned = await call(admin, 'PUT', path, { location: 'site-a' });
  assert.equal(pinned.status, 200);
  assert.deepEqual([pinned.json.state, pinned.json.location, pinned.json.pinned.by, pinned.json.learned.state], ['pinned', 'site-a', 'admin1', 'external']);
  assert.equal((await call(admin, 'PUT', path, { location: 'atlantis' })).status, 404);
  for (const cidr of ['8.8.8.0/33', 'not-a-net', '8.8.8.1/24', '2001:db8::/129']) {
    const r = await call(admin, 'PUT', `/admin/subnets/${encodeURIComponent(cidr)}`, { location: 'site-a' });
    assert.equal(r.status, 400, cidr);
    assert.match(r.json.error.message, /^cidr: /, cidr);
  }
  assert.equal((await call(admin, 'DELETE', path)).status, 204);
  assert.equal((await call(admin, 'DELETE', path)).status, 404, 'no pin left');
  const audit = await t.accounts.audit.list({ action: 'network.', limit: 10 });
  assert.deepEqual(audit.entries.map((e) => [e.action, e.actor, e.target]).sort(), [
    ['network.subnet.pin', 'admin1', '8.8.8.0/24'],
    ['network.subnet.unpin', 'admin1', '8.8.8.0/24'],
  ]);
});

test('admins set coordinates (GET /locations shows them); out of range names the field', async () => {
  assert.equal((await call(viewer, 'PUT', '/admin/locations/site-a', { latitude: 1 })).status, 403);
  for (const [body, field] of [
    [{ latitude: 90.5 }, 'latitude'],
    [{ longitude: -181 }, 'longitude'],
    [{ latitude: 'north' }, 'latitude'],
    [{ altitude: 3 }, ''],
  ] as const) {
    const r = await call(admin, 'PUT', '/admin/locations/site-a', body);
    assert.equal(r.status, 400, JSON.stringify(body));
    if (field) assert.match(r.json.error.message, new RegExp(`^${field}: `));
  }
  const ok = await call(admin, 'PUT', '/admin/locations/site-a', { latitude: 52.37, longitude: 4.89, description: 'Amsterdam' });
  assert.equal(ok.status, 200);
  assert.deepEqual([ok.json.name, ok.json.latitude, ok.json.longitude, ok.json.description, ok.json.sensors], ['site-a', 52.37, 4.89, 'Amsterdam', 1]);
  const created = await call(admin, 'PUT', '/admin/locations/site-c', { latitude: -33.9, longitude: 151.2 });
  assert.equal(created.status, 200);
  const list = await call(viewer, 'GET', '/locations');
  assert.deepEqual(
    list.json.locations.map((l: { name: string; latitude: number | null }) => [l.name, l.latitude]),
    [
      ['site-a', 52.37],
      ['site-b', null],
      ['site-c', -33.9],
    ],
  );
  const network = await call(viewer, 'GET', '/network/locations');
  assert.equal(network.json.locations.find((l: { name: string }) => l.name === 'site-a').latitude, 52.37, 'the change refreshed the cache');
});

test('clear-cache: admin only, audited, the next read refills', async () => {
  await call(viewer, 'GET', '/network/locations');
  assert.equal((await call(viewer, 'POST', '/network/locations/clear-cache')).status, 403);
  const r = await call(admin, 'POST', '/network/locations/clear-cache');
  assert.equal(r.status, 200);
  assert.ok(r.json.cleared >= 1);
  assert.equal((await call(admin, 'POST', '/network/locations/clear-cache')).json.cleared, 0, 'empty now');
  assert.equal((await call(viewer, 'GET', '/network/locations')).status, 200);
  assert.equal((await call(admin, 'POST', '/network/locations/clear-cache')).json.cleared, 2, 'refilled by the read (totals and the map they use)');
  assert.equal((await t.accounts.audit.list({ action: 'network.cache.clear', limit: 10 })).entries.length, 3);
});
