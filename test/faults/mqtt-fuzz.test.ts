/**
 * Fault suite, fuzz (issue 14): mutated MQTT payloads from three authenticated sensors at once and
 * malformed MQTT packets on raw TCP connections, against a real collector (embedded broker, PGlite)
 * while a real agent of a fourth sensor reports every second.
 *
 * Asserted: the collector stays up; every payload is counted once — each decode failure under the
 * exact reason the codec gives for it, and the payloads that decode (accepted or refused by the
 * service) make up the rest of the total; the other sensor's reports keep being stored during the
 * fuzzing; every raw connection that breaks the protocol is closed by the broker; the collector's
 * resident memory grows by less than a bound. Timings only reported (FAULT-FIGURE lines).
 *
 * CI form: 3 × 1,500 payloads. Long form (bench/faults.ts, FAULTS_LONG=1): 100,002.
 * FAULTS_FUZZ_PAYLOADS overrides the total.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { DECODE_FAILURES, topics } from '@pcapmesh/shared/wire';
import { REJECT_REASONS } from '../../collector/src/domain/ingest-stats.js';
import { Agent, Collector, connectClient, eventually, integrationTest, prepareBackend, type Api, type HealthSummary } from '../integration/harness.js';
import { packetLimit } from '../../collector/src/broker/limits.js';
import { connectPacket, fuzzPayloads, oversizedPackets, prng, rawCases, type FuzzPayload, type RawCase } from './lib/mqtt-fuzz.js';
import { enrolSensors, figure, rssMiB, sized } from './lib/world.js';

const FUZZERS = ['fuzz-1', 'fuzz-2', 'fuzz-3'];
const TOTAL = sized('FAULTS_FUZZ_PAYLOADS', 4_500, 100_002);
const PER_CLIENT = Math.ceil(TOTAL / FUZZERS.length);
const IN_FLIGHT = 64;
const RAW_ROUNDS = 3;
const SEED = 0x14_f022;
/** RSS growth allowed over the whole run: a leak of even 1 KB a payload shows in the long form. */
const RSS_GROWTH_MIB = 256;

const total = (s: HealthSummary) => s.ingest.acceptedTotal + s.ingest.rejectedTotal;

async function healthSamples(api: Api, sensor: string, since: Date): Promise<number> {
  const points = await api.healthSeries(sensor, since, new Date(Date.now() + 60_000));
  return points.reduce((n, p) => n + p.samples, 0);
}

/**
 * The summary at an instant when `steady`'s stored health count is known too: its count read
 * before and after the summary must agree (it reports every second; retried otherwise).
 */
async function snapshot(api: Api, since: Date): Promise<{ summary: HealthSummary; steady: number }> {
  for (;;) {
    const a = await healthSamples(api, 'steady', since);
    const summary = await api.summary();
    const b = await healthSamples(api, 'steady', since);
    if (a === b) return { summary, steady: a };
  }
}

/** Publishes a stream over one connection, IN_FLIGHT QoS 1 messages at a time; returns how many of each verdict. */
async function publishAll(url: string, sensor: string, secret: string, payloads: Iterable<FuzzPayload>): Promise<Record<string, number>> {
  const client = await connectClient({ url, username: sensor, password: secret }, { keepalive: 30 });
  const verdicts: Record<string, number> = {};
  const inFlight = new Set<Promise<unknown>>();
  let last: FuzzPayload | undefined;
  // mqtt.js leaves a QoS 1 publish pending when the connection drops: a close fails the stream at once.
  const dropped = new Promise<never>((_, reject) =>
    client.once('close', () =>
      reject(
        new Error(`${sensor}: the collector closed the connection (last payload sent: ${last?.mutation} on ${last?.topic}, codec verdict ${last?.verdict})`),
      ),
    ),
  );
  dropped.catch(() => undefined);
  try {
    for (const p of payloads) {
      last = p;
      verdicts[p.verdict] = (verdicts[p.verdict] ?? 0) + 1;
      const sent = client.publishAsync(p.topic, p.bytes, { qos: 1 }).finally(() => inFlight.delete(sent));
      inFlight.add(sent);
      if (inFlight.size >= IN_FLIGHT) await Promise.race([dropped, ...inFlight]);
    }
    await Promise.race([dropped, Promise.all(inFlight)]);
    assert.ok(client.connected, `${sensor}: bad payloads must not cost the sensor its connection`);
  } finally {
    // endAsync() never settles on a connection the broker already closed.
    if (client.connected) await client.endAsync();
    else client.end(true);
  }
  return verdicts;
}

/** One raw connection: optional valid CONNECT, then the bad bytes; resolves with how the broker ended it. */
function rawConnection(port: number, sensor: string, secret: string, c: RawCase): Promise<{ name: string; closedAfterMs: number | null }> {
  return new Promise((resolve) => {
    const started = Date.now();
    const socket: Socket = connect(port, '127.0.0.1');
    let connacked = !c.afterConnect;
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ name: c.name, closedAfterMs: null });
    }, 60_000); // the broker closes at once; generous for a loaded machine
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(timer);
      resolve({ name: c.name, closedAfterMs: connacked ? Date.now() - started : -1 });
    });
    socket.on('data', (data) => {
      if (connacked) return;
      // CONNACK 0x20 0x02 <flags> <code 0>
      if (data[0] === 0x20 && data[3] === 0) {
        connacked = true;
        socket.write(c.bytes);
      } else socket.destroy();
    });
    socket.on('connect', () => {
      if (c.afterConnect) socket.write(connectPacket(sensor, sensor, secret, 5));
      else socket.write(c.bytes);
    });
  });
}

integrationTest(
  `fuzz: ${TOTAL} mutated payloads from three sensors and raw malformed packets, every one counted, collector up, another sensor's data arrives [pglite]`,
  async (scope) => {
    const backend = await prepareBackend(scope, 'pglite');
    if (!backend) return;
    const collector = await Collector.create(scope, { backend });
    await collector.start();
    const { api } = collector;
    const RAWS = Array.from({ length: RAW_ROUNDS }, (_, i) => `raw-${i + 1}`);
    const secrets = await enrolSensors(collector, [...FUZZERS, ...RAWS, 'steady']);
    const steady = new Agent(scope, {
      name: 'steady',
      secret: secrets.get('steady')!,
      mqttUrl: collector.mqttUrl,
      healthSeconds: 1,
      availabilitySeconds: 3600,
    });
    steady.start();
    await api.waitForStatus('steady', 'online', 60_000);
    const since = new Date(Date.now() - 60_000);
    await eventually(async () => ((await healthSamples(api, 'steady', since)) >= 2 ? true : undefined), { what: 'steady reporting', timeoutMs: 30_000 });

    const pid = collector.process.child.pid!;
    const before = await snapshot(api, since);
    const rssBefore = rssMiB(pid);
    let rssPeak = rssBefore;
    const sampler = setInterval(() => {
      // A collector that died is reported by the assertions below, not by this sampler.
      if (collector.process.running) rssPeak = Math.max(rssPeak, rssMiB(pid));
    }, 500);
    sampler.unref();
    scope.defer(() => clearInterval(sampler));
    // The steady agent's reconnects (its stdout `online` events): each adds a birth and the re-sent
    // reports in flight (counted as duplicates) that the stored-sample count cannot attribute.
    const steadyOnlines = () => (steady.process.output().match(/"event":"online"/g) ?? []).length;
    const onlinesBefore = steadyOnlines();
    const started = Date.now();

    // Three fuzzing sensors at once.
    const verdicts = await Promise.all(FUZZERS.map((s, i) => publishAll(collector.mqttUrl, s, secrets.get(s)!, fuzzPayloads(s, PER_CLIENT, SEED + i))));
    const sentMs = Date.now() - started;
    const expected: Record<string, number> = {};
    for (const v of verdicts) for (const [k, n] of Object.entries(v)) expected[k] = (expected[k] ?? 0) + n;
    const sent = Object.values(expected).reduce((a, b) => a + b, 0);
    assert.equal(sent, PER_CLIENT * FUZZERS.length);
    for (const reason of DECODE_FAILURES) assert.ok((expected[reason] ?? 0) > 0, `the fuzz includes ${reason} payloads: ${JSON.stringify(expected)}`);
    assert.ok((expected.decodes ?? 0) > 0, 'the fuzz includes payloads that still decode');

    // Every payload was acknowledged (QoS 1), so every one has been counted by now, but wait for the
    // steady sensor's stream to be attributable: a snapshot where the totals add up.
    const after = await eventually(
      async () => {
        const snap = await snapshot(api, since);
        const fuzzCounted = total(snap.summary) - total(before.summary) - (snap.steady - before.steady);
        return fuzzCounted >= sent ? snap : undefined;
      },
      { what: `all ${sent} fuzz payloads counted in health/summary`, timeoutMs: 60_000 },
    ).catch(async (err: unknown) => {
      const s = await api.summary();
      throw new Error(`${String(err)}; summary ${JSON.stringify(s.ingest)}; expected ${JSON.stringify(expected)}`);
    });
    clearInterval(sampler);
    const rssAfter = rssMiB(pid);
    assert.ok(collector.process.running, 'the collector must not crash');

    const delta = Object.fromEntries(REJECT_REASONS.map((r) => [r, after.summary.ingest.rejected[r] - before.summary.ingest.rejected[r]]));
    // All decode-failure counts at once, with every reason's delta in the message, so a mismatch explains itself.
    assert.deepEqual(
      Object.fromEntries(DECODE_FAILURES.map((r) => [r, delta[r]])),
      Object.fromEntries(DECODE_FAILURES.map((r) => [r, expected[r] ?? 0])),
      `payloads counted by decode failure (all counted reasons: ${JSON.stringify(delta)}; codec verdicts: ${JSON.stringify(expected)})`,
    );
    const steadyStored = after.steady - before.steady;
    const fuzzCounted = total(after.summary) - total(before.summary) - steadyStored;
    const steadyReconnects = steadyOnlines() - onlinesBefore;
    if (steadyReconnects === 0) assert.equal(fuzzCounted, sent, 'every payload counted exactly once');
    else {
      // Under heavy load the steady agent may have lost its connection (keepalive): its birth and
      // re-sent reports (at most its window of 500 each time) are in the totals too.
      assert.ok(
        fuzzCounted >= sent && fuzzCounted - sent <= steadyReconnects * 501,
        `${fuzzCounted} counted for ${sent} fuzz payloads, with ${steadyReconnects} reconnects of the steady agent`,
      );
    }
    assert.equal(delta['store-error'], 0, 'no valid payload made the database fail');
    // The other sensor's data kept arriving while the fuzzing ran (one report a second).
    assert.ok(steadyStored >= Math.min(3, Math.floor(sentMs / 3000)), `steady stored ${steadyStored} reports in ${sentMs} ms of fuzzing`);
    assert.equal((await api.status('steady')).status, 'online');

    // Raw packets, after the counts were taken (a raw PUBLISH may reach ingest and would blur them):
    // three sensors' connections at once (one at a time per sensor: a second connection with the same
    // client id would take over the first). The broker closes every connection that breaks the protocol.
    const rawStarted = new Date();
    const limitsBefore = (await api.summary()).broker as { limits: { oversized: number } };
    const raw = (
      await Promise.all(
        RAWS.map(async (sensor, round) => {
          const results: { name: string; closedAfterMs: number | null }[] = [];
          for (const c of rawCases(prng(SEED + 100 + round), sensor)) results.push(await rawConnection(collector.mqttPort, sensor, secrets.get(sensor)!, c));
          return results;
        }),
      )
    ).flat();
    assert.ok(collector.process.running, 'the collector must survive the raw packets');
    // Packets announcing more than their type may carry are refused from the fixed header and counted.
    const oversizedCases = RAWS.map((sensor, round) => rawCases(prng(SEED + 100 + round), sensor))
      .flat()
      .reduce((n, c) => n + oversizedPackets(c.bytes, packetLimit), 0);
    assert.ok(oversizedCases >= RAWS.length * 2, 'the raw cases include packets over their size limit');
    const limitsAfter = (await api.summary()).broker as { limits: { oversized: number } };
    assert.equal(limitsAfter.limits.oversized - limitsBefore.limits.oversized, oversizedCases, 'oversized packets counted by the broker');
    const open = raw.filter((r) => r.closedAfterMs === null).map((r) => r.name);
    const refusedConnect = raw.filter((r) => r.closedAfterMs === -1).map((r) => r.name);
    assert.deepEqual(open, [], 'connections the broker left open after a protocol violation');
    assert.deepEqual(refusedConnect, [], 'the valid CONNECT before a raw case must be accepted');
    // …and the raw sensor still connects normally afterwards.
    const rawClient = await connectClient({ url: collector.mqttUrl, username: 'raw-1', password: secrets.get('raw-1')! });
    await rawClient.publishAsync(topics.sensor('raw-1', 'health'), Buffer.from([0xff]), { qos: 1 });
    await rawClient.endAsync();
    await eventually(async () => ((await healthSamples(api, 'steady', rawStarted)) >= 2 ? true : undefined), {
      what: 'steady reports stored after the raw packets',
      timeoutMs: 30_000,
    });

    assert.ok(rssAfter - rssBefore < RSS_GROWTH_MIB, `collector RSS grew from ${rssBefore.toFixed(0)} to ${rssAfter.toFixed(0)} MiB`);
    figure('mqtt-fuzz', {
      payloads: sent,
      verdicts: expected,
      counted: { accepted: after.summary.ingest.acceptedTotal - before.summary.ingest.acceptedTotal - steadyStored, rejected: delta },
      rawConnections: raw.length,
      rawClosedMaxMs: Math.max(...raw.map((r) => r.closedAfterMs ?? 0)),
      sentMs,
      payloadsPerSecond: Math.round(sent / (sentMs / 1000)),
      steadyStored,
      steadyReconnects,
      rssMiB: { before: Math.round(rssBefore), peak: Math.round(rssPeak), after: Math.round(rssAfter) },
    });
    await steady.stop();
    await collector.stop();
  },
  { timeoutMs: 3_600_000 },
);
