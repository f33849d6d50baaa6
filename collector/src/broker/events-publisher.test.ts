import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { connectAsync } from 'mqtt';
import { pino } from 'pino';
import { topics, type SensorStatusEvent } from '@pcapmesh/shared/wire';
import { DomainEvents } from '../domain/events.js';
import { publishDomainEvents } from './events-publisher.js';
import { connectExternalBroker } from './external.js';

test('sensor status events are published as retained JSON under events/sensors/{name}/status', async () => {
  const log = pino({ level: 'silent' });
  const aedes = await Aedes.createBroker();
  const server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const broker = await connectExternalBroker({ url, sharedGroup: 'g', log });
  const events = new DomainEvents();
  const counters = { published: 0, failed: 0 };
  const stop = publishDomainEvents(events, broker, log, counters);
  try {
    const event: SensorStatusEvent = { type: 'sensor.status', sensor: 'edge-1', status: 'online', previous: 'unknown', reason: 'birth', at: '2026-01-02T03:04:05.000Z' };
    events.emit('sensor.status', event);
    for (let i = 0; i < 100 && counters.published === 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(counters, { published: 1, failed: 0 });

    // A late subscriber (an integration) gets the retained last status at once.
    const watcher = await connectAsync(url, { reconnectPeriod: 0 }, false);
    const got = new Promise<{ topic: string; body: unknown; retain: boolean }>((resolve) =>
      watcher.once('message', (topic, payload, packet) => resolve({ topic, body: JSON.parse(payload.toString()), retain: packet.retain })),
    );
    await watcher.subscribeAsync(topics.filters.allEvents, { qos: 1 });
    assert.deepEqual(await got, { topic: 'pcapmesh/v1/events/sensors/edge-1/status', body: event, retain: true });
    await watcher.endAsync();

    stop();
    events.emit('sensor.status', { ...event, status: 'offline' });
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(counters.published, 1, 'nothing published after stop()');
  } finally {
    await broker.close();
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise((resolve) => server.close(resolve));
  }
});
