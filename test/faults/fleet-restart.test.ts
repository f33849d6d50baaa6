/**
 * Fleet through a broker restart (issue 17, test "500 agents through a broker restart all return
 * and nothing they spooled is lost"; not timed): 500 sensors, each a spooling publisher over its own
 * MQTT connection (lib/publisher.ts: the agent's delivery rules — QoS 1, every unacknowledged
 * report kept and sent again in order after each reconnect, jittered backoff, a window of 500), are
 * online on a collector with the embedded broker; the collector is stopped (SIGTERM: the broker
 * closes every connection) for a few seconds while they keep producing, then started again. Every
 * publisher must come back on its own and every report it produced must be stored exactly once.
 *
 * The sensors are registered in the database before the first start, through the SensorService the
 * CLI's `pcapmesh sensor add` uses (bench/fleet.ts does the same): 1,000 API calls would take
 * longer than the test. The per-address connection cap is raised: all publishers share 127.0.0.1.
 *
 * CI form: 500 publishers, a report every 5 s, 5 s down. FAULTS_FLEET_SENSORS / FAULTS_FLEET_OUTAGE_SECONDS override.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { pino } from 'pino';
import { DomainEvents } from '../../collector/src/domain/events.js';
import { SensorService } from '../../collector/src/domain/sensors/sensors.service.js';
import { migrate } from '../../collector/src/storage/migrate.js';
import { Collector, eventually, integrationTest, prepareBackend } from '../integration/harness.js';
import { assertStoredOnce, SpoolingPublisher } from './lib/publisher.js';
import { figure, sized } from './lib/world.js';

const SENSORS = sized('FAULTS_FLEET_SENSORS', 500, 500);
const OUTAGE_S = sized('FAULTS_FLEET_OUTAGE_SECONDS', 5, 30);
const REPORT_EVERY_MS = 5_000;

integrationTest(
  `fleet restart: ${SENSORS} spooling sensors through a ${OUTAGE_S} s broker restart all return, 0 reports lost [pglite]`,
  async (scope) => {
    const backend = await prepareBackend(scope, 'pglite');
    if (!backend) return;
    const collector = await Collector.create(scope, {
      backend,
      extraConfig: { mqtt: { maxConnectionsPerAddress: SENSORS + 50 } },
    });
    const t0 = Date.now();
    const names = Array.from({ length: SENSORS }, (_, i) => `fleet-${String(i).padStart(4, '0')}`);
    const secrets = new Map<string, string>();
    {
      const db = await backend.openDb(collector.dataDir);
      try {
        await migrate(db);
        const sensors = new SensorService({ db, events: new DomainEvents(), log: pino({ level: 'silent' }), heartbeatTimeoutSeconds: 30 });
        for (const name of names) secrets.set(name, (await sensors.register({ name, location: 'lab' })).secret);
      } finally {
        await db.close();
      }
    }
    const enrolledAt = Date.now();
    await collector.start();
    const startedAt = Date.now();
    const publishers = names.map((n) => new SpoolingPublisher(n, secrets.get(n)!, collector.mqttUrl, REPORT_EVERY_MS));
    scope.defer(async () => {
      await Promise.all(publishers.map((p) => p.close()));
    });
    for (const p of publishers) p.start();
    const report = () => {
      const s = publishers.map((p) => p.stats);
      return `connected at least twice ${s.filter((x) => x.connects >= 2).length}/${SENSORS}, pending ${s.reduce((n, x) => n + x.pending, 0)}`;
    };
    await eventually(async () => (publishers.every((p) => p.stats.acked >= 1) ? true : undefined), {
      what: `each of ${SENSORS} publishers online with a report stored`,
      timeoutMs: 240_000,
    });
    const onlineAt = Date.now();

    await collector.stop();
    await sleep(OUTAGE_S * 1000);
    await collector.start();
    const restartedAt = Date.now();
    for (const p of publishers) p.stopProducing();
    const back = await eventually(async () => (publishers.every((p) => p.stats.connects >= 2 && p.stats.pending === 0) ? Date.now() : undefined), {
      what: 'every publisher back and every report it spooled acknowledged',
      timeoutMs: 240_000,
    }).catch((err: unknown) => {
      throw new Error(`${String(err)}: ${report()}`);
    });
    await Promise.all(publishers.map((p) => p.close()));
    await collector.stop();

    const db = await backend.openDb(collector.dataDir);
    let stored: Map<string, number[]>;
    try {
      const rows = await db.query<{ name: string; seq: number | string }>(
        'SELECT s.name, h.seq FROM health_samples h JOIN sensors s ON s.id = h.sensor_id ORDER BY s.name, h.seq',
      );
      stored = new Map(names.map((n) => [n, []]));
      for (const r of rows) stored.get(r.name)?.push(Number(r.seq));
    } finally {
      await db.close();
    }
    await assertStoredOnce(publishers, (sensor) => Promise.resolve(stored.get(sensor)!));
    const produced = publishers.reduce((n, p) => n + p.stats.produced, 0);
    assert.ok(produced >= SENSORS * 2, `reports were produced before and during the outage: ${produced}`);
    const connects = publishers.map((p) => p.stats.connects);
    figure('fleet-restart', {
      sensors: SENSORS,
      outageSeconds: OUTAGE_S,
      produced,
      lost: 0,
      // Phases: sensors registered, first start, all online, back after the restart (from the second ready).
      enrolMs: enrolledAt - t0,
      startMs: startedAt - enrolledAt,
      onlineMs: onlineAt - startedAt,
      backAfterRestartMs: back - restartedAt,
      connectsPerSensor: { min: Math.min(...connects), max: Math.max(...connects), mean: connects.reduce((a, b) => a + b, 0) / SENSORS },
    });
  },
  { timeoutMs: 900_000 },
);
