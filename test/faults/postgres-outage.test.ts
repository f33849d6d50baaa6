/**
 * Fault suite, database outage (issue 14): the collector's PostgreSQL (a server of this test's own)
 * is stopped while three sensors publish health reports, then started again. The collector is not
 * restarted: ingest must resume on its own, and no report may be lost — a report is acknowledged only
 * once stored (finding 3), so every one the publishers produced (seq 1…N each) is in the database
 * exactly once afterwards, whatever was refused, disconnected and resent during the outage.
 *
 * The publishers keep an agent's delivery rules with exact bookkeeping (lib/publisher.ts); a real
 * agent runs beside them and must be reporting again after the outage.
 *
 * CI form: 15 s outage. Long form (bench/faults.ts, FAULTS_LONG=1): 60 s. FAULTS_PG_OUTAGE_SECONDS overrides.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { Collector, eventually, integrationTest, type Backend } from '../integration/harness.js';
import { openDb } from '../../collector/src/storage/db.js';
import { ownPostgres } from './lib/postgres.js';
import { assertStoredOnce, startPublishers, STORED_HEALTH_SEQS_SQL } from './lib/publisher.js';
import { figure, sized } from './lib/world.js';

const OUTAGE_S = sized('FAULTS_PG_OUTAGE_SECONDS', 15, 60);
const SENSORS = ['pub-1', 'pub-2', 'pub-3'];

integrationTest(
  `postgres outage: PostgreSQL stopped ${OUTAGE_S} s while three sensors publish, then started: 0 reports lost, ingest resumes on its own`,
  async (scope) => {
    const server = await ownPostgres(scope);
    if (!server) return;
    const backend: Backend = {
      name: 'postgres',
      config: { database: { url: server.url }, redis: {} },
      openDb: () => openDb({ url: server.url, maxConnections: 2 }),
    };
    const collector = await Collector.create(scope, { backend });
    await collector.start();
    const { api } = collector;
    const { agent, publishers } = await startPublishers(scope, collector, SENSORS);

    const before = publishers.map((p) => p.stats);
    const stoppedAt = Date.now();
    server.stop();
    await sleep(OUTAGE_S * 1000);
    const during = publishers.map((p) => p.stats);
    assert.ok(collector.process.running, `the collector must ride out the database outage:\n${collector.process.tail(20)}`);
    server.start();
    const restartedAt = Date.now();

    // Ingest resumes without a restart: every queued report gets acknowledged, the agent reports again.
    for (const p of publishers) p.stopProducing();
    const drained = await eventually(async () => (publishers.every((p) => p.stats.pending === 0) ? Date.now() : undefined), {
      what: 'every report queued during the outage acknowledged',
      timeoutMs: 120_000,
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}: ${JSON.stringify(publishers.map((p) => ({ sensor: p.sensor, ...p.stats })))}`);
    });
    const agentSince = new Date(restartedAt);
    await eventually(
      async () => {
        const points = await api.healthSeries('agent-1', agentSince, new Date(Date.now() + 60_000));
        return points.reduce((n, x) => n + x.samples, 0) >= 2 ? true : undefined;
      },
      { what: 'the real agent reporting again after the outage', timeoutMs: 120_000 },
    );
    const summary = await api.summary();
    await agent.stop();
    for (const p of publishers) await p.close();
    await collector.stop();

    // Produced vs stored, seq by seq.
    const client = new pg.Client({ connectionString: server.url });
    await client.connect();
    try {
      await assertStoredOnce(publishers, async (sensor) =>
        (await client.query<{ seq: string }>(STORED_HEALTH_SEQS_SQL, [sensor])).rows.map((r) => Number(r.seq)),
      );
    } finally {
      await client.end();
    }
    const producedInOutage = during.reduce((n, s, i) => n + s.produced - before[i]!.produced, 0);
    assert.ok(producedInOutage >= OUTAGE_S * 3, `reports were produced during the outage: ${producedInOutage}`);
    figure('postgres-outage', {
      outageSeconds: OUTAGE_S,
      produced: publishers.map((p) => p.stats.produced),
      producedDuringOutage: producedInOutage,
      lost: 0,
      reconnects: publishers.map((p) => p.stats.connects - 1),
      drainedAfterRestartMs: drained - restartedAt,
      storeErrorsCounted: summary.ingest.rejected['store-error'],
      outageMs: restartedAt - stoppedAt,
    });
  },
  { timeoutMs: 900_000 },
);
