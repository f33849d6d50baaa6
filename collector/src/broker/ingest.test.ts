import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { encode as rawCbor } from 'cbor-x';
import { pino } from 'pino';
import { encodeMessage, MAX_PAYLOAD_BYTES, SCHEMA_VERSION, Sequencer, topics } from '@pcapmesh/shared/wire';
import { DomainEvents } from '../domain/events.js';
import { IngestStats } from '../domain/ingest-stats.js';
import { SensorService } from '../domain/sensors/sensors.service.js';
import { openDb, type Db } from '../storage/db.js';
import { migrate } from '../storage/migrate.js';
import { Ingest, type IngestTarget } from './ingest.js';

const log = pino({ level: 'silent' });
let db: Db;
let sensors: SensorService;

before(async () => {
  db = await openDb({ url: 'memory://' });
  await migrate(db);
  sensors = new SensorService({ db, events: new DomainEvents(), log, heartbeatTimeoutSeconds: 30 });
  await sensors.register({ name: 'alpha', location: 'lab' });
});
after(() => db.close());

const seq = new Sequencer(1);
const state = (status: 'online' | 'offline', bdSeq: number) =>
  encodeMessage('state', seq.stamp('state', { status, bdSeq, version: '0.1.0', location: 'lab', interfaces: [] }));

test('every message ends as exactly one count: accepted by kind or rejected by reason', async () => {
  const stats = new IngestStats();
  const ingest = new Ingest(sensors, stats, log);
  const health = topics.sensor('alpha', 'health');
  await Promise.all([
    ingest.handle(topics.sensor('alpha', 'state'), state('online', 1)),
    ingest.handle(health, Uint8Array.from([0xff, 0xfe, 0x00])),
    ingest.handle(health, rawCbor({ v: 1, sentAt: 1, seq: 1, cpu: 'high' })),
    ingest.handle(health, rawCbor({ v: SCHEMA_VERSION + 1, sentAt: 1, seq: 1 })),
    ingest.handle(health, new Uint8Array(MAX_PAYLOAD_BYTES + 1)),
    ingest.handle('pcapmesh/v1/sensors/alpha/bogus', state('online', 1)),
    ingest.handle(topics.taskStatus('alpha', 'task-1'), state('online', 1)),
    ingest.handle('elsewhere/alpha/state', state('online', 1)),
    ingest.handle(topics.sensor('ghost', 'state'), state('online', 1)),
  ]);
  const snap = stats.snapshot();
  assert.equal(snap.accepted.state, 1);
  assert.equal(snap.acceptedTotal, 1);
  assert.deepEqual(Object.fromEntries(Object.entries(snap.rejected).filter(([, n]) => n > 0)), {
    'not-cbor': 1,
    schema: 1,
    version: 1,
    oversized: 1,
    'unknown-topic': 3,
    'unknown-sensor': 1,
  });
  assert.equal(snap.rejectedTotal, 8);
  assert.equal((await sensors.status('alpha')).status, 'online');
});

test("a sensor's messages are applied in arrival order, many per batch, whatever each batch costs", async () => {
  const stats = new IngestStats();
  // The real service behind a wrapper that adds a random latency before each group and records
  // the order messages complete in: without per-sensor order the order would scramble.
  const applied: number[] = [];
  const groups: number[] = [];
  let rnd = 7;
  const jitter = () => new Promise((r) => setTimeout(r, (rnd = (rnd * 1103515245 + 12345) % 2147483648) % 6));
  const target: IngestTarget = {
    ingestSensorMessages: async (items) => {
      await jitter();
      const results = await sensors.ingestSensorMessages(items);
      groups.push(items.length);
      applied.push(...items.map((i) => i.msg.seq));
      return results;
    },
    ingestTraffic: (sensor, msg) => sensors.ingestTraffic(sensor, msg),
  };
  const ingest = new Ingest(target, stats, log);
  const topic = topics.sensor('alpha', 'state');
  const sent: number[] = [];
  const answered: number[] = [];
  for (let bdSeq = 10; bdSeq < 30; bdSeq++) {
    for (const status of ['online', 'offline'] as const) {
      const msg = seq.stamp('state', { status, bdSeq, version: '0.1.0', location: 'lab', interfaces: [] });
      sent.push(msg.seq);
      void ingest.handle(topic, encodeMessage('state', msg)).then(() => answered.push(msg.seq));
      if (bdSeq % 7 === 0 && status === 'online') await new Promise((r) => setTimeout(r, 3));
    }
  }
  await ingest.drain();
  assert.deepEqual(applied, sent);
  assert.deepEqual(answered, sent, 'each message answered after its own batch, in order');
  assert.ok(groups.length < sent.length / 2, `messages waiting together go in one batch: group sizes ${groups.join(',')}`);
  assert.equal(stats.snapshot().accepted.state, sent.length);
  assert.equal((await sensors.status('alpha')).status, 'offline');
});

test('a failing store is counted as store-error and never rejects', async () => {
  const broken = await openDb({ url: 'memory://' });
  await migrate(broken);
  const service = new SensorService({ db: broken, events: new DomainEvents(), log, heartbeatTimeoutSeconds: 30 });
  await service.register({ name: 'alpha' });
  await broken.close();
  const stats = new IngestStats();
  const ingest = new Ingest(service, stats, log);
  await ingest.handle(topics.sensor('alpha', 'state'), state('online', 1));
  assert.equal(stats.snapshot().rejected['store-error'], 1);
});
