/**
 * Login under a distributed password spray: how much slower do correct logins from known sources
 * get while ATTEMPTS wrong-password logins arrive from 248 addresses (each under every
 * per-address limit)? Goal: no more than 2× the median latency without the attack. Also: how many
 * argon2 checks a second the attacker gets admitted, and how unknown sources with the right
 * password fare during the spray.
 *
 * One real collector (in-process: memory PGlite, memory cache, HTTP on an ephemeral port, the
 * default auth settings) with USERS analysts, each of whom signed in from 127.0.0.2 before (so
 * that address is known for them). Correct logins from 127.0.0.2, 2 at a time: alone (baseline),
 * during the spray, alone again. The attacker is a process of its own sending ATTEMPTS wrong
 * passwords, 32 at a time over keep-alive connections bound to 127.0.0.3 … 127.0.0.250, half of
 * them for the real usernames (which the per-user lockout then closes to unknown sources) and half
 * for other names. Between rounds, one correct login from a never-seen address 127.0.1.x probes
 * what an unknown legitimate user gets.
 *
 *   node --conditions=pcapmesh-src --import tsx bench/login-spray.ts [ATTEMPTS=10000] [LEGIT=40] [BUDGET=on|off]
 *
 * BUDGET=off sets auth.globalFailuresPerMinute to its maximum: the spray as it was before the
 * global budget (every guess one argon2 check); use fewer ATTEMPTS then.
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
const BUDGET = (process.argv[4] ?? 'on') === 'on';
const USERS = 8;
const ATTACKER_ADDRESSES = Array.from({ length: 248 }, (_, i) => `127.0.0.${i + 3}`);
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
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-bench-spray-'));
  const config = collectorConfig({
    dataDir: dir,
    http: { port: 0 },
    mqtt: { port: 0 },
    database: { url: 'memory://' },
    auth: { adminPassword: ADMIN_PASSWORD, ...(BUDGET ? {} : { globalFailuresPerMinute: 1_000_000 }) },
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
    await legitLogins(base); // warm-up; makes 127.0.0.2 known for every user
    const baseline = await legitLogins(base);

    let attackDone = false;
    let report = '';
    const attackStarted = performance.now();
    const attacker = spawn(process.execPath, [...process.execArgv, process.argv[1]!, '--attacker', base, String(ATTEMPTS)], { stdio: ['ignore', 'pipe', 'inherit'] });
    attacker.stdout.on('data', (d: Buffer) => (report += d.toString()));
    const attack = once(attacker, 'close').then(() => {
      attackDone = true;
    });
    const underAttack: number[] = [];
    const unknownProbe: Record<number, number> = {};
    for (let round = 0; !attackDone; round++) {
      underAttack.push(...(await legitLogins(base)));
      const probe = await post(base, '/api/v1/login', { username: `user${round % USERS}`, password: PASSWORD, client: 'api' }, `127.0.1.${(round % 250) + 1}`);
      unknownProbe[probe.status] = (unknownProbe[probe.status] ?? 0) + 1;
    }
    await attack;
    const attackSeconds = (performance.now() - attackStarted) / 1000;
    const statuses = JSON.parse(report) as Record<string, number>;
    const after = await legitLogins(base);

    const ratio = pct(underAttack, 0.5) / pct(baseline, 0.5);
    const checked = statuses['401'] ?? 0; // a 401 is answered only after a password check
    const counts = (o: Record<string, number>) =>
      Object.entries(o)
        .sort()
        .map(([s, n]) => `${s} × ${n}`)
        .join(', ');
    const rows = [
      `### Correct logins from a known address while ${ATTEMPTS.toLocaleString('en')} wrong passwords arrive from ${ATTACKER_ADDRESSES.length} addresses (global budget ${BUDGET ? 'on' : 'off'})`,
      '',
      `Machine: ${machine()}`,
      '',
      '| correct logins (known address) | n | median ms | p95 ms | slower than without attack (median) |',
      '|---|---:|---:|---:|---:|',
      `| without attack | ${baseline.length} | ${pct(baseline, 0.5).toFixed(0)} | ${pct(baseline, 0.95).toFixed(0)} | (baseline) |`,
      `| without attack, after it | ${after.length} | ${pct(after, 0.5).toFixed(0)} | ${pct(after, 0.95).toFixed(0)} | ${(pct(after, 0.5) / pct(baseline, 0.5)).toFixed(2)}× |`,
      `| during the spray | ${underAttack.length} | ${pct(underAttack, 0.5).toFixed(0)} | ${pct(underAttack, 0.95).toFixed(0)} | ${ratio.toFixed(2)}× ${ratio <= 2 ? '(goal ≤ 2× met)' : '(goal ≤ 2× NOT met)'} |`,
      '',
      `Spray: ${ATTEMPTS.toLocaleString('en')} attempts in ${attackSeconds.toFixed(1)} s (${(ATTEMPTS / attackSeconds).toFixed(0)}/s); answers: ${counts(statuses)}; ` +
        `argon2 checks admitted to the attacker: ${checked} (${(checked / attackSeconds).toFixed(1)}/s).`,
      `Correct logins from never-seen addresses during the spray: ${counts(unknownProbe)}.`,
      '',
    ];
    console.log(rows.join('\n'));
  } finally {
    await collector.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The attacker process: ATTEMPTS wrong-password logins over 248 source addresses, 32 at a time; prints status counts. */
async function attackerMain(base: string, attempts: number): Promise<void> {
  const statuses: Record<number, number> = {};
  // One keep-alive agent per source address, as a botnet's members would each keep theirs.
  const agents = ATTACKER_ADDRESSES.map((localAddress) => new Agent({ keepAlive: true, maxSockets: 1, localAddress }));
  await pool(attempts, 32, async (i) => {
    const a = i % agents.length;
    const username = i % 2 === 0 ? `user${(i / 2) % USERS}` : `victim${i % 500}`;
    const res = await post(base, '/api/v1/login', { username, password: `guess-${i}` }, ATTACKER_ADDRESSES[a]!, undefined, agents[a]!);
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  });
  for (const agent of agents) agent.destroy();
  process.stdout.write(JSON.stringify(statuses));
}

(process.argv[2] === '--attacker' ? attackerMain(process.argv[3]!, Number(process.argv[4])) : main()).catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
