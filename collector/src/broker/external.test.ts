import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { Aedes } from 'aedes';
import { connectAsync } from 'mqtt';
import { pino } from 'pino';
import { freePort, requireTool } from '@pcapmesh/shared/util/testing';
import { topics } from '@pcapmesh/shared/wire';
import { connectExternalBroker, ExternalBrokerUnsuitableError, type ExternalBroker } from './external.js';
import { startMosquitto } from './mosquitto.fixture.js';

const log = pino({ level: 'silent' });

async function eventually(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond() && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
  assert.ok(cond(), what);
}

test('MQTT 5 shared subscription splits sensor messages between collectors, each exactly once', async (t) => {
  const binary = requireTool(t, 'mosquitto');
  if (!binary) return;
  const mosquitto = await startMosquitto(binary);
  const collectors: ExternalBroker[] = [];
  try {
    const received: string[][] = [[], []];
    for (const [i, bucket] of received.entries()) {
      const c = await connectExternalBroker({ url: mosquitto.url, sharedGroup: 'test-group', log, clientId: `collector-${i}` });
      collectors.push(c);
      assert.equal(c.protocolVersion, 5);
      assert.equal(c.subscription, `$share/test-group/${topics.filters.allSensors}`);
      await c.consume(async (topic, payload) => {
        bucket.push(`${topic} ${payload.toString()}`);
      });
    }
    const sensor = await connectAsync(mosquitto.url, { reconnectPeriod: 0, protocolVersion: 4 }, false);
    const sent: string[] = [];
    for (let n = 0; n < 40; n++) {
      const topic = topics.sensor(`s${n % 4}`, 'health');
      await sensor.publishAsync(topic, String(n), { qos: 1 });
      sent.push(`${topic} ${n}`);
    }
    await eventually(() => received[0]!.length + received[1]!.length >= 40, 'all 40 messages consumed');
    await new Promise((r) => setTimeout(r, 200)); // nothing more (no duplicates) arrives
    assert.deepEqual([...received[0]!, ...received[1]!].sort(), [...sent].sort());
    assert.ok(received[0]!.length > 0 && received[1]!.length > 0, `both collectors got a share: ${received[0]!.length}/${received[1]!.length}`);

    // The collector publishes (events, commands) through the same connection.
    const watcher = await connectAsync(mosquitto.url, { reconnectPeriod: 0 }, false);
    await watcher.subscribeAsync(topics.filters.allEvents, { qos: 1 });
    const got = new Promise<string>((resolve) => watcher.once('message', (topic) => resolve(topic)));
    await collectors[0]!.publish(topics.event('sensors', 's1', 'status'), Buffer.from('{}'), { qos: 1 });
    assert.equal(await got, topics.event('sensors', 's1', 'status'));
    assert.deepEqual(collectors[0]!.status(), { mode: 'external', clients: 1, ok: true });
    await Promise.all([sensor.endAsync(), watcher.endAsync()]);
  } finally {
    await Promise.all(collectors.map((c) => c.close()));
    await mosquitto.stop();
  }
  assert.equal(collectors[0]!.status().ok, false);
});

test('a persistent session restored by a restarted Mosquitto gets its shared subscription again', async (t) => {
  // Mosquitto 2.0.11 restores the session (CONNACK session present) without its $share subscription.
  const binary = requireTool(t, 'mosquitto');
  if (!binary) return;
  const mosquitto = await startMosquitto(binary, { persistence: true });
  let collector: ExternalBroker | undefined;
  try {
    collector = await connectExternalBroker({ url: mosquitto.url, sharedGroup: 'g', log, clientId: 'collector-persistent', sessionExpirySeconds: 3600 });
    const received: string[] = [];
    await collector.consume(async (_topic, payload) => {
      received.push(payload.toString());
    });
    const publishOnce = async (body: string) => {
      const sensor = await connectAsync(mosquitto.url, { reconnectPeriod: 0, protocolVersion: 4 }, false);
      await sensor.publishAsync(topics.sensor('s1', 'health'), body, { qos: 1 });
      await sensor.endAsync();
    };
    await publishOnce('before');
    await eventually(() => received.includes('before'), 'delivered before the restart');
    await mosquitto.restart();
    // Until the collector has reconnected and subscribed again a publish has no subscriber; keep
    // publishing until one arrives (none ever did before the collector subscribed again).
    const until = Date.now() + 30_000;
    for (let n = 0; !received.some((r) => r.startsWith('after')) && Date.now() < until; n++) {
      await publishOnce(`after ${n}`).catch(() => undefined);
      await new Promise((r) => setTimeout(r, 200));
    }
    assert.ok(
      received.some((r) => r.startsWith('after')),
      `a message published after the broker restart reached the collector (got ${JSON.stringify(received)})`,
    );
  } finally {
    await collector?.close();
    await mosquitto.stop();
  }
});

test('a broker without MQTT 5 (so without shared subscriptions) is refused, saying what to use', async () => {
  const aedes = await Aedes.createBroker();
  const server = createServer(aedes.handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `mqtt://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    await assert.rejects(connectExternalBroker({ url, sharedGroup: 'g', log }), (err: Error) => {
      assert.ok(err instanceof ExternalBrokerUnsuitableError, String(err));
      assert.match(err.message, /refused MQTT 5/);
      assert.match(err.message, /shared subscription/);
      assert.match(err.message, /Mosquitto 2/);
      assert.match(err.message, /unset mqtt\.url/);
      return true;
    });
  } finally {
    await new Promise<void>((resolve) => aedes.close(() => resolve()));
    await new Promise((resolve) => server.close(resolve));
  }
});

test('an unreachable broker fails the start, naming the URL without its password', async () => {
  const port = await freePort();
  await assert.rejects(
    connectExternalBroker({ url: `mqtt://user:hunter2@127.0.0.1:${port}`, sharedGroup: 'g', log, connectTimeoutMs: 2_000 }),
    (err: Error) => {
      assert.match(err.message, new RegExp(`cannot connect to the MQTT broker mqtt://user:\\*\\*\\*@127\\.0\\.0\\.1:${port}`));
      assert.doesNotMatch(err.message, /hunter2/);
      return true;
    },
  );
});
