import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { MemoryCache } from '../../cache/memory.js';
import { openDb } from '../../storage/db.js';
import { migrate } from '../../storage/migrate.js';
import { AuditService } from '../accounts/audit.service.js';
import { LoginThrottle, ThrottledError } from '../accounts/login-throttle.js';
import { isDomainError } from '../errors.js';
import { DomainEvents } from '../events.js';
import { SensorService } from '../sensors/sensors.service.js';
import type { BrokerAccounts } from './broker-accounts.js';
import { EnrolmentService } from './enrolment.service.js';

test('failed enrolments are throttled per address like logins and audited once per lockout, not per guess', async () => {
  const log = pino({ level: 'silent' });
  const db = await openDb({ url: 'memory://' });
  try {
    await migrate(db);
    const audit = new AuditService({ db, log });
    const sensors = new SensorService({ db, events: new DomainEvents(), log, heartbeatTimeoutSeconds: 30 });
    const throttle = new LoginThrottle(new MemoryCache('test:'), { maxFailuresPerUser: 5, maxFailuresPerAddress: 50, lockoutSeconds: 600 }, { tarpitMs: 0 });
    const enrolment = new EnrolmentService({ db, sensors, audit, kick: () => 0, log, throttle });
    const { enrolment: issued } = await enrolment.createSensor({ name: 'edge-1', expiresInHours: 1 }, { actor: 'admin1' });

    for (let i = 0; i < 5; i += 1) {
      await assert.rejects(enrolment.enroll(`pme_guess-${i}`, '192.0.2.9'), (err) => isDomainError(err, 'unauthenticated'));
    }
    // Locked out: even the right token is refused before any lookup, with a Retry-After.
    await assert.rejects(enrolment.enroll(issued.token, '192.0.2.9'), (err) => err instanceof ThrottledError && err.retryAfterSeconds > 0);
    for (let i = 0; i < 20; i += 1) await assert.rejects(enrolment.enroll(`pme_more-${i}`, '192.0.2.9'), ThrottledError);

    const denied = (await audit.list({ action: 'sensor.enroll', limit: 100 })).entries.filter((e) => e.outcome === 'denied');
    assert.equal(denied.length, 1, 'one audit row for the lockout, none per failed guess');
    assert.equal(denied[0]!.sourceIp, '192.0.2.9');

    // Another address is not affected, and the token still works from there.
    assert.equal((await enrolment.enroll(issued.token, '192.0.2.10')).sensor, 'edge-1');
  } finally {
    await db.close();
  }
});

test('a broker that keeps accounts gets each change; when it refuses, the call is unavailable saying what the database already holds', async () => {
  const log = pino({ level: 'silent' });
  const db = await openDb({ url: 'memory://' });
  try {
    await migrate(db);
    const audit = new AuditService({ db, log });
    const sensors = new SensorService({ db, events: new DomainEvents(), log, heartbeatTimeoutSeconds: 30 });
    const calls: string[] = [];
    let refuse = false;
    const accounts: BrokerAccounts = {
      managed: true,
      setSensorSecret: async (name, secret) => {
        if (refuse) throw new Error('broker down');
        calls.push(`set ${name} ${secret.length > 20}`);
      },
      removeSensor: async (name) => {
        if (refuse) throw new Error('broker down');
        calls.push(`remove ${name}`);
      },
      setIntegrationSecret: async () => {},
      removeIntegration: async () => {},
    };
    const enrolment = new EnrolmentService({ db, sensors, audit, kick: () => 0, accounts, log });
    const { enrolment: issued } = await enrolment.createSensor({ name: 'edge-1', expiresInHours: 1 }, { actor: 'admin1' });
    const { secret } = await enrolment.enroll(issued.token, '192.0.2.1');
    const rotated = await enrolment.rotate('edge-1', { actor: 'admin1' });
    await enrolment.revoke('edge-1', { actor: 'admin1' });
    assert.deepEqual(calls, ['set edge-1 true', 'set edge-1 true', 'remove edge-1']);
    assert.notEqual(secret, rotated);

    refuse = true;
    await assert.rejects(
      enrolment.rotate('edge-1', { actor: 'admin1' }),
      (err) => isDomainError(err, 'unavailable') && /new secret is stored, but the MQTT broker did not take the change for sensor edge-1/.test(err.message),
    );
    assert.equal(await sensors.standing('edge-1'), 'active', 'the database holds the rotation');
    await assert.rejects(
      enrolment.revoke('edge-1', { actor: 'admin1' }),
      (err) => isDomainError(err, 'unavailable') && /revoked .* but the MQTT broker did not take the change/.test(err.message),
    );
    assert.equal(await sensors.standing('edge-1'), 'revoked', 'revoked in the database: ingest refuses its messages');
    const rows = (await audit.list({ action: 'sensor.revoke', limit: 10 })).entries;
    assert.equal(rows.length, 2, 'both revokes audited');
  } finally {
    await db.close();
  }
});
