/**
 * #17 A, the hardening rule under batching: one transaction carries several sensors' messages;
 * when that transaction fails to commit, none of its messages is acknowledged, every sensor is
 * disconnected and sends its message again, and the resends are stored — 0 lost, none twice.
 * Real parts: the embedded broker, ingest, SensorService on PGlite; the database is wrapped only
 * to make one COMMIT fail (the batch's statements all ran, then the transaction rolls back).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectAsync, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { encodeMessage, topics } from '@pcapmesh/shared/wire';
import { DomainEvents } from '../domain/events.js';
import { IngestStats } from '../domain/ingest-stats.js';
import { health } from '../domain/sensors/sensors.fixture.js';
import { SensorService } from '../domain/sensors/sensors.service.js';
import { openDb, type Db } from '../storage/db.js';
import { migrate } from '../storage/migrate.js';
import { startEmbeddedBroker } from './embedded.js';
import { Ingest } from './ingest.js';

const SENSORS = ['s-a', 's-b', 's-c', 's-d'];

const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 60_000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

test('a batch whose commit fails acknowledges none of its messages; all are resent and stored once', async () => {
  const log = pino({ level: 'silent' });
  const real = await openDb({ url: 'memory://' });
  await migrate(real);
  const commits = { failNext: false, failed: 0, committed: 0 };
  const db: Db = Object.create(real) as Db;
  db.transaction = async (fn) => {
    const fail = commits.failNext;
    commits.failNext = false;
    return real.transaction(async (tx) => {
      const result = await fn(tx);
      if (fail) {
        commits.failed += 1;
        throw new Error('COMMIT failed (test)');
      }
      commits.committed += 1;
      return result;
    });
  };
  const stats = new IngestStats();
  // One batch takes exactly the four sensors' messages (the delay never ends a batch here).
  const sensors = new SensorService({ db, events: new DomainEvents(), log, heartbeatTimeoutSeconds: 30, sensorBatch: { maxMessages: 4, maxDelayMs: 600_000 } });
  const secrets: Record<string, string> = {};
  for (const name of SENSORS) secrets[name] = (await sensors.register({ name })).secret;
  const ingest = new Ingest(sensors, stats, log);
  const broker = await startEmbeddedBroker({ host: '127.0.0.1', port: 0, log, policy: { verifySecret: (n, s) => sensors.verifySecret(n, s) } });
  await broker.consume((topic, payload) => ingest.handle(topic, payload));
  const clients: MqttClient[] = [];
  try {
    for (const name of SENSORS) {
      // mqtt.js keeps an unacknowledged QoS 1 message and sends it again after reconnecting, as the agent's spool does.
      const client = await connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, {
        protocolVersion: 4,
        clientId: name,
        username: name,
        password: secrets[name]!,
        clean: true,
        reconnectPeriod: 200,
        connectTimeout: 30_000,
      });
      clients.push(client);
    }
    const closes = new Map<string, number>(SENSORS.map((n) => [n, 0]));
    clients.forEach((c, i) => c.on('close', () => closes.set(SENSORS[i]!, closes.get(SENSORS[i]!)! + 1)));
    const acked: string[] = [];
    commits.committed = 0;
    commits.failNext = true;
    const sentAt = Date.now() - 5_000;
    const published = clients.map((c, i) =>
      c
        .publishAsync(topics.sensor(SENSORS[i]!, 'health'), Buffer.from(encodeMessage('health', health(1, sentAt + i))), { qos: 1 })
        .then(() => acked.push(SENSORS[i]!)),
    );

    await until('every sensor disconnected after the failed commit', () => [...closes.values()].every((n) => n > 0));
    assert.equal(commits.failed, 1, 'one batch, one failed commit');
    assert.equal(stats.snapshot().rejected['store-error'], 4, 'all four messages of the batch failed');
    assert.deepEqual(acked, [], 'no PUBACK for any message of the failed batch');

    await Promise.all(published);
    assert.deepEqual(acked.sort(), [...SENSORS].sort());
    await ingest.drain();
    const rows = await real.query<{ name: string; n: number }>(
      'SELECT s.name, count(*)::int AS n FROM health_samples h JOIN sensors s ON s.id = h.sensor_id GROUP BY s.name ORDER BY s.name',
    );
    assert.deepEqual(
      rows.map((r) => [r.name, r.n]),
      SENSORS.map((n) => [n, 1]),
      'every message stored, none lost, none twice',
    );
    const snap = stats.snapshot();
    assert.equal(snap.accepted.health, 4);
    assert.equal(snap.rejected.duplicate, 0, 'no message was stored before its resend');
    assert.equal(commits.committed, 1, 'the four resends were stored in one batch');
  } finally {
    await Promise.all(clients.map((c) => c.endAsync(true)));
    await broker.close();
    await ingest.drain();
    await real.close();
  }
});
