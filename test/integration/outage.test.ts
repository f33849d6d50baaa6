/**
 * Acceptance: "The broker side stopped for 60 s while the agent runs: after it returns, every QoS 1
 * message spooled in the outage is stored, in order, none twice" — the collector (with its embedded
 * broker) is stopped for 60 s and started again on the same data dir and ports, while a real agent
 * keeps producing health reports every second. Checked in the database by the agent's sequence
 * numbers, and through the health series API.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { Agent, BACKENDS, Collector, eventually, integrationTest, prepareBackend } from './harness.js';

const OUTAGE_MS = 60_000;

interface Sample {
  seq: number;
  sampledAt: Date;
}

for (const backendName of BACKENDS) {
  integrationTest(
    `outage: collector down 60 s, every spooled QoS 1 message stored in order, none twice [${backendName}]`,
    async (scope) => {
      const backend = await prepareBackend(scope, backendName);
      if (!backend) return;
      const collector = await Collector.create(scope, { backend });
      const secret = await collector.addSensor('alpha');
      await collector.start();
      const { api } = collector;
      // Availability only at start (no capture directories change): during the outage the agent's
      // only QoS 1 messages are its health reports, so their sequence numbers are consecutive.
      const agent = new Agent(scope, { name: 'alpha', secret, mqttUrl: collector.mqttUrl, healthSeconds: 1, availabilitySeconds: 3600 });
      agent.start();
      await api.waitForStatus('alpha', 'online', 30_000);
      await eventually(async () => ((await api.summary()).ingest.accepted.health >= 3 ? true : undefined), {
        what: 'three health reports stored before the outage',
        timeoutMs: 30_000,
      });

      const stoppedAt = new Date();
      await collector.stop();
      await sleep(OUTAGE_MS);
      assert.ok(agent.running, `the agent must ride out the outage:\n${agent.process.tail()}`);
      await collector.start();
      const restartedAt = new Date();

      // The agent reconnects (backoff), replays its spool, then reports live again.
      await api.waitForStatus('alpha', 'online', 90_000);
      await eventually(
        async () => {
          const points = await api.healthSeries('alpha', new Date(restartedAt.getTime() + 2_000), new Date(Date.now() + 60_000));
          return points.length >= 3 ? true : undefined;
        },
        { what: 'live health reports after the spool was replayed', timeoutMs: 90_000 },
      );
      const seriesDuringOutage = await api.healthSeries('alpha', stoppedAt, restartedAt);
      const servedSamples = seriesDuringOutage.reduce((n, p) => n + p.samples, 0);

      await agent.stop();
      await collector.stop();
      const db = await backend.openDb(collector.dataDir);
      let rows: Sample[];
      try {
        rows = (
          await db.query<{ seq: number; sampled_at: Date | string }>(
            `SELECT h.seq, h.sampled_at FROM health_samples h JOIN sensors s ON s.id = h.sensor_id
            WHERE s.name = $1 ORDER BY h.sampled_at, h.seq`,
            ['alpha'],
          )
        ).map((r) => ({ seq: Number(r.seq), sampledAt: new Date(r.sampled_at) }));
      } finally {
        await db.close();
      }

      // None twice.
      const seqs = rows.map((r) => r.seq);
      assert.equal(new Set(seqs).size, seqs.length, `a health report was stored twice: ${JSON.stringify(seqs)}`);
      // In order: by sending time, sequence numbers only increase.
      for (let i = 1; i < rows.length; i++) {
        assert.ok(rows[i]!.seq > rows[i - 1]!.seq, `out of order at ${rows[i]!.sampledAt.toISOString()}: seq ${rows[i - 1]!.seq} then ${rows[i]!.seq}`);
      }
      // Everything produced during the outage is there: from the last report before the stop on,
      // sequence numbers are consecutive, except for one jump at the reconnect, where the agent's
      // new birth (and its availability report) take numbers of their own.
      const before = rows.filter((r) => r.sampledAt < stoppedAt);
      const during = rows.filter((r) => r.sampledAt >= stoppedAt && r.sampledAt < restartedAt);
      const sinceStop = rows.slice(before.length - 1);
      assert.ok(before.length >= 3, `expected reports before the outage, got ${before.length}`);
      // At one report a second even a loaded machine produces many in 60 s; 10 proves the spool was used.
      assert.ok(during.length >= 10, `expected reports produced during the 60 s outage, got ${during.length}`);
      const jumps = sinceStop
        .slice(1)
        .map((r, i) => ({ from: sinceStop[i]!, to: r }))
        .filter((j) => j.to.seq !== j.from.seq + 1);
      assert.ok(jumps.length <= 1, `reports lost: ${JSON.stringify(jumps.map((j) => [j.from.seq, j.to.seq]))}`);
      for (const j of jumps) {
        assert.ok(j.to.seq - j.from.seq <= 3, `reports lost between seq ${j.from.seq} and ${j.to.seq}`);
        assert.ok(j.from.sampledAt >= during.at(-1)!.sampledAt, `a jump inside the outage, between seq ${j.from.seq} and ${j.to.seq}`);
      }
      // And the API serves the same samples for the outage window.
      assert.equal(servedSamples, during.length, 'the health series API must count every stored outage sample');
    },
    { timeoutMs: 900_000 },
  );
}
