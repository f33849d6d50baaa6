import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hono } from 'hono';
import { pino } from 'pino';
import { ApiTokensService } from '../domain/accounts/api-tokens.service.js';
import { PERMISSIONS } from '../domain/accounts/roles.js';
import { createTestHttp, type TestHttp } from './app.fixture.js';
import { API_PREFIX } from './app.js';
import { createPermit } from './auth.js';
import type { AppEnv } from './env.js';
import { CredentialVerifier } from './credentials.js';
import { TaskTokens } from '../domain/jobs/task-tokens.js';

let t: TestHttp;
const bearer: Record<string, string> = {};
before(async () => {
  t = await createTestHttp();
  for (const username of ['admin1', 'analyst1', 'viewer1']) bearer[username] = await t.accessTokenOf(username);
});
after(() => t.close());

test('each permission level admits exactly the roles it should (viewer cannot download or submit; analyst is not admin)', async () => {
  // One route per level, guarded by the very permit() machinery the app uses, over real logins.
  const permit = createPermit(
    new CredentialVerifier(t.accounts.access, { authenticate: () => Promise.resolve(null) }, t.accounts.users),
    await TaskTokens.open({ db: t.db }),
  );
  const sample = new Hono<AppEnv>();
  sample.use(async (c, next) => {
    c.set('log', pino({ level: 'silent' }));
    await next();
  });
  for (const level of PERMISSIONS) sample.get(`/${level}`, permit(level), (c) => c.text('ok'));
  const status = async (user: string | null, level: string) =>
    (await sample.request(`/${level}`, user ? { headers: { authorization: `Bearer ${bearer[user]}` } } : {})).status;
  const seen: Record<string, number[]> = {};
  for (const user of [null, 'viewer1', 'analyst1', 'admin1']) {
    seen[user ?? 'anonymous'] = await Promise.all(PERMISSIONS.map((level) => status(user, level)));
  }
  // Columns: public, read, analyst, download, admin, task (no user credential is a task upload token).
  assert.deepEqual(seen, {
    anonymous: [200, 401, 401, 401, 401, 401],
    viewer1: [200, 200, 403, 403, 403, 401],
    analyst1: [200, 200, 200, 200, 403, 401],
    admin1: [200, 200, 200, 200, 200, 401],
  });
});

test('API tokens stay valid integrator credentials; a role-scoped token gets its role', async () => {
  const res = await t.app.request(`${API_PREFIX}/me`, { headers: { authorization: `Bearer ${t.token}` } });
  const [row] = await t.db.query<{ id: number }>("SELECT id FROM api_tokens WHERE name = 'test'");
  assert.deepEqual(await res.json(), { id: `token:${row!.id}`, username: 'test', role: 'admin', kind: 'api-token' });
  await t.db.query("UPDATE api_tokens SET role = 'viewer' WHERE name = 'test'");
  const fresh = new ApiTokensService({ db: t.db, audit: t.accounts.audit, log: pino({ level: 'silent' }) });
  assert.deepEqual(await fresh.authenticate(t.token), { id: row!.id, name: 'test', role: 'viewer' }, 'with its stable id (what owns its jobs)');
});

test('admins create role-scoped API tokens (shown once) and delete them; a viewer token reads but cannot administer', async () => {
  const admin = { authorization: `Bearer ${bearer.admin1}`, 'content-type': 'application/json' };
  const created = await t.app.request(`${API_PREFIX}/admin/api-tokens`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ name: 'grafana', role: 'viewer' }),
  });
  assert.equal(created.status, 201);
  const { token, role } = (await created.json()) as { token: string; role: string };
  assert.equal(role, 'viewer');
  const dup = await t.app.request(`${API_PREFIX}/admin/api-tokens`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ name: 'grafana', role: 'admin' }),
  });
  assert.equal(dup.status, 409);
  const asToken = (path: string) => t.app.request(`${API_PREFIX}${path}`, { headers: { authorization: `Bearer ${token}` } });
  assert.equal((await asToken('/sensors')).status, 200);
  assert.equal((await asToken('/admin/users')).status, 403);
  const list = (await (await t.app.request(`${API_PREFIX}/admin/api-tokens`, { headers: admin })).json()) as { tokens: { name: string }[] };
  assert.ok(list.tokens.some((x) => x.name === 'grafana'));
  assert.ok(!/\$argon2|sha256:/.test(JSON.stringify(list)), 'hashes never leave the server');
  assert.equal((await t.app.request(`${API_PREFIX}/admin/api-tokens/grafana`, { method: 'DELETE', headers: admin })).status, 204);
  assert.equal((await t.app.request(`${API_PREFIX}/admin/api-tokens/grafana`, { method: 'DELETE', headers: admin })).status, 404);
});
