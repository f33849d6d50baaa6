/**
 * Finding 3 of #14: a message the collector could not store must not be acknowledged. A real
 * storage failure (the health table renamed away under the running collector) while a sensor
 * publishes QoS 1 through the embedded broker: no PUBACK arrives, the sensor is disconnected, and
 * after the table is back the client's resend (mqtt.js keeps unacknowledged QoS 1 messages and
 * sends them again on reconnect, as the agent's spool does) stores every message, none lost.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeMessage, topics } from '@pcapmesh/shared/wire';
import { connectAsync } from 'mqtt';
import { health } from '../domain/sensors/sensors.fixture.js';
import { createTestBroker } from './broker.fixture.js';

const until = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> => {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

test('a health report that could not be stored is not acknowledged; it is stored after the database recovers', async () => {
  const t = await createTestBroker(['alpha']);
  const client = await connectAsync(t.url, {
    protocolVersion: 4,
    clientId: 'alpha',
    username: 'alpha',
    password: t.secrets.alpha!,
    clean: true,
    reconnectPeriod: 300,
  });
  try {
    const stored = async () =>
      (
        await t.db.query<{ seq: number }>('SELECT h.seq FROM health_samples h JOIN sensors s ON s.id = h.sensor_id WHERE s.name = $1 ORDER BY h.seq', ['alpha'])
      ).map((r) => r.seq);
    const publish = (seq: number) =>
      client.publishAsync(topics.sensor('alpha', 'health'), Buffer.from(encodeMessage('health', health(seq, Date.now() + seq))), { qos: 1 });
    await publish(1);
    assert.deepEqual(await stored(), [1]);

    await t.db.exec('ALTER TABLE health_samples RENAME TO health_samples_away');
    let closes = 0;
    client.on('close', () => (closes += 1));
    const acked: number[] = [];
    const pending = [2, 3, 4].map((seq) => publish(seq).then(() => acked.push(seq)));
    await until('the sensor to be disconnected', () => closes > 0 && t.stats.snapshot().rejected['store-error'] >= 1);
    await new Promise((r) => setTimeout(r, 300));
    assert.deepEqual(acked, [], 'no PUBACK for a message that was not stored');

    await t.db.exec('ALTER TABLE health_samples_away RENAME TO health_samples');
    await Promise.all(pending);
    assert.deepEqual(acked.sort(), [2, 3, 4]);
    await t.ingest.drain();
    assert.deepEqual(await stored(), [1, 2, 3, 4], 'every message stored once the database is back, none lost');
  } finally {
    await client.endAsync(true);
    await t.close();
  }
});
