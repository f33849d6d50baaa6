import { test } from 'node:test';
import assert from 'node:assert/strict';
import { connectAsync } from 'mqtt';
import { pino } from 'pino';
import { requireTool } from '@pcapmesh/shared/util/testing';
import { topics, type JobStatusEvent, type SensorStatusEvent } from '@pcapmesh/shared/wire';
import { DomainEvents } from '../domain/events.js';
import { publishDomainEvents } from './events-publisher.js';
import { connectExternalBroker } from './external.js';
import { startMosquitto } from './mosquitto.fixture.js';

test('sensor status events are published as retained JSON under events/sensors/{name}/status', async (t) => {
  // Through the real external-broker client, so on a real MQTT 5 broker (aedes speaks 3.1.1 only).
  const binary = requireTool(t, 'mosquitto');
  if (!binary) return;
  const log = pino({ level: 'silent' });
  const mosquitto = await startMosquitto(binary);
  const url = mosquitto.url;
  const broker = await connectExternalBroker({ url, sharedGroup: 'g', log }).catch(async (err: unknown) => {
    await mosquitto.stop();
    throw err;
  });
  const events = new DomainEvents();
  const counters = { published: 0, failed: 0 };
  const stop = publishDomainEvents(events, broker, log, counters);
  try {
    const event: SensorStatusEvent = {
      type: 'sensor.status',
      sensor: 'edge-1',
      status: 'online',
      previous: 'unknown',
      reason: 'birth',
      at: '2026-01-02T03:04:05.000Z',
    };
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
    await mosquitto.stop();
  }
});

test('job status events go to events/jobs/{id}/status as JSON, not retained; progress at most once a second per job', async () => {
  const log = pino({ level: 'silent' });
  const published: { topic: string; body: { event: string; job: string }; retain: boolean | undefined }[] = [];
  const broker = {
    publish: async (topic: string, payload: Buffer, options: { qos: 0 | 1; retain?: boolean }) => {
      published.push({ topic, body: JSON.parse(payload.toString()) as { event: string; job: string }, retain: options.retain });
    },
  };
  const events = new DomainEvents();
  let clock = 1_000_000;
  const stop = publishDomainEvents(events, broker, log, { published: 0, failed: 0 }, () => clock);
  const base: JobStatusEvent = {
    type: 'job.status',
    job: 'j1',
    event: 'progress',
    status: 'running',
    owner: 'ana',
    ownerId: 'user:1',
    name: null,
    window: { from: '2026-01-02T03:00:00.000000Z', to: '2026-01-02T03:10:00.000000Z' },
    tasks: { total: 2, done: 0, failed: 0, running: 2 },
    packets: 10,
    bytes: 1000,
    at: '2026-01-02T04:00:00.000Z',
  };
  events.emit('job.status', { ...base, event: 'running' });
  events.emit('job.status', base);
  events.emit('job.status', { ...base, packets: 11 }); // same second: dropped
  events.emit('job.status', { ...base, job: 'j2' }); // another job has its own budget
  clock += 1000;
  events.emit('job.status', { ...base, packets: 12 });
  events.emit('job.status', { ...base, event: 'complete', status: 'complete', result: { fileBytes: 1, sha256: 'f'.repeat(64), packets: 12 } });
  await new Promise((r) => setImmediate(r));
  stop();
  assert.deepEqual(
    published.map((p) => [p.topic, p.body.event, p.retain]),
    [
      ['pcapmesh/v1/events/jobs/j1/status', 'running', false],
      ['pcapmesh/v1/events/jobs/j1/status', 'progress', false],
      ['pcapmesh/v1/events/jobs/j2/status', 'progress', false],
      ['pcapmesh/v1/events/jobs/j1/status', 'progress', false],
      ['pcapmesh/v1/events/jobs/j1/status', 'complete', false],
    ],
  );
  assert.equal((published[3]!.body as unknown as JobStatusEvent).packets, 12);
});

test('subnet map events go to events/network/subnets as JSON, not retained', async () => {
  const published: { topic: string; body: unknown; retain: boolean | undefined }[] = [];
  const broker = {
    publish: async (topic: string, payload: Buffer, options: { qos: 0 | 1; retain?: boolean }) => {
      published.push({ topic, body: JSON.parse(payload.toString()), retain: options.retain });
    },
  };
  const events = new DomainEvents();
  const stop = publishDomainEvents(events, broker, pino({ level: 'silent' }));
  const event = {
    type: 'network.subnet' as const,
    change: 'moved' as const,
    subnet: '10.1.2.0/24',
    state: 'learned' as const,
    location: 'site-b',
    previousState: 'learned' as const,
    previousLocation: 'site-a',
    confidence: 1,
    at: '2026-03-18T12:00:00.000Z',
  };
  events.emit('network.subnet', event);
  await new Promise((r) => setTimeout(r, 10));
  stop();
  assert.deepEqual(published, [{ topic: 'pcapmesh/v1/events/network/subnets', body: event, retain: false }]);
});
