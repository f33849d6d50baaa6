/**
 * A sensor fleet against one collector (issue 17): `pcapmesh collector` as a user runs it (embedded
 * aedes broker; PGlite by default, or PostgreSQL), loaded by simulated agents from a few worker
 * processes on loopback (bench/lib/fleet-agents.ts: each agent has its own credentials and does
 * what the real agent does — will, retained birth, health every 10 s, availability and traffic
 * every 60 s, agent reconnect backoff).
 *
 * Per level (number of agents):
 *   enrol    the sensors are registered in bulk before the collector starts, through the same
 *            SensorService the CLI's `pcapmesh sensor add` uses (one by one over the API would
 *            take longer than the run);
 *   connect  cold start: every agent connects within one second; time until all are online,
 *            CONNECT attempts, CONNACK timeouts, CONNACK 3 (busy) answers;
 *   steady   `seconds` of normal load: collector CPU (% of one core, from /proc), peak RSS, messages
 *            sent vs stored per second (stored = acknowledged: the collector PUBACKs after the
 *            store), lag p50/p99 = health publish → PUBACK, GET /sensors p95 (one request every 2 s);
 *   storm    the collector is stopped (SIGTERM: the broker closes every connection) and started
 *            again; time from its ready line until every agent is back, attempts per agent,
 *            CONNACK timeouts and busy answers;
 *   check    after the run, health samples in the database ≥ health messages acknowledged.
 *
 * The load processes share the machine with the collector: CPU and lag include that contention.
 * The load average is printed with each level. 10,000 connections need ~10,100 open files in the
 * collector and ~2,600 per load process (`ulimit -n`).
 *
 * Usage: node --conditions=pcapmesh-src --import tsx bench/fleet.ts [levels=1000,3000,10000] [db=pglite|postgres] [seconds=60]
 *   postgres needs PCAPMESH_TEST_DATABASE_URL (scripts/services.sh env).
 *   PCAPMESH_PGLITE_WORKER=0 (inherited by the collector) runs PGlite on the collector's main thread
 *   as before #17's database thread; the table's db column says which ran.
 *   FLEET_CPU_PROF=DIR: the collector runs with --cpu-prof into DIR (one profile per thread, written
 *   at each stop; the first covers cold start and steady phase); the phases' start and end times
 *   (ms since the epoch) are printed so a profile can be cut by phase.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import pg from 'pg';
import { repoRoot } from '@pcapmesh/shared/util/testing';
import { DomainEvents } from '../collector/src/domain/events.js';
import { SensorService } from '../collector/src/domain/sensors/sensors.service.js';
import { openDb } from '../collector/src/storage/db.js';
import { migrate } from '../collector/src/storage/migrate.js';
import { CollectorProcess } from './lib/collector-process.js';
import type { FleetReport } from './lib/fleet-agents.js';
import { machine } from './lib/measure.js';

const [levelsArg = '1000,3000,10000', dbKind = 'pglite', secondsArg = '60'] = process.argv.slice(2);
const levels = levelsArg.split(',').map(Number);
const steadySeconds = Number(secondsArg);
if (levels.some((n) => !Number.isInteger(n) || n < 1) || !(steadySeconds > 0)) {
  console.error(`usage: bench/fleet.ts [levels=1000,3000,10000] [db=pglite|postgres] [seconds=60]; got ${process.argv.slice(2).join(' ')}`);
  process.exit(2);
}
if (dbKind !== 'pglite' && dbKind !== 'postgres') {
  console.error(`db must be pglite or postgres, got ${dbKind}`);
  process.exit(2);
}
const baseUrl = process.env.PCAPMESH_TEST_DATABASE_URL;
if (dbKind === 'postgres' && !baseUrl) {
  console.error('db=postgres needs PCAPMESH_TEST_DATABASE_URL: eval "$(scripts/services.sh env)"');
  process.exit(2);
}
const dbLabel = dbKind === 'postgres' ? 'postgres' : process.env.PCAPMESH_PGLITE_WORKER === '0' ? 'pglite (main thread)' : 'pglite (thread)';
const profDir = process.env.FLEET_CPU_PROF;
const AGENTS_PER_PROCESS = 2_500;
const WAIT_ONLINE_MS = 600_000;
const log = pino({ level: 'silent' });

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const load = () =>
  loadavg()
    .map((x) => x.toFixed(1))
    .join(' ');
const pct = (xs: number[], p: number) => {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const ms = (x: number) => (Number.isNaN(x) ? '–' : x < 10 ? `${x.toFixed(1)} ms` : x < 1000 ? `${x.toFixed(0)} ms` : `${(x / 1000).toFixed(1)} s`);

async function admin(sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: baseUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** The load processes and the sum of their latest reports. */
class Fleet {
  private readonly latest = new Map<ChildProcess, FleetReport>();
  /** Lags reported since the last take(). */
  private lags: number[] = [];

  private constructor(private readonly children: ChildProcess[]) {
    for (const child of children) {
      child.on('message', (m: FleetReport | { stopped: true }) => {
        if ('stopped' in m) return;
        this.latest.set(child, m);
        for (const l of m.lags) this.lags.push(l);
      });
    }
  }

  static start(url: string, secrets: [string, string][]): Fleet {
    const children: ChildProcess[] = [];
    for (let i = 0; i < secrets.length; i += AGENTS_PER_PROCESS) {
      const child = fork(join(repoRoot, 'bench/lib/fleet-agents.ts'), [], { execArgv: ['--conditions=pcapmesh-src', '--import', 'tsx'], stdio: 'inherit' });
      const agents = secrets.slice(i, i + AGENTS_PER_PROCESS).map(([name, secret], k) => ({ name, secret, index: i + k }));
      child.send({ cmd: 'start', url, agents });
      children.push(child);
    }
    return new Fleet(children);
  }

  sum(): Omit<FleetReport, 'lags'> {
    const total = {
      online: 0,
      attempts: 0,
      connackTimeouts: 0,
      busy: 0,
      refused: 0,
      lost: 0,
      birthTimeouts: 0,
      sent: 0,
      acked: 0,
      healthSent: 0,
      healthAcked: 0,
    };
    for (const r of this.latest.values()) for (const k of Object.keys(total) as (keyof typeof total)[]) total[k] += r[k];
    return total;
  }

  takeLags(): number[] {
    const out = this.lags;
    this.lags = [];
    return out;
  }

  async waitOnline(n: number, what: string): Promise<number> {
    const t0 = Date.now();
    let shown = t0;
    while (this.sum().online < n) {
      if (Date.now() - shown >= 15_000) {
        shown = Date.now();
        console.error(`[${n}] ${what}: ${((shown - t0) / 1000).toFixed(0)} s ${JSON.stringify(this.sum())}`);
      }
      if (Date.now() - t0 > WAIT_ONLINE_MS) throw new Error(`${what}: not all ${n} online after ${WAIT_ONLINE_MS / 1000} s: ${JSON.stringify(this.sum())}`);
      await sleep(200);
    }
    return (Date.now() - t0) / 1000;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.children.map(
        (c) =>
          new Promise<void>((resolve) => {
            c.once('exit', () => resolve());
            c.send({ cmd: 'stop' });
          }),
      ),
    );
  }
}

const diff = (a: Omit<FleetReport, 'lags'>, b: Omit<FleetReport, 'lags'>) =>
  Object.fromEntries(Object.entries(b).map(([k, v]) => [k, v - a[k as keyof typeof a]])) as Omit<FleetReport, 'lags'>;

async function level(n: number): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-fleet-'));
  const dbName = `fleet_${process.pid}_${n}`;
  let databaseUrl: string | undefined;
  if (dbKind === 'postgres') {
    await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await admin(`CREATE DATABASE ${dbName}`);
    const u = new URL(baseUrl!);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
  }
  const dbOptions = databaseUrl ? { url: databaseUrl } : { dataDir: join(dir, 'data') };
  let collector: CollectorProcess | null = null;
  let fleet: Fleet | null = null;
  try {
    // enrol
    let t = Date.now();
    const secrets: [string, string][] = [];
    {
      const db = await openDb(dbOptions);
      await migrate(db);
      const sensors = new SensorService({ db, events: new DomainEvents(), log, heartbeatTimeoutSeconds: 30 });
      // 8 at once: PostgreSQL runs them in parallel, PGlite queues them.
      let next = 0;
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          while (next < n) {
            const i = next++;
            const name = `fleet-${String(i).padStart(5, '0')}`;
            secrets[i] = [name, (await sensors.register({ name, location: `site-${i % 20}` })).secret];
          }
        }),
      );
      await db.close();
    }
    const enrolS = (Date.now() - t) / 1000;
    console.error(`[${n}] enrolled ${n} sensors in ${enrolS.toFixed(1)} s (load ${load()})`);
    collector = await CollectorProcess.create({
      dir,
      databaseUrl,
      mqtt: { maxConnectionsPerAddress: n + 1_000 },
      ...(profDir ? { nodeArgs: ['--cpu-prof', '--cpu-prof-dir', profDir] } : {}),
    });
    await collector.start();

    // connect (cold start)
    const loadConnect = load();
    fleet = Fleet.start(collector.mqttUrl, secrets);
    const connectStart = Date.now();
    const connectS = await fleet.waitOnline(n, 'cold start');
    const afterConnect = fleet.sum();
    console.error(`[${n}] phase connect ${connectStart}–${Date.now()}`);
    console.error(`[${n}] all online in ${connectS.toFixed(1)} s: ${JSON.stringify(afterConnect)}`);

    // steady
    await sleep(10_000); // every agent has sent its first health message
    fleet.takeLags();
    const s0 = fleet.sum();
    const cpu0 = collector.cpuSeconds();
    const main0 = collector.mainThreadCpuSeconds();
    t = Date.now();
    let rss = 0;
    const gets: number[] = [];
    let count = 0;
    while (Date.now() - t < steadySeconds * 1000) {
      const g0 = performance.now();
      const { sensors } = await collector.call<{ sensors: unknown[] }>('GET', '/sensors');
      gets.push(performance.now() - g0);
      count = sensors.length;
      rss = Math.max(rss, collector.rssMiB());
      await sleep(2_000);
    }
    const wall = (Date.now() - t) / 1000;
    const cpu = ((collector.cpuSeconds() - cpu0) / wall) * 100;
    const mainCpu = ((collector.mainThreadCpuSeconds() - main0) / wall) * 100;
    const steady = diff(s0, fleet.sum());
    console.error(`[${n}] phase steady ${t}–${Date.now()}`);
    const lags = fleet.takeLags();
    const loadSteady = load();
    if (count !== n) throw new Error(`GET /sensors listed ${count} sensors, expected ${n}`);
    console.error(
      `[${n}] steady ${wall.toFixed(0)} s: CPU ${cpu.toFixed(0)} % (main thread ${mainCpu.toFixed(0)} %), RSS ${rss.toFixed(0)} MiB, ${JSON.stringify(steady)}`,
    );

    // storm: the collector (and its broker) restarts
    const openFiles = collector.maxOpenFiles();
    const beforeStop = fleet.sum();
    t = Date.now();
    await collector.stop();
    await collector.start();
    const restartS = (Date.now() - t) / 1000;
    const ready = fleet.sum();
    const stormS = await fleet.waitOnline(n, 'reconnect storm');
    const storm = diff(ready, fleet.sum());
    const stormAll = diff(beforeStop, fleet.sum());
    const loadStorm = load();
    const summary = await collector.call<{ broker: { limits?: Record<string, number> } }>('GET', '/health/summary');
    console.error(`[${n}] broker refusals since the restart: ${JSON.stringify(summary.broker.limits)}`);
    console.error(`[${n}] storm: back in ${stormS.toFixed(1)} s after ready (restart ${restartS.toFixed(1)} s): ${JSON.stringify(stormAll)}`);
    await sleep(15_000); // the returning agents' spooled-equivalent health flows again
    const total = fleet.sum();
    await fleet.stop();
    fleet = null;
    await collector.stop();
    collector = null;

    // check: every acknowledged health message is stored
    const db = await openDb(dbOptions);
    const stored = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM health_samples'))[0]!.n;
    await db.close();
    const check = stored >= total.healthAcked ? `${stored} ≥ ${total.healthAcked} acked: ok` : `LOST: ${stored} stored < ${total.healthAcked} acked`;

    const rate = (x: number) => (x / wall).toFixed(0);
    return [
      `| ${n.toLocaleString('en')} | ${dbLabel} | ${enrolS.toFixed(0)} s | ${connectS.toFixed(1)} s, ${afterConnect.connackTimeouts} CONNACK timeouts, ${afterConnect.busy} busy, ${(afterConnect.attempts / n).toFixed(2)} attempts/agent | ` +
        `${cpu.toFixed(0)} % (main thread ${mainCpu.toFixed(0)} %) | ${rss.toFixed(0)} MiB | ${rate(steady.acked)} / ${rate(steady.sent)} | ${ms(pct(lags, 50))} / ${ms(pct(lags, 99))} (${lags.length}) | ${ms(pct(gets, 95))} (${gets.length}) | ` +
        `${stormS.toFixed(1)} s after ready (restart ${restartS.toFixed(0)} s), ${storm.connackTimeouts} CONNACK timeouts, ${storm.busy} busy, ${(stormAll.attempts / n).toFixed(2)} attempts/agent | ${check} | ${loadConnect} / ${loadSteady} / ${loadStorm} | ${openFiles} |`,
    ].join('\n');
  } finally {
    await fleet?.stop();
    await collector?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (dbKind === 'postgres') await admin(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`).catch(() => undefined);
  }
}

const rows: string[] = [];
for (const n of levels) rows.push(await level(n));
console.log(
  [
    `### Fleet on one collector (${dbKind}), steady phase ${steadySeconds} s`,
    '',
    `Machine: ${machine()}`,
    '',
    '| agents | db | enrol | cold start: all online | collector CPU (its main thread) | peak RSS | stored / sent per s | lag p50 / p99 (samples) | GET /sensors p95 (requests) | reconnect storm | health stored vs acked | load avg (connect / steady / storm) | collector open files limit |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
  ].join('\n'),
);
