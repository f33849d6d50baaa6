import { test } from 'node:test';
import assert from 'node:assert/strict';
import { secretHashCounters } from '../domain/accounts/machine-secrets.js';
import { createTestBroker } from './broker.fixture.js';
import { ConnectAttempts } from './connect-attempts.js';

test('ConnectAttempts: over the limit within the window, free again when failures age out; bounded', () => {
  let now = 0;
  const a = new ConnectAttempts({ maxFailures: 2, windowMs: 1_000, maxAddresses: 3, now: () => now });
  a.failed('192.0.2.1');
  assert.equal(a.blocked('192.0.2.1'), false);
  a.failed('192.0.2.1');
  assert.equal(a.blocked('192.0.2.1'), true);
  assert.equal(a.blocked('192.0.2.2'), false, 'another address is not affected');
  now = 1_001;
  assert.equal(a.blocked('192.0.2.1'), false, 'failures older than the window no longer count');
  for (const x of ['a', 'b', 'c', 'd']) {
    a.failed(x);
    a.failed(x);
  }
  assert.equal(a.blocked('a'), false, 'the least recent address was dropped to stay within maxAddresses');
  assert.equal(a.blocked('d'), true);
});

test('MQTT logins with wrong secrets beyond the per-address limit are refused without a secret check', async () => {
  const attempts = new ConnectAttempts({ maxFailures: 3 });
  const t = await createTestBroker(['alpha'], { attempts });
  try {
    const before = secretHashCounters.sha256 + secretHashCounters.argon2;
    for (let i = 0; i < 3; i += 1) {
      await assert.rejects(t.client({ clientId: 'alpha', username: 'alpha', password: `wrong-${i}` }), /Bad username or password/);
    }
    assert.equal(secretHashCounters.sha256 + secretHashCounters.argon2, before + 3, 'three checks');
    for (let i = 0; i < 20; i += 1) {
      await assert.rejects(t.client({ clientId: 'alpha', username: 'alpha', password: `wrong-${i}` }), /Server unavailable/);
    }
    await assert.rejects(t.client({ clientId: 'alpha', username: 'alpha', password: t.secrets.alpha! }), /Server unavailable/);
    assert.equal(secretHashCounters.sha256 + secretHashCounters.argon2, before + 3, 'no check once over the limit');
    assert.equal(attempts.blockedCount, 21);
  } finally {
    await t.close();
  }
});
