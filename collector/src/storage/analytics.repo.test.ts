import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { forEachDatabase } from '../testing/databases.js';
import { bytesByLocation, counterDeltas, downloadsPerDay, jobsPerDay, statusTimeline, timeToResult } from './analytics.repo.js';
import { foldTraffic } from './traffic-fold.js';
import { addNetworkTraffic, ensureLocationTrafficTable } from './network-traffic.repo.js';

const MIN = 60_000;
const DAY = 86_400_000;

forEachDatabase('analytics repo', (ctx) => {
  test('counter deltas with resets, status timeline, jobs and downloads per day, time to result, bytes by location', async () => {
    const db = ctx.db;
    const t0 = Date.UTC(2026, 7, 3, 10);
    await db.query(`INSERT INTO locations (name) VALUES ('loc-1')`);
    await db.query(`INSERT INTO sensors (name, secret_hash, location_id) VALUES ('ar-1', 'x', (SELECT id FROM locations WHERE name = 'loc-1'))`);
    const [{ id: sensorId } = { id: 0 }] = await db.query<{ id: number }>(`SELECT id FROM sensors WHERE name = 'ar-1'`);
    const sample = (at: number, seq: number, captures: unknown[], interfaces: unknown[]) =>
      db.query(
        `INSERT INTO health_samples (sensor_id, sampled_at, seq, cpu_usage, cpu_cores, memory_total, memory_used, memory_available,
           load1, load5, load15, uptime_seconds, disks, interfaces, captures)
         VALUES ($1, $2, $3, 1, 1, 1, 1, 1, 0, 0, 0, 1, '[]', $4::jsonb, $5::jsonb)`,
        [sensorId, new Date(at), seq, JSON.stringify(interfaces), JSON.stringify(captures)],
      );
    // Two capture processes; eth1 restarts between the 2nd and 3rd sample; one sample lacks counters.
    await sample(
      t0,
      1,
      [
        { interface: 'eth0', packets: 100, drops: 1 },
        { interface: 'eth1', packets: 50 },
      ],
      [{ name: 'eth0', rxPackets: 5, rxDropped: 0 }],
    );
    await sample(
      t0 + MIN,
      2,
      [
        { interface: 'eth0', packets: 300, drops: 3 },
        { interface: 'eth1', packets: 80 },
      ],
      [{ name: 'eth0', rxPackets: 9, rxDropped: 4 }],
    );
    await sample(
      t0 + 2 * MIN,
      3,
      [
        { interface: 'eth0', running: false },
        { interface: 'eth1', packets: 20 },
      ],
      [{ name: 'eth0', rxPackets: 19, rxDropped: 4 }],
    );
    await sample(t0 + 10 * DAY, 4, [{ interface: 'eth0', packets: 9_999, drops: 999 }], []);
    const window = [new Date(t0), new Date(t0 + DAY)] as const;
    assert.deepEqual(await counterDeltas(db, 'capture', ...window), [{ sensorId, packets: 200 + 30 + 20, drops: 2 }]);
    assert.deepEqual(await counterDeltas(db, 'interface', ...window), [{ sensorId, packets: 14, drops: 4 }]);

    for (const [status, at] of [
      ['online', t0 - DAY],
      ['offline', t0 - MIN],
      ['online', t0 + 5 * MIN],
      ['degraded', t0 + 6 * MIN],
    ] as const) {
      await db.query(`INSERT INTO sensor_status_history (sensor_id, from_status, to_status, reason, at) VALUES ($1, 'x', $2, 'r', $3)`, [
        sensorId,
        status,
        new Date(at),
      ]);
    }
    const timeline = await statusTimeline(db, ...window);
    assert.deepEqual(
      timeline.before.map((r) => [r.status, r.at.getTime()]),
      [['offline', t0 - MIN]],
    );
    assert.deepEqual(
      timeline.during.map((r) => [r.status, r.at.getTime()]),
      [
        ['online', t0 + 5 * MIN],
        ['degraded', t0 + 6 * MIN],
      ],
    );

    const job = async (created: number, status: string, finishedAfterS: number | null) => {
      const id = randomUUID();
      await db.query(
        `INSERT INTO jobs (id, owner, status, window_from, window_to, window_ns, filter, filter_expression, targets, limits, created_at, finished_at, deadline_at)
         VALUES ($1, 'ana', $2, $3, $4, '{}', '{}', 'tcp', '{}', '{}', $3, $5, $4)`,
        [id, status, new Date(created), new Date(created + MIN), finishedAfterS === null ? null : new Date(created + finishedAfterS * 1000)],
      );
      return id;
    };
    const a = await job(t0, 'complete', 10);
    await job(t0 + MIN, 'partial', 30);
    await job(t0 + 2 * MIN, 'complete', 20);
    await job(t0 + DAY + MIN, 'running', null);
    await job(t0 + 3 * MIN, 'failed', 1);
    const twoDays = [new Date(t0), new Date(t0 + 2 * DAY)] as const;
    const perDay = await jobsPerDay(db, ...twoDays);
    assert.deepEqual(
      perDay.map((r) => [r.day.toISOString().slice(0, 10), r.status, r.jobs]),
      [
        ['2026-08-03', 'complete', 2],
        ['2026-08-03', 'failed', 1],
        ['2026-08-03', 'partial', 1],
        ['2026-08-04', 'running', 1],
      ],
    );
    assert.deepEqual(await timeToResult(db, ...twoDays), { jobs: 3, medianSeconds: 20, p90Seconds: 28 });
    assert.deepEqual(await timeToResult(db, new Date(t0 + 5 * DAY), new Date(t0 + 6 * DAY)), { jobs: 0, medianSeconds: null, p90Seconds: null });
    await db.query(`INSERT INTO job_downloads (username, job_id, at, bytes) VALUES ('ana', $1, $2, 1000), ('bo', $1, $3, 24), ('bo', $1, $4, 5)`, [
      a,
      new Date(t0 + MIN),
      new Date(t0 + 2 * MIN),
      new Date(t0 + DAY + 1),
    ]);
    assert.deepEqual(
      (await downloadsPerDay(db, ...twoDays)).map((r) => [r.day.toISOString().slice(0, 10), r.bytes, r.downloads]),
      [
        ['2026-08-03', 1024, 2],
        ['2026-08-04', 5, 1],
      ],
    );

    const [{ id: locationId } = { id: 0 }] = await db.query<{ id: number }>(`SELECT id FROM locations WHERE name = 'loc-1'`);
    await db.transaction(async (tx) => {
      await ensureLocationTrafficTable(tx, locationId);
      await addNetworkTraffic(
        tx,
        foldTraffic([
          { locationId, sensorId, intervalStart: new Date(t0), flows: [{ src: '10.0.0.0/24', dst: '10.0.1.0/24', packets: 1, bytes: 100 }] },
          { locationId, sensorId, intervalStart: new Date(t0 + 61 * MIN), flows: [{ src: '10.0.0.0/24', dst: 'other', packets: 2, bytes: 50 }] },
        ]),
      );
    });
    const series = await bytesByLocation(db, new Date(t0), new Date(t0 + 2 * 3_600_000), 3600, null);
    assert.deepEqual(
      series.map((r) => [r.location, new Date(r.at).getTime(), r.bytes]),
      [
        ['loc-1', t0, 100],
        ['loc-1', t0 + 3_600_000, 50],
      ],
    );
    assert.deepEqual(await bytesByLocation(db, new Date(t0), new Date(t0 + 2 * 3_600_000), 3600, locationId + 1000), []);
  });
});
