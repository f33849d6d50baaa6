/**
 * Login under brute force: how much slower do correct logins of other users get while 10,000
 * wrong-password attempts are running? Goal: no more than 2× the latency without the attack.
 *
 * One real collector (in-process: memory PGlite, memory cache, HTTP on an ephemeral port) with
 * USERS analysts. Legitimate clients log in from 127.0.0.2 over HTTP, `LEGIT` logins with 2 at a
 * time, first alone (baseline), then while the attacker sends `ATTEMPTS` wrong-password logins
 * from 127.0.0.3 with 32 at a time, for usernames that are not the legitimate ones, then alone
 * again (the shared machine's load drifts: before and after bracket the attack). The same run
 * measures all three; the table gives the ratios against the first.
 *
 *   node --conditions=pcapmesh-src --import tsx bench/login-throttle.ts [ATTEMPTS=10000] [LEGIT=40]
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { Agent, request } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { createCollector } from '../collector/src/app.js';
import { collectorConfig } from '../collector/src/config.js';
import { machine } from './lib/measure.js';

const ATTEMPTS = Number(process.argv[2] ?? 10_000);
const LEGIT = Number(process.argv[3] ?? 40);
const USERS = 8;
const ADMIN_PASSWORD = 'bench admin password';
const PASSWORD = 'bench user password';

/** POST JSON from a chosen loopback source address; resolves with status and body. */
function post(base: string, path: string, body: unknown, from: string, token?: string, agent: Agent | false = false): Promise<{ status: number; body: string }> {
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
async function pool(total: number, parallel: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: parallel }, async () => {
      while (next < total) await task(next++);
    }),
  );
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

async function legitLogins(base: string): Promise<number[]> {
  const ms: number[] = [];
  await pool(LEGIT, 2, async (i) => {
    const started = performance.now();
    const res = await post(base, '/api/v1/login', { username: `user${i % USERS}`, password: PASSWORD, client: 'api' }, '127.0.0.2');
    if (res.status !== 200) throw new Error(`legitimate login ${i} failed: ${res.status} ${res.body}`);
    ms.push(performance.now() - started);
  });
  return ms;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-bench-login-'));
  const config = collectorConfig({
    dataDir: dir,
    http: { port: 0 },
    mqtt: { port: 0 },
    database: { url: 'memory://' },
    auth: { adminPassword: ADMIN_PASSWORD },
  });
  const collector = createCollector(config, { log: pino({ level: 'silent' }) });
  await collector.start();
  try {
    const base = collector.httpUrl;
    const admin = JSON.parse((await post(base, '/api/v1/login', { username: 'admin', password: ADMIN_PASSWORD }, '127.0.0.2')).body) as { accessToken: string };
    for (let u = 0; u < USERS; u++) {
      const res = await post(base, '/api/v1/admin/users', { username: `user${u}`, role: 'analyst', password: PASSWORD }, '127.0.0.2', admin.accessToken);
      if (res.status !== 201) throw new Error(`creating user${u}: ${res.status} ${res.body}`);
    }
    await legitLogins(base); // warm-up
    const baseline = await legitLogins(base);

    // The attacker is a process of its own, as it would be: it does not share our event loop.
    let attackDone = false;
    let report = '';
    const attackStarted = performance.now();
    const attacker = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '--attacker', base, String(ATTEMPTS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    attacker.stdout.on('data', (d: Buffer) => (report += d.toString()));
    const attack = once(attacker, 'close').then(() => {
      attackDone = true;
    });
    const underAttack: number[] = [];
    while (!attackDone) underAttack.push(...(await legitLogins(base)));
    await attack;
    const attackSeconds = (performance.now() - attackStarted) / 1000;
    const statuses = Object.entries(JSON.parse(report) as Record<string, number>);
    const after = await legitLogins(base);

    const ratio = pct(underAttack, 0.5) / pct(baseline, 0.5);
    const rows = [
      `### Correct logins while ${ATTEMPTS.toLocaleString('en')} wrong-password attempts run`,
      '',
      `Machine: ${machine()}`,
      '',
      '| correct logins | n | median ms | p95 ms | slower than without attack (median) |',
      '|---|---:|---:|---:|---:|',
      `| without attack | ${baseline.length} | ${pct(baseline, 0.5).toFixed(0)} | ${pct(baseline, 0.95).toFixed(0)} | (baseline) |`,
      `| without attack, after it | ${after.length} | ${pct(after, 0.5).toFixed(0)} | ${pct(after, 0.95).toFixed(0)} | ${(pct(after, 0.5) / pct(baseline, 0.5)).toFixed(2)}× |`,
      `| during the attack | ${underAttack.length} | ${pct(underAttack, 0.5).toFixed(0)} | ${pct(underAttack, 0.95).toFixed(0)} | ${ratio.toFixed(2)}× ${ratio <= 2 ? '(goal ≤ 2× met)' : '(goal ≤ 2× NOT met)'} |`,
      '',
      `Attack: ${ATTEMPTS.toLocaleString('en')} attempts in ${attackSeconds.toFixed(1)} s (${(ATTEMPTS / attackSeconds).toFixed(0)}/s); answers: ${statuses
        .sort()
        .map(([s, n]) => `${s} × ${n}`)
        .join(', ')}`,
      '',
    ];
    console.log(rows.join('\n'));
  } finally {
    await collector.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The attacker process: ATTEMPTS wrong-password logins from 127.0.0.3, 32 at a time; prints status counts. */
async function attackerMain(base: string, attempts: number): Promise<void> {
  const statuses: Record<number, number> = {};
  // Keep-alive connections, as a scripted attacker would use.
  const agent = new Agent({ keepAlive: true, maxSockets: 32, localAddress: '127.0.0.3' });
  await pool(attempts, 32, async (i) => {
    const res = await post(base, '/api/v1/login', { username: `victim${i % 500}`, password: `guess-${i}` }, '127.0.0.3', undefined, agent);
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  });
  agent.destroy();
  process.stdout.write(JSON.stringify(statuses));
}

(process.argv[2] === '--attacker' ? attackerMain(process.argv[3]!, Number(process.argv[4])) : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
