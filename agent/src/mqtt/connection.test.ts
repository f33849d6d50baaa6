import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { requireTool } from '@pcapmesh/shared/util/testing';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Sequencer } from '@pcapmesh/shared/wire';
import { createLogger } from '../log.js';
import { BdSeqStore } from './bd-seq.js';
import { TestBroker } from './broker.fixture.js';
import { MqttConnection, reconnectDelay, redactUrl, type ConnectionOptions } from './connection.js';
import { Outbox } from './outbox.js';
import { Spool } from './spool.js';

const logger = createLogger('silent');
const health = (n: number) => ({
  cpu: { usage: n % 100, cores: 2 },
  memory: { total: 1, used: 0, available: 1 },
  load: [0, 0, 0] as [number, number, number],
  uptime: n,
  disks: [],
  interfaces: [],
  captures: [],
});

function agentParts(
  broker: TestBroker,
  stateDir = mkdtempSync(join(tmpdir(), 'conn-')),
  password = 's3cret',
  tls: { caFile?: string; rejectUnauthorized: boolean } = { rejectUnauthorized: true },
  extra: Pick<ConnectionOptions, 'backoff' | 'onRetry'> = {},
) {
  const spool = Spool.open(join(stateDir, 'spool'), { maxBytes: 1 << 20 });
  const sequencer = new Sequencer(spool.nextSeq);
  const onlines: number[] = [];
  const connection = new MqttConnection({
    sensor: 'alpha',
    url: broker.url,
    username: 'alpha',
    password,
    protocolVersion: 4,
    keepaliveSeconds: 30,
    tls,
    spool,
    sequencer,
    bdSeq: new BdSeqStore(join(stateDir, 'bdseq')),
    logger,
    describe: () => ({ version: '0.1.0', location: 'lab', hostname: 'h', interfaces: [], capabilities: ['health'] }),
    onOnline: ({ bdSeq }) => onlines.push(bdSeq),
    ...extra,
  });
  const outbox = new Outbox('alpha', spool, sequencer, () => connection.notify());
  return { spool, connection, outbox, onlines, stateDir };
}

test('birth on connect; the last will marks the session lost with the same bdSeq', async () => {
  const broker = new TestBroker({ username: 'alpha', password: 's3cret' });
  await broker.start();
  const a = agentParts(broker);
  a.connection.start();
  try {
    await broker.until('birth', () => a.onlines.length === 1);
    const [birth] = broker.of('state');
    assert.equal(birth!.message.status, 'online');
    assert.equal(birth!.message.bdSeq, 1);
    assert.equal(birth!.retain, true);
    assert.equal(birth!.message.location, 'lab');
    // A broker outage: the agent reconnects with a new session (and a new bdSeq).
    await broker.stop();
    await broker.start();
    await broker.until('reconnect and second birth', () => a.onlines.length === 2);
    assert.equal(a.onlines[0], 1);
    assert.ok(a.onlines[1]! > a.onlines[0]!, `bdSeq increases on every connect attempt: ${a.onlines.join(', ')}`);
  } finally {
    await a.connection.stop();
    a.spool.close();
    await broker.stop();
  }
  const states = broker.of('state').map((s) => [s.message.status, s.message.bdSeq, s.message.reason]);
  assert.deepEqual(states.at(-1), ['offline', a.onlines[1], 'shutdown'], 'a clean stop says shutdown with the session bdSeq');
});

test('the will is published by the broker when the agent vanishes', async () => {
  const broker = new TestBroker();
  await broker.start();
  const a = agentParts(broker);
  a.connection.start();
  try {
    await broker.until('birth', () => a.onlines.length === 1);
    // Simulate a crash: destroy the client's socket without DISCONNECT.
    (a.connection as unknown as { session: { client: { stream: { destroy(): void } } } }).session.client.stream.destroy();
    await broker.until('the will', () => broker.of('state').some((s) => s.message.status === 'offline'));
    const will = broker.of('state').find((s) => s.message.status === 'offline')!;
    assert.equal(will.message.reason, 'lost');
    assert.equal(will.message.bdSeq, 1);
    assert.equal(will.message.seq, broker.of('state')[0]!.message.seq, "the will shares its birth's seq");
  } finally {
    await a.connection.stop();
    a.spool.close();
    await broker.stop();
  }
});

test('messages produced during a broker outage arrive after it, in order, none twice, after the birth', async () => {
  const broker = new TestBroker();
  await broker.start();
  const a = agentParts(broker);
  a.connection.start();
  try {
    await broker.until('birth', () => a.onlines.length === 1);
    for (let i = 0; i < 5; i++) a.outbox.send('health', health(i));
    await broker.until('live messages', () => broker.of('health').length === 5);
    await broker.stop();
    for (let i = 5; i < 1505; i++) a.outbox.send('health', health(i)); // 1,500 in the outage: more than the window
    await new Promise((r) => setTimeout(r, 300));
    await broker.start();
    await broker.until('replay', () => broker.of('health').length >= 1505, 30_000);
    await broker.until('spool drained', () => a.spool.stats.pending === 0);
    const uptimes = broker.of('health').map((h) => h.message.uptime);
    assert.deepEqual(
      uptimes,
      Array.from({ length: 1505 }, (_, i) => i),
      'in order, none twice, none lost',
    );
    const seqs = broker.of('health').map((h) => h.message.seq);
    assert.equal(new Set(seqs).size, seqs.length);
    // Failed connect attempts during the outage used up no sequence numbers: no holes.
    assert.deepEqual(
      seqs.slice(5),
      Array.from({ length: 1500 }, (_, i) => seqs[5]! + i),
    );
    // bdSeq grew with every failed attempt during the outage; the birth after it is the 2nd online.
    const secondBirth = broker.received.findIndex((r, i) => r.kind === 'state' && r.message.status === 'online' && i > 0);
    const firstReplayed = broker.received.findIndex((r) => r.kind === 'health' && r.message.uptime === 5);
    assert.ok(secondBirth >= 0 && secondBirth < firstReplayed, 'the birth precedes the replay');
  } finally {
    await a.connection.stop();
    a.spool.close();
    await broker.stop();
  }
});

test('spooled messages survive an agent restart and seq keeps increasing', async () => {
  const broker = new TestBroker();
  await broker.start();
  const port = broker.port;
  await broker.stop(); // broker down while the first agent runs
  const stateDir = mkdtempSync(join(tmpdir(), 'conn-'));
  const first = agentParts(broker, stateDir);
  first.connection.start();
  for (let i = 0; i < 10; i++) first.outbox.send('health', health(i));
  await first.connection.stop();
  first.spool.close();

  broker.port = port;
  await broker.start();
  const second = agentParts(broker, stateDir);
  second.connection.start();
  try {
    await broker.until('replay after restart', () => broker.of('health').length === 10);
    for (let i = 10; i < 12; i++) second.outbox.send('health', health(i));
    await broker.until('new messages', () => broker.of('health').length === 12);
    const seqs = broker.of('health').map((h) => h.message.seq);
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => x - y),
    );
    assert.deepEqual(
      broker.of('health').map((h) => h.message.uptime),
      Array.from({ length: 12 }, (_, i) => i),
    );
    const birth = broker.of('state')[0]!;
    assert.ok(birth.message.seq > seqs[9]!, 'the birth of the new process has a fresh seq');
  } finally {
    await second.connection.stop();
    second.spool.close();
    await broker.stop();
  }
});

test('wrong credentials are refused and retried, never online', async () => {
  const broker = new TestBroker({ username: 'alpha', password: 'right' });
  await broker.start();
  const a = agentParts(broker, undefined, 'wrong');
  a.connection.start();
  try {
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(a.connection.online, false);
    assert.equal(a.onlines.length, 0);
    assert.equal(broker.of('state').length, 0);
  } finally {
    await a.connection.stop();
    a.spool.close();
    await broker.stop();
  }
});

test('reconnectDelay: full jitter between 0 and a cap that doubles up to maxMs', () => {
  const at = (r: number) => ({ baseMs: 1_000, maxMs: 60_000, random: () => r });
  // The cap: 1 s, 2 s, 4 s … up to 60 s, reached at attempt 6 and kept (huge attempts do not overflow).
  assert.deepEqual(
    [0, 1, 2, 3, 5, 6, 7, 1000].map((n) => reconnectDelay(n, at(0.999_999_9))),
    [1_000, 2_000, 4_000, 8_000, 32_000, 60_000, 60_000, 60_000],
  );
  // The floor is 0, not half the cap: a fleet that lost its broker together spreads over the whole cap.
  assert.deepEqual(
    [0, 3, 9].map((n) => reconnectDelay(n, at(0))),
    [0, 0, 0],
  );
  assert.equal(reconnectDelay(3, at(0.25)), 2_000);
  // With the real random source, draws for one attempt differ and stay within [0, cap].
  const draws = Array.from({ length: 200 }, () => reconnectDelay(4));
  assert.ok(
    draws.every((d) => Number.isInteger(d) && d >= 0 && d <= 16_000),
    `out of range: ${draws.join(',')}`,
  );
  assert.ok(new Set(draws).size > 100, `200 draws from [0, 16000] gave only ${new Set(draws).size} distinct delays`);
  assert.throws(() => reconnectDelay(-1), /attempt must be an integer ≥ 0, got -1/);
  assert.throws(() => reconnectDelay(1.5), /got 1.5/);
});

test('a refused agent reconnects with jittered, growing delays drawn by reconnectDelay', async () => {
  const broker = new TestBroker({ username: 'alpha', password: 'right' });
  await broker.start();
  const draws = [0.9, 0.1, 0.6, 0.3];
  let i = 0;
  const retries: { attempt: number; delayMs: number }[] = [];
  const a = agentParts(broker, undefined, 'wrong', undefined, {
    backoff: { baseMs: 40, maxMs: 1_000, random: () => draws[i++ % draws.length]! },
    onRetry: (r) => retries.push(r),
  });
  a.connection.start();
  try {
    await broker.until('four refused attempts', () => retries.length >= 4, 30_000);
    // Caps 40, 80, 160, 320 ms: each delay is the injected draw's share of its attempt's cap.
    assert.deepEqual(retries.slice(0, 4), [
      { attempt: 0, delayMs: 36 },
      { attempt: 1, delayMs: 8 },
      { attempt: 2, delayMs: 96 },
      { attempt: 3, delayMs: 96 },
    ]);
    assert.equal(a.connection.online, false);
  } finally {
    await a.connection.stop();
    a.spool.close();
    await broker.stop();
  }
});

test('a refused command subscription is reported but the sensor still goes online', async () => {
  const broker = new TestBroker(undefined, { refuseSubscriptions: true });
  await broker.start();
  const a = agentParts(broker);
  a.connection.start();
  try {
    await broker.until('birth despite the refusal', () => a.onlines.length === 1);
    a.outbox.send('health', health(1));
    await broker.until('health', () => broker.of('health').length === 1);
  } finally {
    await a.connection.stop();
    a.spool.close();
    await broker.stop();
  }
});

test('URLs lose their user info before they are logged', () => {
  assert.equal(redactUrl('mqtts://alpha:s3cret@broker:8883'), 'mqtts://broker:8883');
  assert.equal(redactUrl('mqtt://127.0.0.1:1883'), 'mqtt://127.0.0.1:1883');
});

/** A throw-away CA and a server certificate for 127.0.0.1, made with openssl. */
function certificates(openssl: string): { dir: string; key: Buffer; cert: Buffer } {
  const dir = mkdtempSync(join(tmpdir(), 'tls-'));
  const run = (...args: string[]) => execFileSync(openssl, args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  run('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=pcapmesh test CA');
  run('req', ...ec, '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=127.0.0.1');
  writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1\n');
  run('x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '1', '-extfile', 'san.ext');
  return { dir, key: readFileSync(join(dir, 'server.key')), cert: readFileSync(join(dir, 'server.pem')) };
}

test('mqtts: the broker certificate is verified against mqtt.tls.caFile', async (t) => {
  const openssl = requireTool(t, 'openssl');
  if (!openssl) return;
  const { dir, key, cert } = certificates(openssl);
  const broker = new TestBroker(undefined, { tls: { key, cert } });
  await broker.start();
  const trusted = agentParts(broker, undefined, 's3cret', { caFile: join(dir, 'ca.pem'), rejectUnauthorized: true });
  const untrusted = agentParts(broker, undefined, 's3cret', { rejectUnauthorized: true });
  trusted.connection.start();
  untrusted.connection.start();
  try {
    await broker.until('birth over TLS', () => trusted.onlines.length === 1);
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(untrusted.onlines.length, 0, 'an unknown CA is refused');
    assert.equal(broker.of('state').length, 1);
  } finally {
    await trusted.connection.stop();
    await untrusted.connection.stop();
    trusted.spool.close();
    untrusted.spool.close();
    await broker.stop();
  }
});
