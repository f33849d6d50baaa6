/**
 * The storage side of traffic ingest alone (issue 11), in this process: no MQTT, no collector
 * process, so the figure is what PostgreSQL and the ingest code manage, not the broker's or the
 * bench clients' share of two loaded cores. S sensors at 10 locations send R rounds of one P-row
 * message each (the bench/network.ts flows: distinct pairs, so every row is new) through
 * SensorService.ingestTraffic — the real batcher (TRAFFIC_BATCH), transactions and SQL — all of a
 * round at once. Measured: rows stored per second (counted in network_traffic, and checked against
 * what was sent) and this process's CPU.
 *
 * Needs PCAPMESH_TEST_DATABASE_URL (scripts/services.sh); a database of its own is created and dropped.
 * Usage: node --conditions=pcapmesh-src --import tsx bench/network-store.ts [sensors=200] [pairs=1000] [rounds=3]
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import pg from 'pg';
import { openDb } from '../collector/src/storage/db.js';
import { migrate } from '../collector/src/storage/migrate.js';
import { networkHarness } from '../collector/src/domain/network/network.fixture.js';
import { machine } from './lib/measure.js';

const [sensors, pairs, rounds] = [200, 1000, 3].map((d, i) => Number(process.argv[2 + i] ?? d)) as [number, number, number];
for (const [name, v] of Object.entries({ sensors, pairs, rounds })) {
  if (!Number.isSafeInteger(v) || v < 1) {
    console.error(`${name} must be a positive integer, got ${v}`);
    process.exit(2);
  }
}
const baseUrl = process.env.PCAPMESH_TEST_DATABASE_URL;
if (!baseUrl) {
  console.error('PCAPMESH_TEST_DATABASE_URL is not set: scripts/services.sh start && eval "$(scripts/services.sh env)"');
  process.exit(2);
}

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Pair j of a sensor's minute: the same subnets as bench/network.ts. */
function flows(count: number): { srcNet: string; dstNet: string; packets: number; bytes: number }[] {
  return Array.from({ length: count }, (_, j) => ({
    srcNet: `10.${(j >> 8) & 255}.${j & 255}.0/24`,
    dstNet: `172.${16 + (j >> 16)}.${(j >> 8) & 255}.0/24`,
    packets: 10 + (j % 7),
    bytes: 1500 * (10 + (j % 7)),
  }));
}

const load = () =>
  loadavg()
    .map((l) => l.toFixed(1))
    .join(' / ');

const database = `pcapmesh_bench_${randomBytes(5).toString('hex')}`;
await admin(`CREATE DATABASE ${database}`);
const url = new URL(baseUrl);
url.pathname = `/${database}`;
const db = await openDb({ url: url.toString() });
try {
  await migrate(db);
  const h = networkHarness(db);
  const names = Array.from({ length: sensors }, (_, i) => `s${String(i).padStart(4, '0')}`);
  for (const [i, name] of names.entries()) await h.sensors.register({ name, location: `site-${i % 10}` });
  const minute0 = Math.floor(Date.now() / 60_000) * 60_000 - 3_600_000;
  const body = flows(pairs);
  const msg = (seq: number, round: number, f = body) => ({
    v: 1 as const,
    sentAt: Date.now(),
    seq,
    intervalStart: minute0 + round * 60_000,
    intervalSeconds: 60,
    part: '00000000000000ab',
    flows: f,
  });
  // Warm-up (not timed): each location's table exists before the load.
  for (let l = 0; l < Math.min(10, sensors); l++) await h.sensors.ingestTraffic(names[l]!, msg(1, -1, body.slice(0, 1)));
  const count = async () => Number((await db.query<{ n: string }>('SELECT count(*)::int8 AS n FROM network_traffic'))[0]!.n);
  const before = await count();
  const loadStart = load();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    const outcomes = await Promise.all(names.map((name) => h.sensors.ingestTraffic(name, msg(2 + r, r))));
    const bad = outcomes.filter((o) => o !== 'applied');
    if (bad.length > 0) throw new Error(`round ${r}: ${bad.length} messages not applied (${bad[0]})`);
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const rows = (await count()) - before;
  if (rows !== sensors * rounds * pairs) throw new Error(`stored ${rows} rows, sent ${sensors * rounds * pairs}`);
  console.log(
    [
      `Machine: ${machine()}, load average ${loadStart} at start, ${load()} at the end`,
      `Store: ${sensors} sensors at 10 locations, ${rounds} rounds of one ${pairs}-row message each, in process (SensorService.ingestTraffic)`,
      '',
      '| rows stored | s | rows/s | this process CPU s |',
      '|---:|---:|---:|---:|',
      `| ${rows.toLocaleString('en')} | ${wall.toFixed(1)} | ${Math.round(rows / wall).toLocaleString('en')} | ${((cpu.user + cpu.system) / 1e6).toFixed(1)} |`,
    ].join('\n'),
  );
} finally {
  await db.close();
  await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch((err: unknown) => console.error(`could not drop ${database}: ${String(err)}`));
}
