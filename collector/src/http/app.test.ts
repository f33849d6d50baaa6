import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hono } from 'hono';
import { createTestHttp, type TestHttp } from './app.fixture.js';
import { API_PREFIX } from './app.js';
import { generateApiToken } from '../domain/accounts/api-tokens.service.js';
import { createPermit, routesWithoutPermission } from './auth.js';
import type { AppEnv } from './env.js';

let t: TestHttp;
let app: Hono<AppEnv>;
let token: string;

before(async () => {
  t = await createTestHttp({ now: () => new Date('2026-01-02T03:04:05.000Z') });
  ({ app, token } = t);
});

after(() => t.close());

const get = (path: string, auth = true) => app.request(`${API_PREFIX}${path}`, auth ? { headers: { authorization: `Bearer ${token}` } } : {});

async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(typeof body.error.code, 'string');
  assert.equal(typeof body.error.message, 'string');
  return body.error;
}

test('GET /health is public and reports version and collector time', async () => {
  const res = await get('/health', false);
  assert.equal(res.status, 200);
  assert.deepEqual(await res.json(), { status: 'ok', version: '9.9.9', time: '2026-01-02T03:04:05.000Z' });
  assert.ok(res.headers.get('x-request-id'), 'request id header');
  assert.equal(res.headers.get('x-content-type-options'), 'nosniff', 'secure headers');
});

test('read routes need a valid bearer token', async () => {
  const missing = await get('/sensors', false);
  assert.equal(missing.status, 401);
  assert.deepEqual(await errorOf(missing), { code: 'unauthenticated', message: 'missing bearer token' });
  assert.match(missing.headers.get('www-authenticate') ?? '', /^Bearer/);

  const wrong = await app.request(`${API_PREFIX}/health/summary`, { headers: { authorization: `Bearer ${generateApiToken()}` } });
  assert.equal(wrong.status, 401);
  assert.equal((await errorOf(wrong)).message, 'invalid token');

  // ?token= is for WebSocket upgrades only: tokens in plain URLs end up in logs.
  const inQuery = await app.request(`${API_PREFIX}/sensors?token=${token}`);
  assert.equal(inQuery.status, 401);
});

test('bad parameters are 400 invalid naming the parameter', async () => {
  const badFrom = await get('/sensors/edge-1/health?from=yesterday');
  assert.equal(badFrom.status, 400);
  const e1 = await errorOf(badFrom);
  assert.equal(e1.code, 'invalid');
  assert.match(e1.message, /^from: expected an ISO 8601 time/);

  const reversed = await get('/sensors/edge-1/health?from=2026-01-02T00:00:00Z&to=1000');
  assert.equal(reversed.status, 400);
  assert.match((await errorOf(reversed)).message, /^from: must not be after to/);

  const badName = await get('/sensors/Not_Valid!/status');
  assert.equal(badName.status, 400);
  assert.match((await errorOf(badName)).message, /^name: not a valid sensor name/);

  const badLimit = await get('/sensors/activity?limit=0');
  assert.equal(badLimit.status, 400);
  assert.match((await errorOf(badLimit)).message, /^limit: /);
});

test('unknown routes and oversized bodies get the JSON error shape', async () => {
  const nowhere = await get('/nowhere');
  assert.equal(nowhere.status, 404);
  assert.equal((await errorOf(nowhere)).code, 'not_found');

  const big = await app.request(`${API_PREFIX}/health`, {
    method: 'POST',
    body: new Uint8Array(2 * 1024 * 1024),
    headers: { 'content-type': 'application/octet-stream' },
  });
  assert.equal(big.status, 413);
  assert.equal((await errorOf(big)).code, 'too_large');
});

test('a plain GET of the live feed is told to upgrade', async () => {
  const res = await get('/ws');
  assert.equal(res.status, 426);
  assert.equal((await errorOf(res)).code, 'invalid');
});

test('every registered route declares its permission', () => {
  assert.deepEqual(routesWithoutPermission(app), []);
  const routes = app.routes.filter((r) => r.method !== 'ALL').map((r) => `${r.method} ${r.path}`);
  for (const expected of ['/health', '/health/summary', '/sensors', '/sensors/:name/health', '/locations', '/ws']) {
    assert.ok(routes.includes(`GET ${API_PREFIX}${expected}`), `${expected} is registered`);
  }
});

test('the permission walk catches a route that forgot its declaration', () => {
  const permit = createPermit({ verify: () => Promise.resolve(null) });
  const sample = new Hono<AppEnv>();
  sample.get('/ok', permit('read'), (c) => c.text('ok'));
  sample.get('/forgot', (c) => c.text('oops'));
  sample.post('/ok', (c) => c.text('other method'));
  assert.deepEqual(routesWithoutPermission(sample), ['GET /forgot', 'POST /ok']);
});

test('sensor routes return the service views; an unknown sensor is 404 not_found', async () => {
  await t.sensors.register({ name: 'edge-1', location: 'lab' });

  const list = (await (await get('/sensors')).json()) as { sensors: { name: string; status: string; location: string }[] };
  assert.deepEqual(
    list.sensors.map((s) => [s.name, s.status, s.location]),
    [['edge-1', 'unknown', 'lab']],
  );

  const one = await get('/sensors/edge-1');
  assert.equal(one.status, 200);
  assert.equal(((await one.json()) as { name: string }).name, 'edge-1');

  const status = (await (await get('/sensors/edge-1/status')).json()) as { name: string; status: string };
  assert.deepEqual([status.name, status.status], ['edge-1', 'unknown']);

  assert.deepEqual(await (await get('/sensors/edge-1/devices')).json(), { devices: [] });

  const series = (await (await get('/sensors/edge-1/health?from=2026-01-01T00:00:00Z&to=1767322800000')).json()) as Record<string, unknown>;
  assert.deepEqual(series, { sensor: 'edge-1', from: '2026-01-01T00:00:00.000Z', to: '2026-01-02T03:00:00.000Z', points: [] });

  const activity = (await (await get('/sensors/activity?limit=10')).json()) as { entries: unknown[] };
  assert.ok(Array.isArray(activity.entries));

  const locations = (await (await get('/locations')).json()) as { locations: { name: string; sensors: number }[] };
  assert.deepEqual(
    locations.locations.map((l) => [l.name, l.sensors]),
    [['lab', 1]],
  );

  for (const path of ['/sensors/ghost', '/sensors/ghost/status', '/sensors/ghost/devices', '/sensors/ghost/health']) {
    const res = await get(path);
    assert.equal(res.status, 404, path);
    assert.equal((await errorOf(res)).code, 'not_found', path);
  }
});

test('health/summary: sensors by status, ingest counters, database and broker state', async () => {
  t.stats.accepted('health');
  t.stats.rejected('schema');
  const res = await get('/health/summary');
  assert.equal(res.status, 200);
  const body = (await res.json()) as {
    sensors: Record<string, number>;
    ingest: { accepted: Record<string, number>; rejected: Record<string, number> };
    database: { kind: string; ok: boolean; latencyMs: number };
    broker: { mode: string; clients: number; ok: boolean };
  };
  assert.deepEqual(Object.keys(body.sensors).sort(), ['degraded', 'offline', 'online', 'unknown']);
  assert.equal(body.ingest.accepted.health, 1);
  assert.equal(body.ingest.rejected.schema, 1);
  assert.deepEqual([body.database.kind, body.database.ok, typeof body.database.latencyMs], ['pglite', true, 'number']);
  assert.deepEqual(body.broker, { mode: 'embedded', clients: 0, ok: true, limits: { oversized: 0, retain: 0, task: 0, connections: 0, logins: 0, busy: 0 } });
});
