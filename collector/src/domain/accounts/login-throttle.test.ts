import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MemoryCache } from '../../cache/memory.js';
import { forEachCache } from '../../testing/caches.js';
import { KnownClients } from './known-clients.js';
import { LoginThrottle, ThrottledError, type BudgetChange, type LoginAttempt, type LoginThrottleLimits } from './login-throttle.js';

const LIMITS: LoginThrottleLimits = {
  maxFailuresPerUser: 3,
  maxFailuresPerAddress: 1000,
  lockoutSeconds: 60,
  globalFailuresPerMinute: 5,
  unknownChecksPerSecond: 1,
};
const unknown = (username: string, address: string): LoginAttempt => ({ username, address, known: [] });

forEachCache('login throttle', (ctx) => {
  test('known sources: not refused by the user lockout, but locked out by their own failures', async () => {
    const throttle = new LoginThrottle(ctx.cache, LIMITS, { tarpitMs: 0 });
    const user = `u-${randomBytes(4).toString('hex')}`;
    for (let i = 0; i < 3; i++) assert.deepEqual(await throttle.failed(unknown(user, `192.0.2.${i}`)), i === 2 ? ['user'] : []);
    await assert.rejects(throttle.admit(unknown(user, '192.0.2.99')), ThrottledError);
    const known: LoginAttempt = { username: user, address: '10.0.0.1', known: ['pair:a'] };
    await throttle.admit(known);
    assert.deepEqual(await throttle.failed(known), []);
    assert.deepEqual(await throttle.failed(known), []);
    // Known failures count for the user too (locking unknown sources out again) and lock the known source.
    assert.deepEqual(await throttle.failed(known), ['user', 'known']);
    await assert.rejects(throttle.admit(known), (err: unknown) => err instanceof ThrottledError && err.retryAfterSeconds > 0);
    await throttle.admit({ ...known, known: ['cookie:other-browser'] });
  });

  test('global budget: entered above the threshold, unknown attempts get one check a second, known ones all; left after a quiet minute', async () => {
    let clock = Date.parse('2030-01-01T00:00:00.500Z');
    const changes: BudgetChange[] = [];
    // The clock is years ahead: the minutes and seconds counted are this test's alone.
    const cache = ctx.cache;
    const throttle = new LoginThrottle(cache, LIMITS, { now: () => clock, tarpitMs: 0, onBudgetChange: (c) => void changes.push(c) });
    // A second collector on the same cache store sees the same budget.
    const other = new LoginThrottle(cache, LIMITS, { now: () => clock, tarpitMs: 0 });
    for (let i = 0; i < 6; i++) {
      await throttle.admit(unknown(`victim${i}`, `127.0.0.${i + 2}`));
      await throttle.failed(unknown(`victim${i}`, `127.0.0.${i + 2}`));
    }
    assert.equal(throttle.overBudget, true);
    assert.deepEqual(changes, [{ state: 'entered', failuresPerMinute: 6, threshold: 5 }]);

    await throttle.admit(unknown('victim9', '127.0.0.50')); // this second's one check
    const refused = await throttle.admit(unknown('victim9', '127.0.0.51')).then(
      () => null,
      (err: unknown) => err,
    );
    assert.ok(refused instanceof ThrottledError, 'the second unknown attempt in the same second is refused');
    assert.equal(refused.retryAfterSeconds, 1);
    await assert.rejects(other.admit(unknown('victim9', '127.0.0.52')), ThrottledError, 'the other collector shares the allowance');
    assert.equal(other.overBudget, true);
    for (let i = 0; i < 5; i++) await throttle.admit({ username: 'ana', address: '10.0.0.1', known: ['pair:x'] });
    assert.equal(throttle.counters.budgetRefused, 1);

    clock += 1000;
    await throttle.admit(unknown('victim9', '127.0.0.53')); // the next second's check

    clock += 60_000; // the previous minute still counts
    assert.equal(await throttle.globalState(), true);
    clock += 60_000;
    assert.equal(await throttle.globalState(), false);
    await throttle.admit(unknown('victim9', '127.0.0.54'));
    assert.deepEqual(
      changes.map((c) => c.state),
      ['entered', 'left'],
    );
    assert.deepEqual([throttle.counters.budgetEntered, throttle.counters.budgetLeft], [1, 1]);
  });
});

test('password checks: at most maxConcurrentChecks at once, known attempts first, a full queue refused', async () => {
  const cache = new MemoryCache('checks:');
  const throttle = new LoginThrottle(cache, { ...LIMITS, maxConcurrentChecks: 1, maxQueuedChecks: 1 }, { tarpitMs: 0 });
  const order: string[] = [];
  let release!: () => void;
  const first = throttle.passwordCheck(unknown('a', '1'), () => new Promise<void>((resolve) => (release = resolve)).then(() => order.push('first')));
  const queuedUnknown = throttle.passwordCheck(unknown('b', '2'), async () => order.push('unknown'));
  await assert.rejects(
    throttle.passwordCheck(unknown('c', '3'), async () => order.push('never')),
    /busy/,
  );
  const queuedKnown = throttle.passwordCheck({ username: 'd', address: '4', known: ['pair:d'] }, async () => order.push('known'));
  release();
  await Promise.all([first, queuedUnknown, queuedKnown]);
  assert.deepEqual(order, ['first', 'known', 'unknown']);
  assert.deepEqual([throttle.counters.passwordChecks, throttle.counters.busyRefused], [3, 1]);
  // Every slot is back: the next check runs at once.
  assert.equal(await throttle.passwordCheck(unknown('e', '5'), async () => 'ran'), 'ran');
  await cache.close();
});

test('known clients: pairs and cookies of the right user count; forged, foreign, expired and malformed cookies are ignored', async () => {
  const cache = new MemoryCache('known:');
  const key = randomBytes(32);
  let clock = Date.now();
  const known = new KnownClients(cache, key, 30, () => clock);
  const cookie = await known.remember('ana', '10.0.0.1');
  assert.deepEqual(
    (await known.identify('ana', '10.0.0.1')).map((s) => s.split(':')[0]),
    ['pair'],
  );
  assert.deepEqual(await known.identify('bob', '10.0.0.1'), [], 'the pair is per user');
  assert.deepEqual(
    (await known.identify('ana', '10.0.0.2', cookie)).map((s) => s.split(':')[0]),
    ['cookie'],
  );
  assert.deepEqual(await known.identify('bob', '10.0.0.2', cookie), [], 'the cookie is per user');

  const [, payload, signature] = cookie.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  const forged = `v1.${Buffer.from(JSON.stringify({ ...claims, u: 'bob' })).toString('base64url')}.${signature}`;
  const foreignKey = await new KnownClients(cache, randomBytes(32), 30, () => clock).remember('bob', 'unknown');
  for (const bad of [forged, foreignKey, 'x', 'v1..', `v1.${payload}.${signature}.extra`, `v1.${payload}`, 'v1.%%%.###', 'y'.repeat(5000)]) {
    assert.deepEqual(await known.identify('bob', '10.0.0.3', bad), [], bad.slice(0, 40));
  }
  clock += 31 * 86_400_000;
  assert.deepEqual(await known.identify('ana', '10.0.0.3', cookie), [], 'expired');
  assert.equal(known.counters.cookiesIgnored, 10, 'bob with ana’s cookie, 8 bad ones, the expired one');
  await known.remember('ana', 'unknown');
  assert.deepEqual(await known.identify('ana', 'unknown'), [], 'an undetermined address is never known');
  assert.throws(() => new KnownClients(cache, key, 0), /whole number of days ≥ 1, got 0/);
  await cache.close();
});
