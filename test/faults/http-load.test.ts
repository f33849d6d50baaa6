/**
 * Fault suite, HTTP load (issue 14): a real collector (embedded broker, PostgreSQL) with 1,000
 * registered sensors; `GET /api/v1/sensors` (the dashboard's fleet list, every sensor) as a
 * viewer, many at a time over keep-alive connections, and correct logins (argon2 password
 * checks) a few at a time.
 *
 * Asserted: counts only — every request answered 200, every list complete (1,000 sensors), the
 * collector up. Latencies (p50/p99), rates and the load average are reported (FAULT-FIGURE), never
 * asserted: they depend on the machine's load.
 *
 * CI form: 100 list requests (16 at a time), 12 logins (3 at a time). Long form (bench/faults.ts,
 * FAULTS_LONG=1): 3,000 and 200. FAULTS_HTTP_LIST_REQUESTS / FAULTS_HTTP_LOGINS override.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { insertSensor } from '../../collector/src/storage/sensors.repo.js';
import { Collector, eventually, integrationTest, prepareBackend } from '../integration/harness.js';
import { JobsClient, login } from '../integration/harness/jobs-api.js';
import { figure, sized } from './lib/world.js';

const SENSORS = 1_000;
const LIST_REQUESTS = sized('FAULTS_HTTP_LIST_REQUESTS', 100, 3_000);
const LIST_PARALLEL = 16;
const LOGINS = sized('FAULTS_HTTP_LOGINS', 12, 200);
const LOGIN_PARALLEL = 3;

/** Runs `total` tasks with `parallel` at a time. */
async function pool(total: number, parallel: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < total) await task(next++);
    }),
  );
}

const pct = (xs: number[], p: number): number => Math.round([...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!);

interface LoadResult {
  ms: number[];
  statuses: Record<string, number>;
  problems: string[];
  seconds: number;
}

/** `total` calls of `call` with `parallel` at a time: latencies, answers by status (or error code), the first problems. */
async function load(total: number, parallel: number, call: (i: number) => Promise<{ status: number; problem?: string }>): Promise<LoadResult> {
  const ms: number[] = [];
  const statuses: Record<string, number> = {};
  const problems: string[] = [];
  const started = performance.now();
  await pool(total, parallel, async (i) => {
    const t0 = performance.now();
    let key: string;
    try {
      const r = await call(i);
      key = String(r.status);
      if (r.problem && problems.length < 5) problems.push(`#${i}: ${r.problem}`);
    } catch (err) {
      key = ((err as Error).cause as { code?: string } | undefined)?.code ?? (err as Error).name;
      if (problems.length < 5) problems.push(`#${i}: ${(err as Error).message}`);
    }
    ms.push(performance.now() - t0);
    statuses[key] = (statuses[key] ?? 0) + 1;
  });
  return { ms, statuses, problems, seconds: (performance.now() - started) / 1000 };
}

const summary = (r: LoadResult) => ({
  requests: r.ms.length,
  statuses: r.statuses,
  p50ms: pct(r.ms, 0.5),
  p99ms: pct(r.ms, 0.99),
  maxMs: Math.round(Math.max(...r.ms)),
  perSecond: Math.round((r.ms.length / r.seconds) * 10) / 10,
});

integrationTest(
  `http load: GET /sensors with ${SENSORS} sensors (${LIST_REQUESTS} requests, ${LIST_PARALLEL} at a time) and ${LOGINS} logins: every answer 200 [postgres]`,
  async (scope) => {
    const backend = await prepareBackend(scope, 'postgres');
    if (!backend) return;
    const collector = await Collector.create(scope, { backend });
    await collector.start();
    const base = collector.api.baseUrl;
    const admin = new JobsClient(base, collector.apiToken);

    // Ten sensors through the API (with locations), the rest written straight into the collector's
    // database by the sensors repository (1,000 API calls take over a minute under load).
    const registerStarted = performance.now();
    for (let i = 0; i < 10; i++) await admin.expect(201, 'POST', '/admin/sensors', { name: `load-${String(i).padStart(4, '0')}`, location: `site-${i}` });
    const db = await backend.openDb(collector.dataDir);
    try {
      await db.transaction(async (tx) => {
        for (let i = 10; i < SENSORS; i++) {
          await insertSensor(tx, { name: `load-${String(i).padStart(4, '0')}`, locationId: null, secretHash: `sha256:${randomBytes(32).toString('hex')}` });
        }
      });
    } finally {
      await db.close();
    }
    const registerSeconds = (performance.now() - registerStarted) / 1000;
    const password = `pw-${randomBytes(12).toString('hex')}`;
    await admin.expect(201, 'POST', '/admin/users', { username: 'viewer1', role: 'viewer', password });
    const jwt = await login(base, 'viewer1', password);

    // The collector's sensor views refresh from the database on their own schedule: wait for all of them.
    await eventually(
      async () => {
        const n = (await collector.api.get<{ sensors: unknown[] }>('/sensors')).sensors.length;
        if (n === SENSORS) return true;
        throw new Error(`${n} sensors listed`);
      },
      { what: `GET /sensors listing all ${SENSORS} sensors`, timeoutMs: 120_000, intervalMs: 500 },
    );
    const list = await load(LIST_REQUESTS, LIST_PARALLEL, async () => {
      const res = await fetch(`${base}/api/v1/sensors`, { headers: { authorization: `Bearer ${jwt}` }, signal: AbortSignal.timeout(120_000) });
      const text = await res.text();
      if (res.status !== 200) return { status: res.status, problem: text.slice(0, 200) };
      const n = (JSON.parse(text) as { sensors: unknown[] }).sensors.length;
      return n === SENSORS ? { status: 200 } : { status: 200, problem: `${n} sensors listed, not ${SENSORS}` };
    });
    // Correct logins: each runs a password check (argon2id); the viewer's address is known after its first login.
    const logins = await load(LOGINS, LOGIN_PARALLEL, async () => {
      const res = await fetch(`${base}/api/v1/login`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username: 'viewer1', password, client: 'api' }),
        signal: AbortSignal.timeout(120_000),
      });
      const text = await res.text();
      return res.status === 200 ? { status: 200 } : { status: res.status, problem: text.slice(0, 200) };
    });

    assert.ok(collector.process.running, 'the collector stays up');
    assert.deepEqual(list.problems, [], 'GET /sensors answers that were not a complete list');
    assert.deepEqual(list.statuses, { 200: LIST_REQUESTS }, 'GET /sensors answers by status');
    assert.deepEqual(logins.problems, [], 'logins that failed');
    assert.deepEqual(logins.statuses, { 200: LOGINS }, 'login answers by status');
    figure('http-load', {
      sensors: SENSORS,
      registerSeconds: Math.round(registerSeconds * 10) / 10,
      list: { parallel: LIST_PARALLEL, ...summary(list) },
      login: { parallel: LOGIN_PARALLEL, ...summary(logins) },
      errors: 0,
    });
    await collector.stop();
  },
  { timeoutMs: 1_800_000 },
);
