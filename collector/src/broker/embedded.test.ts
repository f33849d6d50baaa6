import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { MqttClient } from 'mqtt';
import { encodeMessage, Sequencer, topics } from '@pcapmesh/shared/wire';
import { createTestBroker, type TestBroker } from './broker.fixture.js';

let t: TestBroker;
const closedOf = (client: MqttClient) => new Promise<void>((resolve) => client.once('close', () => resolve()));
const seq = new Sequencer(1);
const birth = (bdSeq: number) =>
  Buffer.from(encodeMessage('state', seq.stamp('state', { status: 'online', bdSeq, version: '0.1.0', location: 'lab', interfaces: [] })));

before(async () => {
  t = await createTestBroker(['alpha', 'bravo']);
});
after(() => t.close());

test('a sensor with a wrong secret, an unknown name or a foreign client id is refused', async () => {
  await assert.rejects(t.client({ clientId: 'alpha', username: 'alpha', password: 'not-the-secret' }), /Bad username or password/);
  await assert.rejects(t.client({ clientId: 'ghost', username: 'ghost', password: t.secrets.alpha! }), /Bad username or password/);
  await assert.rejects(t.client({ clientId: 'alpha', username: 'alpha' }), /Bad username or password/);
  // bravo's secret, but claiming alpha's session: refused, so alpha cannot be kicked off.
  await assert.rejects(t.client({ clientId: 'alpha', username: 'bravo', password: t.secrets.bravo! }), /Identifier rejected/);
  const ok = await t.client({ clientId: 'alpha', username: 'alpha', password: t.secrets.alpha! });
  assert.ok(ok.connected);
  await ok.endAsync();
});

test('a sensor subscribes only to its own commands; $share/ is refused', async () => {
  const alpha = await t.client({ clientId: 'alpha', username: 'alpha', password: t.secrets.alpha! });
  await alpha.subscribeAsync(topics.filters.sensorCommands('alpha'), { qos: 1 });
  // mqtt.js rejects the whole subscribe when the broker answers SUBACK 0x80 (STACK.md pitfall 2).
  await assert.rejects(alpha.subscribeAsync(topics.filters.sensorCommands('bravo'), { qos: 1 }));
  await assert.rejects(alpha.subscribeAsync('$share/g/pcapmesh/v1/commands/alpha/#', { qos: 1 }));
  await assert.rejects(alpha.subscribeAsync('pcapmesh/v1/#', { qos: 1 }));
  assert.ok(alpha.connected, 'a refused subscription keeps the connection');

  // The own subscription works: the collector's command reaches alpha.
  const received = new Promise<string>((resolve) => alpha.once('message', (topic) => resolve(topic)));
  await t.broker.publish(topics.command('alpha', 'cancel'), Buffer.from('x'), { qos: 1 });
  assert.equal(await received, topics.command('alpha', 'cancel'));
  await alpha.endAsync();
});

test("A publishing under B's topics is refused and disconnected; B's state is unchanged", async () => {
  const before = t.stats.snapshot().rejected['not-permitted'];
  const alpha = await t.client({ clientId: 'alpha', username: 'alpha', password: t.secrets.alpha! });
  const closed = closedOf(alpha);
  alpha.publish(topics.sensor('bravo', 'state'), birth(1), { qos: 1 });
  await closed;
  assert.equal(t.stats.snapshot().rejected['not-permitted'], before + 1);
  await t.ingest.drain();
  assert.equal((await t.sensors.status('bravo')).status, 'unknown');

  // alpha's own birth goes through.
  const again = await t.client({ clientId: 'alpha', username: 'alpha', password: t.secrets.alpha! });
  await again.publishAsync(topics.sensor('alpha', 'state'), birth(2), { qos: 1, retain: true });
  for (let i = 0; i < 100 && (await t.sensors.status('alpha')).status !== 'online'; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal((await t.sensors.status('alpha')).status, 'online');
  assert.equal((await t.sensors.status('bravo')).status, 'unknown');
  await again.endAsync();
});

test('status() reports mode and connected clients', async () => {
  const base = t.broker.status();
  assert.equal(base.mode, 'embedded');
  assert.equal(base.ok, true);
  const bravo = await t.client({ clientId: 'bravo', username: 'bravo', password: t.secrets.bravo! });
  assert.equal(t.broker.status().clients, base.clients + 1);
  await bravo.endAsync();
});
