/**
 * The embedded broker listens a few start steps before the collector calls consume() (app.ts), and
 * a fleet reconnecting after a restart publishes in that gap. Such a sensor message must not be
 * acknowledged before the consumer has it: it waits, then goes to the consumer, then the PUBACK.
 * (Before: acknowledged and dropped — the 500-sensor restart fault test lost reports this way.)
 * Real parts: aedes with the sensor policy, an mqtt.js client, real secrets.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectAsync } from 'mqtt';
import { pino } from 'pino';
import { topics } from '@pcapmesh/shared/wire';
import { startEmbeddedBroker } from './embedded.js';

test('a sensor message published before consume() is acknowledged only after the consumer took it', async () => {
  const broker = await startEmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    log: pino({ level: 'silent' }),
    policy: { verifySecret: (name, secret) => Promise.resolve(name === 'early' && secret === 'early-secret') },
  });
  const client = await connectAsync(`mqtt://127.0.0.1:${broker.ports.mqtt}`, {
    protocolVersion: 4,
    clientId: 'early',
    username: 'early',
    password: 'early-secret',
    clean: true,
    reconnectPeriod: 0,
  });
  try {
    const events: string[] = [];
    const acked = client.publishAsync(topics.sensor('early', 'health'), Buffer.from([0xa0]), { qos: 1 }).then(() => events.push('puback'));
    // Give the broker time to (wrongly) acknowledge; a slow machine only makes this pass more easily.
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.equal(events.length, 0, 'no PUBACK while no consumer is set');
    await broker.consume((topic) => {
      events.push(`consumed ${topic}`);
      return Promise.resolve('done' as const);
    });
    await acked;
    assert.deepEqual(events, [`consumed ${topics.sensor('early', 'health')}`, 'puback']);
  } finally {
    await client.endAsync(true);
    await broker.close();
  }
});
