import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestHttp, USER_PASSWORD, type TestHttp } from '../app.fixture.js';
import { API_PREFIX } from '../app.js';

let t: TestHttp;
const bearer: Record<string, string> = {};

async function login(username: string, password = USER_PASSWORD): Promise<Response> {
  return t.app.request(`${API_PREFIX}/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password, client: 'api' }),
  });
}

before(async () => {
  t = await createTestHttp();
  for (const username of ['admin1', 'analyst1', 'analyst2', 'viewer1']) {
    bearer[username] = ((await (await login(username)).json()) as { accessToken: string }).accessToken;
  }
});
after(() => t.close());

async function call(user: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<Response> {
  const init: RequestInit = { method, headers: { authorization: `Bearer ${bearer[user]}`, ...headers } };
  if (body instanceof Uint8Array) init.body = body;
  else if (body !== undefined) {
    init.body = JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] = 'application/json';
  }
  return t.app.request(`${API_PREFIX}${path}`, init);
}
const json = async <T>(res: Response): Promise<T> => (await res.json()) as T;

test('analysts and viewers get 403 on every admin route', async () => {
  const adminRoutes = t.app.routes.filter((r) => r.method !== 'ALL' && r.path.startsWith(`${API_PREFIX}/admin`));
  assert.ok(adminRoutes.length >= 8, 'admin routes registered');
  for (const route of adminRoutes) {
    const path = route.path.slice(API_PREFIX.length).replace(/:\w+/g, 'admin1');
    for (const user of ['analyst1', 'viewer1']) {
      const res = await call(user, route.method, path, route.method === 'GET' ? undefined : {});
      assert.equal(res.status, 403, `${user} ${route.method} ${path}`);
    }
  }
  assert.equal((await call('admin1', 'GET', '/admin/users/admin1')).status, 200, 'the admin does reach them');
});

test('admin users CRUD: create, update, disable (sessions end, login refused), delete; all audited', async () => {
  const created = await call('admin1', 'POST', '/admin/users', { username: 'carol', role: 'viewer', password: 'carol password 1' });
  assert.equal(created.status, 201);
  assert.equal((await json<{ role: string }>(created)).role, 'viewer');
  assert.equal((await call('admin1', 'POST', '/admin/users', { username: 'carol', role: 'viewer', password: 'carol password 1' })).status, 409);
  const bad = await call('admin1', 'POST', '/admin/users', { username: 'carol', role: 'superuser', password: 'carol password 1' });
  assert.equal(bad.status, 400);
  assert.match((await json<{ error: { message: string } }>(bad)).error.message, /^role: /);

  const session = await json<{ refreshToken: string }>(await login('carol', 'carol password 1'));
  const promoted = await call('admin1', 'PUT', '/admin/users/carol', { role: 'analyst' });
  assert.equal((await json<{ role: string }>(promoted)).role, 'analyst');
  const refreshed = await t.app.request(`${API_PREFIX}/refresh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ refreshToken: session.refreshToken }),
  });
  assert.equal(refreshed.status, 401, 'a role change ends the sessions (the next login carries the new role)');
  const carolToken = ((await (await login('carol', 'carol password 1')).json()) as { accessToken: string }).accessToken;
  const asCarol = () => t.app.request(`${API_PREFIX}/me`, { headers: { authorization: `Bearer ${carolToken}` } });
  assert.equal((await asCarol()).status, 200);
  assert.equal((await call('admin1', 'PUT', '/admin/users/carol', { disabled: true })).status, 200);
  await new Promise((r) => setTimeout(r, 250)); // the fixture's re-check interval (200 ms)
  assert.equal((await asCarol()).status, 401, 'an unexpired access token of a disabled user is refused');
  assert.equal((await login('carol', 'carol password 1')).status, 401, 'disabled users cannot log in');
  assert.equal((await call('admin1', 'PUT', '/admin/users/carol', { disabled: false, password: 'carol password 2' })).status, 200);
  assert.equal((await login('carol', 'carol password 2')).status, 200);
  assert.equal((await call('admin1', 'DELETE', '/admin/users/carol')).status, 204);
  assert.equal((await call('admin1', 'GET', '/admin/users/carol')).status, 404);
  const list = await json<{ users: { username: string }[] }>(await call('admin1', 'GET', '/admin/users'));
  assert.deepEqual(
    list.users.map((u) => u.username),
    ['admin1', 'analyst1', 'analyst2', 'viewer1'],
  );

  const audit = await json<{ entries: { action: string; actor: string; target: string }[] }>(
    await call('admin1', 'GET', '/admin/audit?action=user.&actor=admin1&limit=50'),
  );
  assert.deepEqual(audit.entries.map((e) => e.action).reverse(), ['user.create', 'user.update', 'user.update', 'user.update', 'user.delete']);
  assert.ok(audit.entries.every((e) => e.actor === 'admin1' && e.target === 'carol'));
});

test('audit log: filters and keyset paging walk every entry once, newest first', async () => {
  for (let i = 0; i < 5; i++) await t.accounts.audit.record({ actor: 'pager', action: 'test.page', target: `n${i}`, outcome: 'ok' });
  const seen: string[] = [];
  let cursor: string | null = '';
  while (cursor !== null) {
    const page: { entries: { target: string }[]; next: string | null } = await json(
      await call('admin1', 'GET', `/admin/audit?actor=pager&limit=2${cursor ? `&cursor=${cursor}` : ''}`),
    );
    assert.ok(page.entries.length <= 2);
    seen.push(...page.entries.map((e) => e.target));
    cursor = page.next;
  }
  assert.deepEqual(seen, ['n4', 'n3', 'n2', 'n1', 'n0']);
  const none = await json<{ entries: unknown[] }>(await call('admin1', 'GET', '/admin/audit?actor=pager&outcome=failed'));
  assert.deepEqual(none.entries, []);
  const future = await json<{ entries: unknown[] }>(await call('admin1', 'GET', '/admin/audit?from=2999-01-01T00:00:00Z'));
  assert.deepEqual(future.entries, []);
  assert.equal((await call('admin1', 'GET', '/admin/audit?cursor=nonsense')).status, 400);
});

test('system status, storage and recent logs', async () => {
  const failed = await login('viewer1', 'not the password');
  assert.equal(failed.status, 401);
  const status = await json<{
    uptimeSeconds: number;
    versions: unknown;
    database: { bytes: number };
    broker: unknown;
    messages: { perSecond: number };
    logins: { overBudget: boolean; failures: number; passwordChecks: number };
  }>(await call('admin1', 'GET', '/admin/system/status'));
  assert.equal(status.logins.overBudget, false);
  assert.ok(status.logins.failures >= 1 && status.logins.passwordChecks >= 5, 'the failed login and the fixture sign-ins are counted');
  assert.ok(status.uptimeSeconds >= 5);
  assert.deepEqual(status.versions, { collector: '9.9.9', node: process.versions.node });
  assert.ok(status.database.bytes > 0);
  assert.deepEqual(status.broker, { mode: 'embedded', clients: 0, ok: true, limits: { oversized: 0, retain: 0, task: 0, connections: 0, logins: 0, busy: 0 } });
  assert.equal(typeof status.messages.perSecond, 'number');
  const storage = await json<{ database: { tables: { table: string; partitions: number }[] } }>(await call('admin1', 'GET', '/admin/storage'));
  const audit = storage.database.tables.find((x) => x.table === 'audit_log');
  assert.ok(audit && audit.partitions >= 1, 'partitioned audit_log listed once with its partitions');
  assert.ok(!storage.database.tables.some((x) => x.table === 'audit_log_default'), 'partitions summed into their parent');
  const logs = await json<{ lines: { msg: string; level: number; component?: string }[] }>(
    await call('admin1', 'GET', '/admin/logs?level=info&component=http&limit=5'),
  );
  assert.ok(logs.lines.length > 0 && logs.lines.length <= 5);
  assert.ok(logs.lines.every((l) => l.component === 'http' && l.level >= 30));
  assert.equal((await call('admin1', 'GET', '/admin/logs?level=loud')).status, 400);
});

test('preferences: defaults, validated merge, avatar by content (PNG ok, text refused, > 256 KB refused)', async () => {
  const defaults = await json(await call('viewer1', 'GET', '/preferences'));
  assert.deepEqual(defaults, { theme: 'system', timeZone: 'UTC', defaultRange: '1h', pageSize: 50 });
  const set = await call('viewer1', 'PUT', '/preferences', { theme: 'dark', timeZone: 'Europe/Berlin' });
  assert.deepEqual(await json(set), { theme: 'dark', timeZone: 'Europe/Berlin', defaultRange: '1h', pageSize: 50 });
  for (const [body, field] of [
    [{ timeZone: 'Mars/Olympus' }, 'timeZone'],
    [{ pageSize: 5 }, 'pageSize'],
    [{ colour: 'red' }, ''],
  ] as const) {
    const res = await call('viewer1', 'PUT', '/preferences', body);
    assert.equal(res.status, 400, JSON.stringify(body));
    assert.match((await json<{ error: { message: string } }>(res)).error.message, new RegExp(field));
  }
  assert.equal((await json<{ theme: string }>(await call('viewer1', 'GET', '/preferences'))).theme, 'dark', 'a refused change stores nothing');

  const png = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]);
  assert.equal((await call('viewer1', 'PUT', '/preferences/avatar', png, { 'content-type': 'image/png' })).status, 204);
  const got = await call('viewer1', 'GET', '/preferences/avatar');
  assert.equal(got.headers.get('content-type'), 'image/png');
  assert.deepEqual(new Uint8Array(await got.arrayBuffer()), png);
  const prefs = await json<{ avatar?: string }>(await call('viewer1', 'GET', '/preferences'));
  assert.equal(prefs.avatar, `data:image/png;base64,${Buffer.from(png).toString('base64')}`);
  const text = await call('viewer1', 'PUT', '/preferences/avatar', new TextEncoder().encode('<svg onload=alert(1)>'), { 'content-type': 'image/png' });
  assert.equal(text.status, 400);
  const big = new Uint8Array(256 * 1024 + 1);
  big.set(png);
  assert.equal((await call('viewer1', 'PUT', '/preferences/avatar', big)).status, 400);
  const webp = Buffer.concat([Buffer.from('RIFF'), Buffer.alloc(4), Buffer.from('WEBPVP8 ')]);
  const viaJson = await call('viewer1', 'PUT', '/preferences', { avatar: `data:image/webp;base64,${webp.toString('base64')}` });
  const afterAvatar = await json<{ avatar: string; theme: string; timeZone: string }>(viaJson);
  assert.match(afterAvatar.avatar, /^data:image\/webp;base64,/);
  assert.deepEqual([afterAvatar.theme, afterAvatar.timeZone], ['dark', 'Europe/Berlin'], 'keys a change leaves out keep their stored values (no defaults)');
  assert.equal((await call('viewer1', 'DELETE', '/preferences/avatar')).status, 204);
  assert.equal((await call('viewer1', 'GET', '/preferences/avatar')).status, 404);
  const token = await t.app.request(`${API_PREFIX}/preferences`, { headers: { authorization: `Bearer ${t.token}` } });
  assert.equal(token.status, 403, 'API tokens have no preferences');
});

const HOSTILE = [
  "' OR '1'='1",
  "x'; DROP TABLE users; --",
  '1 UNION SELECT password_hash FROM users',
  '../../../etc/passwd',
  '..%2F..%2Fetc%2Fpasswd',
  '%00',
  '\\..\\..\\windows',
];
/** Query parameters each route reads (the rest are ignored by design). */
const QUERIES: Record<string, string[]> = {
  '/sensors/activity': ['since', 'limit'],
  '/sensors/:name/health': ['from', 'to', 'maxPoints'],
  '/admin/audit': ['from', 'to', 'actor', 'action', 'outcome', 'limit', 'cursor'],
  '/admin/logs': ['level', 'component', 'limit'],
};

test('SQL-injection and path-traversal strings in every path and query parameter get a 4xx and change nothing', async () => {
  await t.sensors.register({ name: 'edge-1', location: 'lab' });
  const snapshot = async () =>
    JSON.stringify(
      await Promise.all(
        [
          'SELECT username, role, disabled, password_hash FROM users ORDER BY 1',
          'SELECT name, secret_hash FROM sensors ORDER BY 1',
          'SELECT name, token_hash, role FROM api_tokens ORDER BY 1',
        ].map((q) => t.db.query(q)),
      ),
    );
  const before = await snapshot();
  let tried = 0;
  for (const route of t.app.routes) {
    if (route.method === 'ALL' || !route.path.startsWith(API_PREFIX)) continue;
    const path = route.path.slice(API_PREFIX.length);
    const params = path.match(/:\w+/g) ?? [];
    const valid = path.replace(/:name/g, 'edge-1').replace(/:username/g, 'viewer1');
    for (const hostile of HOSTILE) {
      for (const param of params) {
        const url = path
          .replace(param, encodeURIComponent(hostile))
          .replace(/:name/g, 'edge-1')
          .replace(/:username/g, 'viewer1');
        const res = await call('admin1', route.method, url);
        assert.ok(res.status >= 400 && res.status < 500, `${route.method} ${url} → ${res.status}`);
        tried += 1;
      }
      for (const name of QUERIES[path] ?? []) {
        const url = `${valid}?${name}=${encodeURIComponent(hostile)}`;
        const res = await call('admin1', route.method, url);
        assert.ok(res.status >= 400 && res.status < 500, `${route.method} ${url} → ${res.status}`);
        tried += 1;
      }
    }
  }
  assert.ok(tried > 100, `${tried} hostile requests`);
  assert.equal(await snapshot(), before, 'users, sensors and API tokens unchanged');
});
