/**
 * Login throttling through the real HTTP app (PGlite in memory, memory cache): known sources
 * (address pair, device cookie) against the per-user lockout, and the global failure budget
 * under a spray from many addresses. Source addresses are set as the TCP peer would be
 * (env.incoming.socket.remoteAddress); X-Forwarded-For is not trusted. The clock is injected
 * and only moved by the tests, so the per-second allowance and the minute windows are exact.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KnownClients } from '../../domain/accounts/known-clients.js';
import { createTestHttp, USER_PASSWORD, type TestHttp } from '../app.fixture.js';
import { API_PREFIX } from '../app.js';

interface ErrorBody {
  error: { code: string; message: string };
}

function client(t: () => TestHttp) {
  return (from: string, body: unknown, headers: Record<string, string> = {}, base = 'http://localhost') =>
    t().app.request(
      `${base}${API_PREFIX}/login`,
      { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json', ...headers } },
      { incoming: { socket: { remoteAddress: from } } },
    );
}

/** The pcapmesh_known value a Set-Cookie header carries, and the whole header. */
function knownCookie(res: Response): { value: string; header: string } {
  const header = (res.headers.getSetCookie?.() ?? []).find((h) => h.startsWith('pcapmesh_known=')) ?? '';
  const match = /^pcapmesh_known=([^;]*)/.exec(header);
  assert.ok(match, `device cookie set: ${res.headers.get('set-cookie')}`);
  return { value: match[1]!, header };
}

describe('known sources and the per-user lockout', () => {
  let t: TestHttp;
  let clock = Date.parse('2031-03-01T10:00:00Z');
  before(async () => {
    t = await createTestHttp({ now: () => new Date(clock), limits: { maxFailuresPerUser: 3, maxFailuresPerAddress: 1000, lockoutSeconds: 60 } });
  });
  after(() => t.close());
  const login = client(() => t);
  const lockOut = async (username: string) => {
    for (let i = 0; i < 3; i++) assert.equal((await login(`203.0.113.${i + 1}`, { username, password: 'attacker guess' })).status, 401);
  };

  test('a user signs in from a known address while their name is locked out for unknown sources', async () => {
    assert.equal((await login('10.0.0.1', { username: 'admin1', password: USER_PASSWORD, client: 'api' })).status, 200);
    await lockOut('admin1');
    const unknown = await login('198.51.100.7', { username: 'admin1', password: USER_PASSWORD, client: 'api' });
    assert.equal(unknown.status, 429, 'an unknown address cannot, even with the right password');
    assert.ok(Number(unknown.headers.get('retry-after')) >= 1);
    const known = await login('10.0.0.1', { username: 'admin1', password: USER_PASSWORD, client: 'api' });
    assert.equal(known.status, 200, 'the known address can');
    assert.equal(known.headers.get('set-cookie'), null, 'API clients get no device cookie');
    const otherUser = await login('10.0.0.1', { username: 'viewer1', password: 'attacker guess' });
    assert.equal(otherUser.status, 401, 'the address is known for admin1 only: viewer1 from it is an ordinary unknown attempt');
    const lockouts = await t.accounts.audit.list({ action: 'login.lockout', limit: 10 });
    assert.deepEqual(
      lockouts.entries.map((e) => [e.target, e.details.scope]),
      [['admin1', 'user']],
    );
  });

  test('the device cookie makes a new address known for its user only; forged, expired and junk cookies are ignored', async () => {
    const first = await login('10.0.0.2', { username: 'analyst1', password: USER_PASSWORD });
    assert.equal(first.status, 200);
    const cookie = knownCookie(first);
    for (const attribute of [/HttpOnly/i, /SameSite=Strict/i, /Path=\/api\/v1\/login/i, /Max-Age=2592000/i]) assert.match(cookie.header, attribute);
    assert.doesNotMatch(cookie.header, /Secure/i, 'not Secure over plain http');
    const overHttps = await login('10.0.0.2', { username: 'analyst1', password: USER_PASSWORD }, {}, 'https://localhost');
    assert.match(knownCookie(overHttps).header, /Secure/i, 'Secure over https');

    await lockOut('analyst1');
    await lockOut('analyst2');
    const withCookie = (from: string, username: string, value: string) =>
      login(from, { username, password: USER_PASSWORD }, { cookie: `pcapmesh_known=${value}` });
    assert.equal((await withCookie('10.0.0.3', 'analyst1', 'none')).status, 429, 'the new address is unknown without the cookie');
    const fromNewAddress = await withCookie('10.0.0.3', 'analyst1', cookie.value);
    assert.equal(fromNewAddress.status, 200, 'the cookie makes it known');
    assert.equal((await withCookie('10.0.0.4', 'analyst2', cookie.value)).status, 429, 'for its own user only');

    // Forged: analyst1's signature over a payload naming analyst2.
    const [, payload, signature] = cookie.value.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const forged = `v1.${Buffer.from(JSON.stringify({ ...claims, u: 'analyst2' })).toString('base64url')}.${signature}`;
    // Expired: signed with the collector's key 31 days ago.
    const [{ value: key }] = (await t.db.query<{ value: string }>("SELECT value FROM auth_secrets WHERE name = 'known-client-hmac'")) as [{ value: string }];
    const expired = await new KnownClients(t.cache, Buffer.from(key, 'base64url'), 30, () => clock - 31 * 86_400_000).remember('analyst2', 'unknown');
    const ignoredBefore = t.accounts.known.counters.cookiesIgnored;
    for (const bad of [forged, expired, 'v1.bm90IGpzb24.AAAA', '%', 'v1.' + 'A'.repeat(2000)]) {
      const res = await withCookie('10.0.0.5', 'analyst2', bad);
      assert.equal(res.status, 429, `ignored, not an error: ${bad.slice(0, 30)}`);
      assert.equal(((await res.json()) as ErrorBody).error.code, 'throttled');
    }
    assert.equal(t.accounts.known.counters.cookiesIgnored - ignoredBefore, 5);
  });

  test('failures from a known source lock that source out too (a stolen laptop cannot brute-force)', async () => {
    assert.equal((await login('10.0.0.9', { username: 'viewer1', password: USER_PASSWORD, client: 'api' })).status, 200);
    for (let i = 0; i < 3; i++) assert.equal((await login('10.0.0.9', { username: 'viewer1', password: `guess ${i}` })).status, 401);
    assert.equal((await login('10.0.0.9', { username: 'viewer1', password: USER_PASSWORD, client: 'api' })).status, 429);
    const lockouts = await t.accounts.audit.list({ action: 'login.lockout', limit: 20 });
    assert.deepEqual(
      lockouts.entries
        .filter((e) => e.target === 'viewer1')
        .map((e) => e.details.scope)
        .sort(),
      ['known', 'user'],
    );
    clock += 61_000;
    assert.equal((await login('10.0.0.9', { username: 'viewer1', password: USER_PASSWORD, client: 'api' })).status, 200, 'until the lockout ends');
  });
});

describe('global failure budget under a spray from many addresses', () => {
  let t: TestHttp;
  let clock = Date.parse('2031-03-01T10:00:00.250Z');
  before(async () => {
    t = await createTestHttp({
      now: () => new Date(clock),
      limits: { maxFailuresPerUser: 5, maxFailuresPerAddress: 50, lockoutSeconds: 900, globalFailuresPerMinute: 20, unknownChecksPerSecond: 1 },
    });
  });
  after(() => t.close());
  const login = client(() => t);

  test('unknown attempts get 429 + Retry-After without a password check; known ones succeed; audited and logged; ends after the window', async () => {
    const { throttle } = t.accounts;
    assert.equal((await login('10.1.0.1', { username: 'viewer1', password: USER_PASSWORD, client: 'api' })).status, 200);
    const spray = async (n: number, offset: number) => {
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) {
        // Each guess from another address and for another name: under every per-address and per-user limit.
        const from = `127.0.${Math.floor((offset + i) / 250)}.${((offset + i) % 250) + 2}`;
        statuses.push((await login(from, { username: `victim${offset + i}`, password: 'Summer2031!' })).status);
      }
      return statuses;
    };
    assert.deepEqual(new Set(await spray(21, 0)), new Set([401]), 'up to the threshold every guess costs a password check');
    assert.equal(throttle.overBudget, true);

    const checksBefore = throttle.counters.passwordChecks;
    const during = await spray(30, 100);
    assert.equal(during.filter((s) => s === 401).length, 1, "this second's one check");
    assert.equal(during.filter((s) => s === 429).length, 29);
    assert.equal(throttle.counters.passwordChecks - checksBefore, 1, 'refused attempts cost no argon2 check');
    const refused = await login('127.9.9.9', { username: 'analyst1', password: USER_PASSWORD, client: 'api' });
    assert.equal(refused.status, 429, 'an unknown source is refused even with the right password');
    assert.equal(refused.headers.get('retry-after'), '1');
    assert.match(((await refused.json()) as ErrorBody).error.message, /too many failed logins on this server/);
    for (let i = 0; i < 3; i++) {
      assert.equal(
        (await login('10.1.0.1', { username: 'viewer1', password: USER_PASSWORD, client: 'api' })).status,
        200,
        'known: never limited by the budget',
      );
    }

    clock += 1000;
    assert.equal((await login('127.9.9.9', { username: 'analyst1', password: USER_PASSWORD, client: 'api' })).status, 200, 'the next second has a check again');
    clock += 120_000;
    assert.equal((await login('127.9.9.10', { username: 'nobody', password: 'x' })).status, 401, 'a quiet minute later: checked again');
    assert.equal(throttle.overBudget, false);

    const audit = await t.accounts.audit.list({ action: 'login.global-budget', limit: 10 });
    assert.deepEqual(audit.entries.map((e) => [e.details.state, e.outcome]).reverse(), [
      ['entered', 'denied'],
      ['left', 'ok'],
    ]);
    assert.deepEqual([throttle.counters.budgetEntered, throttle.counters.budgetLeft], [1, 1]);
    const lines = t.logs
      .query({ component: 'accounts', limit: 500 })
      .filter((l) => typeof l.msg === 'string' && l.msg.startsWith('global login failure budget'));
    assert.deepEqual(
      lines.map((l) => l.state),
      ['entered', 'left'],
      'logged once each way',
    );
  });
});
