/**
 * What the login benches share (login-throttle.ts: one attacking address; login-spray.ts: many):
 * a real in-process collector with USERS analysts, HTTP requests from a chosen loopback source
 * address, the legitimate clients' timed logins, the attacker as a process of its own (it must not
 * share our event loop), and the result rows.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync } from 'node:fs';
import { request, type Agent } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createCollector } from '../../collector/src/app.js';
import { collectorConfig } from '../../collector/src/config.js';

export const USERS = 8;
export const PASSWORD = 'bench user password';
const ADMIN_PASSWORD = 'bench admin password';
/** Where the legitimate clients log in from. */
export const LEGIT_ADDRESS = '127.0.0.2';

/** POST JSON from a chosen loopback source address; resolves with status and body. */
export function post(
  base: string,
  path: string,
  body: unknown,
  from: string,
  token?: string,
  agent: Agent | false = false,
): Promise<{ status: number; body: string }> {
  const url = new URL(path, base);
  const data = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        path: url.pathname,
        method: 'POST',
        localAddress: from,
        agent,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(data), ...(token ? { authorization: `Bearer ${token}` } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

/** Runs `total` tasks with `parallel` at a time. */
export async function pool(total: number, parallel: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < total) await task(next++);
    }),
  );
}

export const pct = (xs: number[], p: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

/** `count` correct logins from LEGIT_ADDRESS, 2 at a time, over the USERS analysts; their latencies in ms. */
export async function legitLogins(base: string, count: number): Promise<number[]> {
  const ms: number[] = [];
  await pool(count, 2, async (i) => {
    const started = performance.now();
    const res = await post(base, '/api/v1/login', { username: `user${i % USERS}`, password: PASSWORD, client: 'api' }, LEGIT_ADDRESS);
    if (res.status !== 200) throw new Error(`legitimate login ${i} failed: ${res.status} ${res.body}`);
    ms.push(performance.now() - started);
  });
  return ms;
}

/** Starts a collector (memory PGlite and cache, ephemeral ports, `auth` settings on top), creates the analysts, runs `body`, stops. */
export async function withLoginCollector(auth: Record<string, unknown>, body: (base: string) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-bench-login-'));
  const config = collectorConfig({
    dataDir: dir,
    http: { port: 0 },
    mqtt: { port: 0 },
    database: { url: 'memory://' },
    auth: { adminPassword: ADMIN_PASSWORD, ...auth },
  });
  const collector = createCollector(config, { log: pino({ level: 'silent' }) });
  await collector.start();
  try {
    const base = collector.httpUrl;
    const admin = JSON.parse((await post(base, '/api/v1/login', { username: 'admin', password: ADMIN_PASSWORD }, LEGIT_ADDRESS)).body) as {
      accessToken: string;
    };
    for (let u = 0; u < USERS; u++) {
      const res = await post(base, '/api/v1/admin/users', { username: `user${u}`, role: 'analyst', password: PASSWORD }, LEGIT_ADDRESS, admin.accessToken);
      if (res.status !== 201) throw new Error(`creating user${u}: ${res.status} ${res.body}`);
    }
    await body(base);
  } finally {
    await collector.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface Attack {
  /** True once the attacker process has ended. */
  done(): boolean;
  /** Its answers by HTTP status, and how long it ran. */
  finished: Promise<{ statuses: Record<string, number>; seconds: number }>;
}

/** Starts this bench script again as `--attacker BASE ATTEMPTS` (see `runBench`). */
export function startAttacker(base: string, attempts: number): Attack {
  let ended = false;
  let report = '';
  const started = performance.now();
  const attacker = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '--attacker', base, String(attempts)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  attacker.stdout.on('data', (d: Buffer) => (report += d.toString()));
  const finished = once(attacker, 'close').then(() => {
    ended = true;
    return { statuses: JSON.parse(report) as Record<string, number>, seconds: (performance.now() - started) / 1000 };
  });
  return { done: () => ended, finished };
}

/** "401 × 50, 429 × 9950" */
export function counts(byStatus: Record<string, number>): string {
  return Object.entries(byStatus)
    .sort()
    .map(([s, n]) => `${s} × ${n}`)
    .join(', ');
}

/** The latency table's rows: without the attack, after it, during it (ratio of medians against the first, goal ≤ 2×). */
export function latencyRows(baseline: number[], after: number[], during: number[], duringLabel: string): string[] {
  const ratio = pct(during, 0.5) / pct(baseline, 0.5);
  return [
    `| without attack | ${baseline.length} | ${pct(baseline, 0.5).toFixed(0)} | ${pct(baseline, 0.95).toFixed(0)} | (baseline) |`,
    `| without attack, after it | ${after.length} | ${pct(after, 0.5).toFixed(0)} | ${pct(after, 0.95).toFixed(0)} | ${(pct(after, 0.5) / pct(baseline, 0.5)).toFixed(2)}× |`,
    `| ${duringLabel} | ${during.length} | ${pct(during, 0.5).toFixed(0)} | ${pct(during, 0.95).toFixed(0)} | ${ratio.toFixed(2)}× ${ratio <= 2 ? '(goal ≤ 2× met)' : '(goal ≤ 2× NOT met)'} |`,
  ];
}

/** Runs `attacker(base, attempts)` when the script was started by `startAttacker`, else `main()`. */
export function runBench(main: () => Promise<void>, attacker: (base: string, attempts: number) => Promise<void>): void {
  (process.argv[2] === '--attacker' ? attacker(process.argv[3]!, Number(process.argv[4])) : main()).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
