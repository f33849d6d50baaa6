/**
 * Acceptance: "1,000 malformed payloads (random bytes, wrong schema, oversized) on a sensor's
 * topics: no crash; counted by reason in health/summary; the same sensor's valid messages are still
 * ingested" — an mqtt.js client authenticated as the sensor sends them (interleaved with valid health
 * reports) to a real collector; afterwards the real agent of that sensor still gets through.
 *
 * The broker closes a connection only for publishing outside the sensor's ACL, never for a bad
 * payload, so all 1,000 go over one connection. The expected reason of each payload is what the
 * wire codec itself says about it (`decodeMessage`), so the counts are exact — task status topics
 * included, since ingest decodes them for the jobs service (broker/ingest.ts).
 */
import assert from 'node:assert/strict';
import { Encoder } from 'cbor-x';
import { DECODE_FAILURES, MAX_PAYLOAD_BYTES, decodeMessage, topics, type DecodeFailure, type MessageKind } from '@pcapmesh/shared/wire';
import { Agent, BACKENDS, Collector, MessageFactory, connectClient, eventually, healthBody, integrationTest, prepareBackend } from './harness.js';

const MALFORMED = 1_000;
const VALID_EVERY = 20;
const SEED = 0x5eed_2026;

/** mulberry32: a tiny seeded PRNG, so a failing run can be replayed exactly. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const TARGETS: { topic: string; kind: MessageKind }[] = [
  { topic: topics.sensor('alpha', 'state'), kind: 'state' },
  { topic: topics.sensor('alpha', 'health'), kind: 'health' },
  { topic: topics.sensor('alpha', 'pcap'), kind: 'pcap' },
  { topic: topics.sensor('alpha', 'traffic'), kind: 'traffic' },
  { topic: topics.taskStatus('alpha', 'task-1'), kind: 'task-status' },
];

type Reason = DecodeFailure | 'unknown-topic';
const REASONS: readonly Reason[] = [...DECODE_FAILURES, 'unknown-topic'];

interface Payload {
  topic: string;
  bytes: Buffer;
  reason: Reason;
}

/** 1,000 payloads the codec refuses: random bytes, truncated messages, wrong schemas, future versions, oversized. */
function malformedPayloads(): Payload[] {
  const rand = prng(SEED);
  const int = (n: number) => Math.floor(rand() * n);
  const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const cbor = new Encoder({ useRecords: false, mapsAsObjects: true });
  const valid = new MessageFactory(1);
  const makers: ((kind: MessageKind) => Buffer)[] = [
    () => bytes(1 + int(512)),
    () => valid.encode('health', healthBody()).subarray(0, 1 + int(40)),
    (kind) => Buffer.from(cbor.encode({ v: 1, sentAt: Date.now(), seq: int(1e6), kind, cpu: 'very high', status: 42 })),
    () => Buffer.from(cbor.encode([1, 2, 3, 'not a message'])),
    () => Buffer.from(cbor.encode({ ...healthBody(), v: 99, sentAt: Date.now(), seq: int(1e6) })),
    () => bytes(MAX_PAYLOAD_BYTES + 1 + int(4096)),
  ];
  const out: Payload[] = [];
  while (out.length < MALFORMED) {
    const target = TARGETS[int(TARGETS.length)]!;
    // Oversized payloads are costly to send: about one in twenty.
    const maker = rand() < 0.05 ? makers[5]! : makers[int(5)]!;
    const payload = maker(target.kind);
    const decoded = decodeMessage(target.kind, payload);
    if (decoded.ok) continue; // a random payload that happens to be valid is not malformed
    // Task statuses go to the jobs service now: a bad one is counted by its decode failure like the rest.
    out.push({ topic: target.topic, bytes: payload, reason: decoded.reason });
  }
  return out;
}

for (const backendName of BACKENDS) {
  integrationTest(`malformed: 1,000 bad payloads counted by reason, valid messages still ingested [${backendName}]`, async (scope) => {
    const backend = await prepareBackend(scope, backendName);
    if (!backend) return;
    const collector = await Collector.create(scope, { backend, healthIntervalSeconds: 60 });
    const secret = await collector.addSensor('alpha');
    await collector.start();
    const { api } = collector;

    const client = await connectClient({ url: collector.mqttUrl, username: 'alpha', password: secret });
    const messages = new MessageFactory(1);
    await client.publishAsync(topics.sensor('alpha', 'state'), messages.encode('state', { status: 'online', bdSeq: 1, version: 'fuzzer' }), { qos: 1 });
    await api.waitForStatus('alpha', 'online', 10_000);
    const before = await api.summary();

    const payloads = malformedPayloads();
    const expected = Object.fromEntries(REASONS.map((r) => [r, payloads.filter((p) => p.reason === r).length])) as Record<Reason, number>;
    assert.ok(
      expected['not-cbor'] > 0 && expected.schema > 0 && expected.version > 0 && expected.oversized > 0,
      `every kind of damage is sent: ${JSON.stringify(expected)}`,
    );
    let valid = 0;
    for (const [i, p] of payloads.entries()) {
      await client.publishAsync(p.topic, p.bytes, { qos: 1 });
      if (i % VALID_EVERY === 0) {
        await client.publishAsync(topics.sensor('alpha', 'health'), messages.encode('health', healthBody(i / 10)), { qos: 1 });
        valid += 1;
      }
    }
    assert.ok(client.connected, 'bad payloads must not cost the sensor its connection');

    const after = await eventually(
      async () => {
        const s = await api.summary();
        return s.ingest.rejectedTotal - before.ingest.rejectedTotal >= MALFORMED && s.ingest.accepted.health - before.ingest.accepted.health >= valid
          ? s
          : undefined;
      },
      { what: `${MALFORMED} rejections and ${valid} accepted health reports in health/summary`, timeoutMs: 60_000 },
    );
    const delta = Object.fromEntries(REASONS.map((r) => [r, after.ingest.rejected[r] - before.ingest.rejected[r]]));
    assert.deepEqual(delta, expected, 'rejections by reason');
    assert.equal(after.ingest.rejectedTotal - before.ingest.rejectedTotal, MALFORMED, 'nothing else was rejected');
    assert.equal(after.ingest.accepted.health - before.ingest.accepted.health, valid, 'every valid health report was accepted');
    assert.ok(collector.process.running, 'the collector must not crash');
    const stored = await api.healthSeries('alpha', new Date(Date.now() - 600_000), new Date(Date.now() + 60_000));
    assert.equal(
      stored.reduce((n, p) => n + p.samples, 0),
      valid,
      'every valid health report was stored',
    );
    assert.equal((await api.status('alpha')).status, 'online');
    await client.endAsync();

    // The sensor's real agent still gets through afterwards.
    const agent = new Agent(scope, { name: 'alpha', secret, mqttUrl: collector.mqttUrl, healthSeconds: 1 });
    agent.start();
    await eventually(async () => ((await api.summary()).ingest.accepted.health >= after.ingest.accepted.health + 2 ? true : undefined), {
      what: 'health reports of the real agent after the fuzzing',
      timeoutMs: 30_000,
    });
    assert.equal((await api.status('alpha')).status, 'online');
    await agent.stop();
    await collector.stop();
  });
}
