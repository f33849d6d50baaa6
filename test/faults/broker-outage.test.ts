/**
 * Fault suite, broker outage (issue 14): the embedded broker goes away with its collector (SIGTERM)
 * while three sensors publish, and comes back after a configurable time on the same data dir and
 * ports. No report may be lost: every seq the publishers produced (lib/publisher.ts: an agent's
 * delivery rules with exact bookkeeping) is stored exactly once afterwards, and a real agent beside
 * them reports again on its own.
 *
 * CI form: 20 s. Long form (bench/faults.ts, FAULTS_LONG=1): 300 s. FAULTS_BROKER_OUTAGE_SECONDS overrides.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Collector, eventually, integrationTest, prepareBackend } from '../integration/harness.js';
import { assertStoredOnce, startPublishers, STORED_HEALTH_SEQS_SQL } from './lib/publisher.js';
import { figure, sized } from './lib/world.js';

const OUTAGE_S = sized('FAULTS_BROKER_OUTAGE_SECONDS', 20, 300);
const SENSORS = ['pub-1', 'pub-2', 'pub-3'];

integrationTest(
  `broker outage: the embedded broker down ${OUTAGE_S} s while three sensors publish: 0 reports lost [pglite]`,
  async (scope) => {
    const backend = await prepareBackend(scope, 'pglite');
    if (!backend) return;
    const collector = await Collector.create(scope, { backend });
    await collector.start();
    const { api } = collector;
    const { agent, publishers } = await startPublishers(scope, collector, SENSORS);

    const before = publishers.map((p) => p.stats);
    await collector.stop();
    await sleep(OUTAGE_S * 1000);
    const during = publishers.map((p) => p.stats);
    assert.ok(agent.running, `the agent must ride out the outage:\n${agent.process.tail(20)}`);
    await collector.start();
    const restartedAt = Date.now();

    for (const p of publishers) p.stopProducing();
    // Publishers may reconnect before the ready line (the broker listens first): count from before the start.
    const atRestart = during;
    const toDrain = () => publishers.map((p, i) => p.stats.produced - atRestart[i]!.acked);
    const progress: string[] = [];
    const tick = setInterval(() => {
      const pending = publishers.map((p) => `${p.stats.pending}/${p.stats.connects}`).join(' ');
      progress.push(`${Math.round((Date.now() - restartedAt) / 1000)}s ${pending}`);
    }, 10_000);
    const drained = await eventually(async () => (publishers.every((p) => p.stats.pending === 0) ? Date.now() : undefined), {
      what: 'every report queued during the outage acknowledged',
      timeoutMs: 120_000,
    })
      .catch((err: unknown) => {
        const stats = JSON.stringify(publishers.map((p) => ({ sensor: p.sensor, ...p.stats })));
        throw new Error(`${String(err)}: ${stats}\ndrain progress (s after restart, pending/connects per publisher):\n${progress.join('\n')}`);
      })
      .finally(() => clearInterval(tick));
    await eventually(
      async () => {
        const points = await api.healthSeries('agent-1', new Date(restartedAt), new Date(Date.now() + 60_000));
        return points.reduce((n, x) => n + x.samples, 0) >= 2 ? true : undefined;
      },
      { what: 'the real agent reporting again after the outage', timeoutMs: 120_000 },
    );
    await agent.stop();
    for (const p of publishers) await p.close();
    await collector.stop();

    // Produced vs stored, seq by seq (PGlite: read once the collector has released its data dir).
    const db = await backend.openDb(collector.dataDir);
    try {
      await assertStoredOnce(publishers, async (sensor) =>
        (await db.query<{ seq: number | string }>(STORED_HEALTH_SEQS_SQL, [sensor])).map((r) => Number(r.seq)),
      );
    } finally {
      await db.close();
    }
    const producedInOutage = during.reduce((n, s, i) => n + s.produced - before[i]!.produced, 0);
    assert.ok(producedInOutage >= OUTAGE_S * 3, `reports were produced during the outage: ${producedInOutage}`);
    const drainSeconds = (drained - restartedAt) / 1000;
    figure('broker-outage', {
      outageSeconds: OUTAGE_S,
      produced: publishers.map((p) => p.stats.produced),
      producedDuringOutage: producedInOutage,
      lost: 0,
      drainedAfterRestartMs: drained - restartedAt,
      // Per publisher: reports to drain (waiting when the collector was started again, plus those
      // produced until its ready line), that count over the time from the ready line to the last
      // PUBACK (an upper bound: draining may begin before the ready line), and connects since the
      // start (1 = no reconnect while draining).
      pendingAtRestart: toDrain(),
      drainPerSensorPerSecond: toDrain().map((n) => Math.round(n / drainSeconds)),
      connectsAfterRestart: publishers.map((p, i) => p.stats.connects - atRestart[i]!.connects),
      agentOnlines: (agent.process.output().match(/"event":"(ready|online)"/g) ?? []).length,
    });
  },
  { timeoutMs: 1_800_000 },
);
