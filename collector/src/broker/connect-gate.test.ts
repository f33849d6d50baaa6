import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createTestBroker } from './broker.fixture.js';
import { ConnectAttempts, ConnectGate } from './connect-attempts.js';
import { hashMachineSecret } from '../domain/accounts/machine-secrets.js';
import { SecretCache } from './secret-cache.js';

test('ConnectGate: a bucket of `burst` refilled at the rate, a cap on checks in progress, refusals counted', () => {
  let now = 0;
  const gate = new ConnectGate({ ratePerSecond: 10, burst: 3, maxPending: 4, now: () => now });
  assert.deepEqual([gate.admit(), gate.admit(), gate.admit(), gate.admit()], [true, true, true, false]);
  assert.equal(gate.refused, 1);
  now = 100; // one token back (10 a second)
  assert.deepEqual([gate.admit(), gate.admit()], [true, false]);
  now = 10_000; // full again, but only 4 checks may be in progress: 4 are
  assert.equal(gate.pending, 4);
  assert.equal(gate.admit(), false, 'over the pending cap');
  gate.settled();
  assert.equal(gate.admit(), true, 'a settled check frees its slot');
  assert.equal(gate.refused, 3);
  assert.throws(() => new ConnectGate({ ratePerSecond: 0 }), /ratePerSecond must be > 0, got 0/);
  assert.throws(() => new ConnectGate({ ratePerSecond: 0.5 }), /burst must be ≥ 1, got 0.5/);
});

test('SecretCache: only the secret that verified, within the TTL; forget and the size cap drop entries', () => {
  let now = 0;
  const cache = new SecretCache({ ttlMs: 1_000, maxEntries: 2, now: () => now });
  assert.equal(cache.matches('alpha', 's1'), false, 'nothing cached yet');
  cache.remember('alpha', 's1');
  assert.equal(cache.matches('alpha', 's1'), true);
  assert.equal(cache.matches('alpha', 's2'), false, 'another secret for the same name');
  assert.equal(cache.matches('bravo', 's1'), false, 'the same secret for another name');
  now = 1_000;
  assert.equal(cache.matches('alpha', 's1'), false, 'expired at the TTL');
  cache.remember('alpha', 's1');
  cache.remember('bravo', 's2');
  cache.remember('charlie', 's3');
  assert.equal(cache.size, 2);
  assert.equal(cache.matches('alpha', 's1'), false, 'the longest-cached entry went first');
  assert.equal(
    cache.forget((n) => n === 'bravo'),
    1,
  );
  assert.equal(cache.matches('bravo', 's2'), false);
  assert.equal(cache.matches('charlie', 's3'), true);
  assert.deepEqual(cache.counters, { hits: 2, misses: 6 });
});

test('the broker answers CONNECTs over its rate with CONNACK 3 at once, counted as busy, not as failed logins', async () => {
  const attempts = new ConnectAttempts({ maxFailures: 1 });
  // A bucket of 2 that refills once in 1000 s: the third CONNECT is over the rate whatever the load.
  const t = await createTestBroker(['alpha', 'bravo', 'charlie'], { attempts, gate: new ConnectGate({ ratePerSecond: 0.001, burst: 2 }) });
  try {
    const login = (name: string) => ({ clientId: name, username: name, password: t.secrets[name]! });
    await t.client(login('alpha'));
    await t.client(login('bravo'));
    const started = Date.now();
    await assert.rejects(t.client(login('charlie')), (err: Error & { code?: number }) => {
      assert.equal(err.code, 3, `CONNACK return code 3 (server unavailable), got ${err.code}: ${err.message}`);
      return true;
    });
    assert.ok(Date.now() - started < 4_000, 'answered, not left to the 5 s connect timeout');
    const limits = t.broker.status().limits!;
    assert.equal(limits.busy, 1);
    assert.equal(limits.logins, 0);
    assert.equal(attempts.blocked('127.0.0.1'), false, 'a busy refusal is not a failed login (1 failure would block)');
  } finally {
    await t.close();
  }
});

test('SecretCache.preload takes stored SHA-256 hashes and skips other forms', () => {
  const cache = new SecretCache();
  const n = cache.preload([
    { name: 'alpha', secretHash: hashMachineSecret('s1') },
    { name: 'legacy', secretHash: '$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA' },
  ]);
  assert.equal(n, 1);
  assert.equal(cache.matches('alpha', 's1'), true);
  assert.equal(cache.matches('alpha', 's2'), false);
  assert.equal(cache.matches('legacy', 'anything'), false);
});

test('CONNECTs are answered from the secret cache (read at start, then verified secrets); disconnect and revoke send a sensor back to the database', async () => {
  // One broker for the whole story: each fixture costs a PGlite with migrations.
  const t = await createTestBroker(['alpha', 'bravo'], { preloadSecrets: true });
  try {
    let checks = 0;
    const verify = t.sensors.verifySecret.bind(t.sensors);
    t.sensors.verifySecret = (name, secret) => {
      checks += 1;
      return verify(name, secret);
    };
    const login = { clientId: 'alpha', username: 'alpha', password: t.secrets.alpha! };
    await (await t.client(login)).endAsync();
    await (await t.client(login)).endAsync();
    assert.equal(checks, 0, 'both CONNECTs answered from the hash read at start');
    await assert.rejects(t.client({ ...login, password: 'not-the-secret' }), (err: Error & { code?: number }) => err.code === 4);
    assert.equal(checks, 1, 'a different secret is checked against the database, and refused');
    t.broker.disconnect((id) => id === 'alpha');
    await (await t.client(login)).endAsync();
    assert.equal(checks, 2, 'after disconnect() the secret is checked again');
    await (await t.client(login)).endAsync();
    assert.equal(checks, 2, 'and remembered once it verified');
    await t.sensors.revokeSecret('bravo');
    t.broker.disconnect((id) => id === 'bravo'); // what revoke does through the collector's kick
    await assert.rejects(t.client({ clientId: 'bravo', username: 'bravo', password: t.secrets.bravo! }), (err: Error & { code?: number }) => err.code === 4);
    assert.equal(checks, 3, 'the revoked sensor went to the database and was refused');
  } finally {
    await t.close();
  }
});
