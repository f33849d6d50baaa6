import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect as tcpConnect, type Socket } from 'node:net';
import type { MqttClient } from 'mqtt';
import { encodeMessage, MAX_PAYLOAD_BYTES, Sequencer, topics } from '@pcapmesh/shared/wire';
import { createTestBroker, type TestBroker } from './broker.fixture.js';
import { FixedHeaderReader, MAX_CONNECT_BYTES, MAX_PUBLISH_BYTES } from './limits.js';

let t: TestBroker;
/** Task → sensor, as the jobs domain would answer; lookups counted. */
const tasks = new Map([
  ['t-alpha', 'alpha'],
  ['t-bravo', 'bravo'],
]);
let lookups = 0;
const closedOf = (client: MqttClient) => new Promise<void>((resolve) => client.once('close', () => resolve()));
const seq = new Sequencer(1);

before(async () => {
  t = await createTestBroker(['alpha', 'bravo'], {
    broker: {
      maxConnectionsPerAddress: 4,
      taskOwner: async (id) => {
        lookups += 1;
        return tasks.get(id) ?? null;
      },
    },
  });
});
after(() => t.close());

const limits = () => t.broker.status().limits!;
const alphaClient = () => t.client({ clientId: 'alpha', username: 'alpha', password: t.secrets.alpha! });

/** Opens a raw TCP connection and writes `bytes`; resolves with how many bytes were accepted before the close. */
function rawSession(bytes: Buffer[]): Promise<{ closed: boolean; socket: Socket }> {
  return new Promise((resolve) => {
    const socket = tcpConnect(Number(new URL(t.url).port), '127.0.0.1', () => {
      for (const b of bytes) socket.write(b);
    });
    socket.on('error', () => undefined);
    const timer = setTimeout(() => resolve({ closed: false, socket }), 1_500);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve({ closed: true, socket });
    });
  });
}

/** A fixed header: type, then the remaining length as MQTT's variable-length integer. */
function fixedHeader(type: number, length: number): Buffer {
  const out = [type << 4];
  let n = length;
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    out.push(byte);
  } while (n > 0);
  return Buffer.from(out);
}

test('the header reader names the first packet over its limit and keeps no body', () => {
  const reader = new FixedHeaderReader();
  assert.equal(reader.push(Buffer.concat([fixedHeader(12, 0), fixedHeader(3, 10), Buffer.alloc(10)])), null, 'PINGREQ and a small PUBLISH');
  assert.equal(reader.push(fixedHeader(3, MAX_PUBLISH_BYTES)), null, 'a PUBLISH at the limit');
  assert.equal(reader.push(Buffer.alloc(MAX_PUBLISH_BYTES)), null, 'its body is skipped');
  assert.match(reader.push(fixedHeader(3, MAX_PUBLISH_BYTES + 1)) ?? '', /packet type 3 announces \d+ bytes, limit/);
  assert.match(new FixedHeaderReader().push(fixedHeader(1, MAX_CONNECT_BYTES + 1)) ?? '', /packet type 1/);
  assert.match(new FixedHeaderReader().push(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff])) ?? '', /longer than 4 bytes/);
  // A header split over chunks is read the same.
  const split = new FixedHeaderReader();
  const big = fixedHeader(1, 100_000);
  assert.equal(split.push(big.subarray(0, 2)), null);
  assert.match(split.push(big.subarray(2)) ?? '', /announces 100000 bytes/);
});

test('a CONNECT announcing more than 4 KiB is closed before its body arrives, and counted', async () => {
  const before = limits().oversized;
  // Only the header is sent: the broker must act on the announced length, not on buffered bytes.
  const { closed } = await rawSession([fixedHeader(1, 1024 * 1024)]);
  assert.equal(closed, true, 'connection closed');
  assert.equal(limits().oversized, before + 1);
});

test('a PUBLISH over the packet limit disconnects the sensor; one a little over the codec limit reaches ingest', async () => {
  const alpha = await alphaClient();
  const closed = closedOf(alpha);
  const before = limits().oversized;
  alpha.publish(topics.sensor('alpha', 'health'), Buffer.alloc(MAX_PUBLISH_BYTES + 1), { qos: 0 });
  await closed;
  assert.equal(limits().oversized, before + 1);

  const again = await alphaClient();
  const rejectedBefore = t.stats.snapshot().rejected.oversized;
  await again.publishAsync(topics.sensor('alpha', 'health'), Buffer.alloc(MAX_PAYLOAD_BYTES + 4_096), { qos: 1 });
  assert.ok(again.connected, 'a payload a little over the codec limit reaches ingest, which counts it');
  assert.equal(t.stats.snapshot().rejected.oversized, rejectedBefore + 1);
  assert.equal(limits().oversized, before + 1);
  await again.endAsync();
});

test('retain is refused outside state and pcap (disconnect, counted); a retained birth is fine', async () => {
  const alpha = await alphaClient();
  const birth = encodeMessage('state', seq.stamp('state', { status: 'online', bdSeq: 1, version: '0.1.0', location: 'lab', interfaces: [] }));
  await alpha.publishAsync(topics.sensor('alpha', 'state'), Buffer.from(birth), { qos: 1, retain: true });
  assert.ok(alpha.connected);
  const before = limits().retain;
  const closed = closedOf(alpha);
  alpha.publish(topics.sensor('alpha', 'health'), Buffer.from('x'), { qos: 1, retain: true });
  await closed;
  assert.equal(limits().retain, before + 1);
});

test("a status of another sensor's task disconnects; an unknown task reaches ingest; owners are cached", async () => {
  const status = (taskId: string) => Buffer.from(encodeMessage('task-status', seq.stamp('task-status', { taskId, attempt: 0, status: 'accepted' })));
  const alpha = await alphaClient();
  const lookupsBefore = lookups;
  // Its own task reaches ingest (no jobs target in this fixture: counted there as unknown-topic).
  const unknownBefore = t.stats.snapshot().rejected['unknown-topic'];
  await alpha.publishAsync(topics.taskStatus('alpha', 't-alpha'), status('t-alpha'), { qos: 1 });
  await alpha.publishAsync(topics.taskStatus('alpha', 't-alpha'), status('t-alpha'), { qos: 1 });
  assert.equal(t.stats.snapshot().rejected['unknown-topic'], unknownBefore + 2, 'delivered to ingest');
  assert.equal(lookups, lookupsBefore + 1, 'the owner is looked up once');

  await alpha.publishAsync(topics.taskStatus('alpha', 'no-such-task'), status('no-such-task'), { qos: 1 });
  assert.ok(alpha.connected, 'an unknown task (a deleted job) does not disconnect: the agent would re-send it forever');
  assert.equal(t.stats.snapshot().rejected['unknown-topic'], unknownBefore + 3, 'counted by ingest');

  const refused = limits().task;
  const closed = closedOf(alpha);
  alpha.publish(topics.taskStatus('alpha', 't-bravo'), status('t-bravo'), { qos: 1 });
  await closed;
  assert.equal(limits().task, refused + 1);
});

test('connections beyond the per-address cap are closed at once and counted', async () => {
  const held = await Promise.all([0, 1, 2, 3].map(() => rawSession([])));
  assert.ok(
    held.every((h) => !h.closed),
    'four connections stay open',
  );
  const before = limits().connections;
  const fifth = await rawSession([]);
  assert.equal(fifth.closed, true);
  assert.equal(limits().connections, before + 1);
  for (const h of held) h.socket.destroy();
  await new Promise((r) => setTimeout(r, 100));
  const after = await rawSession([]);
  assert.equal(after.closed, false, 'a slot is free again once a connection closes');
  after.socket.destroy();
});
