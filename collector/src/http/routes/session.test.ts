import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SignJWT } from 'jose';
import { AccessTokens } from '../../domain/accounts/access-tokens.js';
import { createTestHttp, USER_PASSWORD, type TestHttp } from '../app.fixture.js';
import { API_PREFIX } from '../app.js';

let t: TestHttp;
before(async () => {
  t = await createTestHttp({ limits: { maxFailuresPerUser: 3, maxFailuresPerAddress: 1000, lockoutSeconds: 60 } });
});
after(() => t.close());

const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  t.app.request(`${API_PREFIX}${path}`, {
    method: 'POST',
    body: body === undefined ? null : JSON.stringify(body),
    headers: { 'content-type': 'application/json', ...headers },
  });
const me = (token: string) => t.app.request(`${API_PREFIX}/me`, { headers: { authorization: `Bearer ${token}` } });

interface LoginBody {
  accessToken: string;
  expiresIn: number;
  user: { username: string; role: string };
  refreshToken?: string;
}

/** The pcapmesh_refresh value a Set-Cookie header carries. */
function refreshCookie(res: Response): string {
  const header = res.headers.get('set-cookie') ?? '';
  const match = /pcapmesh_refresh=([^;]*)/.exec(header);
  assert.ok(match, `refresh cookie set: ${header}`);
  return match[1]!;
}

test('browser login: access JWT in the body, refresh token only in an httpOnly SameSite=Strict cookie', async () => {
  const res = await post('/login', { username: 'analyst1', password: USER_PASSWORD });
  assert.equal(res.status, 200);
  const body = (await res.json()) as LoginBody;
  assert.deepEqual(body.user, { username: 'analyst1', role: 'analyst' });
  assert.equal(body.expiresIn, 900);
  assert.equal(body.refreshToken, undefined, 'no refresh token in a browser response body');
  const cookie = res.headers.get('set-cookie') ?? '';
  for (const attribute of [/HttpOnly/i, /SameSite=Strict/i, /Path=\/api\/v1/i, /Max-Age=604800/i]) assert.match(cookie, attribute);
  const who = await me(body.accessToken);
  assert.equal(who.status, 200);
  const [row] = await t.db.query<{ id: number }>("SELECT id FROM users WHERE username = 'analyst1'");
  assert.deepEqual(
    await who.json(),
    { id: `user:${row!.id}`, username: 'analyst1', role: 'analyst', kind: 'user' },
    'with the principal id that owns its jobs',
  );
});

test('refresh rotates; reusing a used refresh token revokes the whole family (audited)', async () => {
  const first = refreshCookie(await post('/login', { username: 'viewer1', password: USER_PASSWORD }));
  const rotated = await post('/refresh', undefined, { cookie: `pcapmesh_refresh=${first}` });
  assert.equal(rotated.status, 200);
  const second = refreshCookie(rotated);
  assert.notEqual(second, first);
  assert.equal(((await rotated.json()) as LoginBody).user.username, 'viewer1');

  const reuse = await post('/refresh', undefined, { cookie: `pcapmesh_refresh=${first}` });
  assert.equal(reuse.status, 401, 'a used token is refused');
  const afterReuse = await post('/refresh', undefined, { cookie: `pcapmesh_refresh=${second}` });
  assert.equal(afterReuse.status, 401, 'the family is revoked: the newest token is dead too');
  const audit = await t.accounts.audit.list({ action: 'refresh.reuse', limit: 10 });
  assert.equal(audit.entries[0]?.actor, 'viewer1');
});

test('concurrent refreshes with one token: exactly one wins', async () => {
  const login = (await (await post('/login', { username: 'analyst2', password: USER_PASSWORD, client: 'api' })).json()) as LoginBody;
  const results = await Promise.all([1, 2, 3].map(() => post('/refresh', { refreshToken: login.refreshToken })));
  assert.deepEqual(results.map((r) => r.status).sort(), [200, 401, 401]);
});

test('API clients get the refresh token in the body; logout revokes it and clears the cookie', async () => {
  const res = await post('/login', { username: 'admin1', password: USER_PASSWORD }, { 'x-client': 'api' });
  const body = (await res.json()) as LoginBody;
  assert.equal(res.headers.get('set-cookie'), null, 'no cookie for API clients');
  assert.match(body.refreshToken ?? '', /^pmr_/);
  const next = (await (await post('/refresh', { refreshToken: body.refreshToken })).json()) as LoginBody;
  assert.ok(next.refreshToken && next.refreshToken !== body.refreshToken);
  const out = await post('/logout', { refreshToken: next.refreshToken });
  assert.equal(out.status, 204);
  assert.match(out.headers.get('set-cookie') ?? '', /pcapmesh_refresh=;.*Max-Age=0/i);
  assert.equal((await post('/refresh', { refreshToken: next.refreshToken })).status, 401);
});

test('bad credentials: 401 with one message for wrong password and unknown user; bad bodies 400', async () => {
  const wrong = await post('/login', { username: 'admin1', password: 'not the password' });
  const unknown = await post('/login', { username: 'nobody', password: 'not the password' });
  assert.equal(wrong.status, 401);
  assert.equal(unknown.status, 401);
  assert.deepEqual(await wrong.json(), await unknown.json());
  const missing = await post('/login', { username: 'admin1' });
  assert.equal(missing.status, 400);
  assert.match(((await missing.json()) as { error: { message: string } }).error.message, /^password: /);
  const notJson = await t.app.request(`${API_PREFIX}/login`, { method: 'POST', body: 'username=admin1' });
  assert.equal(notJson.status, 400);
  const failures = await t.accounts.audit.list({ action: 'login', outcome: 'failed', limit: 10 });
  assert.deepEqual(failures.entries.map((e) => e.target).sort(), ['admin1', 'nobody']);
});

test('a tampered, expired, alg:none or foreign-key JWT is rejected with 401', async () => {
  const login = (await (await post('/login', { username: 'viewer1', password: USER_PASSWORD })).json()) as LoginBody;
  const [header, payload, signature] = login.accessToken.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

  const tampered = `${header}.${b64({ ...claims, role: 'admin' })}.${signature}`;
  const algNone = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, role: 'admin' })}.`;
  const foreign = await new SignJWT({ ...claims }).setProtectedHeader({ alg: 'HS256' }).sign(new Uint8Array(32).fill(7));
  const stale = await new AccessTokens(new Uint8Array(32), 15, () => new Date(Date.now() - 16 * 60_000)).issue({ username: 'viewer1', role: 'viewer' });
  // The same key as the collector's, but issued 16 minutes ago: expired.
  const [{ value }] = (await t.db.query<{ value: string }>("SELECT value FROM auth_secrets WHERE name = 'jwt-hs256'")) as [{ value: string }];
  const expired = await new AccessTokens(Buffer.from(value, 'base64url'), 15, () => new Date(Date.now() - 16 * 60_000)).issue({
    username: 'viewer1',
    role: 'viewer',
  });
  assert.equal((await me(login.accessToken)).status, 200, 'the genuine token works');
  for (const [what, token] of Object.entries({ tampered, algNone, foreign, stale: stale.token, expired: expired.token })) {
    const res = await me(token);
    assert.equal(res.status, 401, what);
  }
});

test('throttling: after the limit the username is locked out (429 + Retry-After, even with the right password), lockout audited', async () => {
  for (let i = 0; i < 3; i++) assert.equal((await post('/login', { username: 'analyst2', password: 'wrong wrong wrong' })).status, 401);
  const locked = await post('/login', { username: 'analyst2', password: USER_PASSWORD });
  assert.equal(locked.status, 429);
  const retry = Number(locked.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 60, `Retry-After ${retry}`);
  assert.equal(((await locked.json()) as { error: { code: string } }).error.code, 'throttled');
  const lockouts = await t.accounts.audit.list({ action: 'login.lockout', limit: 10 });
  assert.deepEqual(
    lockouts.entries.map((e) => [e.target, e.details.scope]),
    [['analyst2', 'user']],
  );
  assert.equal((await post('/login', { username: 'analyst1', password: USER_PASSWORD })).status, 200, 'other users are unaffected');
});
