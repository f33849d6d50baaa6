/**
 * The storage side of traffic ingest alone (issue 11), in this process: no MQTT, no collector
 * process, so the figure is what PostgreSQL and the ingest code manage, not the broker's or the
 * bench clients' share of two loaded cores. S sensors at 10 locations send R rounds of one P-row
 * message each (the bench/network.ts flows: distinct pairs, so every row is new) through
 * SensorService.ingestTraffic — the real batcher (TRAFFIC_BATCH), transactions and SQL — all of a
 * round at once. Measured: rows stored per second (counted in network_traffic, and checked against
 * what was sent), this process's CPU, and on PostgreSQL the CPU of the database's server processes
 * (the pool's backends, from /proc/<pid>/stat; PostgreSQL runs on this machine) — CPU seconds per
 * million rows are steadier than rows/s on a loaded machine. On PGlite the engine runs in this
 * process, so its CPU is this process's.
 *
 * Needs PCAPMESH_TEST_DATABASE_URL (scripts/services.sh) for db=postgres; a database of its own is
 * created and dropped. db=pglite uses an in-memory PGlite.
 * Usage: node --conditions=pcapmesh-src --import tsx bench/network-store.ts [sensors=200] [pairs=1000] [rounds=3] [db=postgres|pglite]
 */
import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import pg from 'pg';
import { openDb } from '../collector/src/storage/db.js';
import { migrate } from '../collector/src/storage/migrate.js';
import { networkHarness } from '../collector/src/domain/network/network.fixture.js';
import { machine } from './lib/measure.js';

const [sensors, pairs, rounds] = [200, 1000, 3].map((d, i) => Number(process.argv[2 + i] ?? d)) as [number, number, number];
const kind = process.argv[5] ?? 'postgres';
if (kind !== 'postgres' && kind !== 'pglite') {
  console.error(`db must be postgres or pglite, got ${kind}`);
  process.exit(2);
}
for (const [name, v] of Object.entries({ sensors, pairs, rounds })) {
  if (!Number.isSafeInteger(v) || v < 1) {
    console.error(`${name} must be a positive integer, got ${v}`);
    process.exit(2);
  }
}
const baseUrl = process.env.PCAPMESH_TEST_DATABASE_URL;
if (kind === 'postgres' && !baseUrl) {
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

/** CPU seconds (user + system) of the server processes behind this database's connections. */
async function serverCpu(db: Awaited<ReturnType<typeof openDb>>, database: string): Promise<Map<number, number>> {
  const pids = await db.query<{ pid: number }>('SELECT pid FROM pg_stat_activity WHERE datname = $1', [database]);
  const out = new Map<number, number>();
  for (const { pid } of pids) {
    try {
      const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      out.set(pid, (Number(f[11]) + Number(f[12])) / sysconf.ticks);
    } catch {
      // Not on this machine, or gone: not counted.
    }
  }
  return out;
}
const sysconf = { ticks: Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100 };

const database = `pcapmesh_bench_${randomBytes(5).toString('hex')}`;
let url = 'memory://';
if (kind === 'postgres') {
  await admin(`CREATE DATABASE ${database}`);
  const u = new URL(baseUrl!);
  u.pathname = `/${database}`;
  url = u.toString();
}
const db = await openDb({ url, maxConnections: 4 });
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
  const server0 = kind === 'postgres' ? await serverCpu(db, database) : new Map<number, number>();
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let r = 0; r < rounds; r++) {
    const outcomes = await Promise.all(names.map((name) => h.sensors.ingestTraffic(name, msg(2 + r, r))));
    const bad = outcomes.filter((o) => o !== 'applied');
    if (bad.length > 0) throw new Error(`round ${r}: ${bad.length} messages not applied (${bad[0]})`);
  }
  const wall = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const server1 = kind === 'postgres' ? await serverCpu(db, database) : new Map<number, number>();
  const serverSeconds = [...server1].reduce((s, [pid, c]) => s + c - (server0.get(pid) ?? 0), 0);
  const rows = (await count()) - before;
  const own = (cpu.user + cpu.system) / 1e6;
  if (rows !== sensors * rounds * pairs) throw new Error(`stored ${rows} rows, sent ${sensors * rounds * pairs}`);
  console.log(
    [
      `Machine: ${machine()}, load average ${loadStart} at start, ${load()} at the end`,
      `Store: ${sensors} sensors at 10 locations, ${rounds} rounds of one ${pairs}-row message each, in process (SensorService.ingestTraffic), ${kind}`,
      '',
      '| db | rows stored | s | rows/s | this process CPU s | per M rows | PostgreSQL backends CPU s | per M rows |',
      '|---|---:|---:|---:|---:|---:|---:|---:|',
      `| ${kind} | ${rows.toLocaleString('en')} | ${wall.toFixed(1)} | ${Math.round(rows / wall).toLocaleString('en')} | ${own.toFixed(1)} | ${((own / rows) * 1e6).toFixed(1)} | ${kind === 'postgres' ? serverSeconds.toFixed(1) : '(in this process)'} | ${kind === 'postgres' ? ((serverSeconds / rows) * 1e6).toFixed(1) : '–'} |`,
    ].join('\n'),
  );
} finally {
  await db.close();
  if (kind === 'postgres')
    await admin(`DROP DATABASE IF EXISTS ${database} WITH (FORCE)`).catch((err: unknown) => console.error(`could not drop ${database}: ${String(err)}`));
}
