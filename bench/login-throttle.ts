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
import { Agent } from 'node:http';
import { machine } from './lib/measure.js';
import { counts, latencyRows, legitLogins, pool, post, runBench, startAttacker, withLoginCollector } from './lib/login.js';

const ATTEMPTS = Number(process.argv[2] ?? 10_000);
const LEGIT = Number(process.argv[3] ?? 40);
const ATTACKER_ADDRESS = '127.0.0.3';

async function main(): Promise<void> {
  await withLoginCollector({}, async (base) => {
    await legitLogins(base, LEGIT); // warm-up
    const baseline = await legitLogins(base, LEGIT);
    const attack = startAttacker(base, ATTEMPTS);
    const underAttack: number[] = [];
    while (!attack.done()) underAttack.push(...(await legitLogins(base, LEGIT)));
    const { statuses, seconds } = await attack.finished;
    const after = await legitLogins(base, LEGIT);
    console.log(
      [
        `### Correct logins while ${ATTEMPTS.toLocaleString('en')} wrong-password attempts run`,
        '',
        `Machine: ${machine()}`,
        '',
        '| correct logins | n | median ms | p95 ms | slower than without attack (median) |',
        '|---|---:|---:|---:|---:|',
        ...latencyRows(baseline, after, underAttack, 'during the attack'),
        '',
        `Attack: ${ATTEMPTS.toLocaleString('en')} attempts in ${seconds.toFixed(1)} s (${(ATTEMPTS / seconds).toFixed(0)}/s); answers: ${counts(statuses)}`,
        '',
      ].join('\n'),
    );
  });
}

/** The attacker process: ATTEMPTS wrong-password logins from one address, 32 at a time; prints status counts. */
async function attackerMain(base: string, attempts: number): Promise<void> {
  const statuses: Record<number, number> = {};
  // Keep-alive connections, as a scripted attacker would use.
  const agent = new Agent({ keepAlive: true, maxSockets: 32, localAddress: ATTACKER_ADDRESS });
  await pool(attempts, 32, async (i) => {
    const res = await post(base, '/api/v1/login', { username: `victim${i % 500}`, password: `guess-${i}` }, ATTACKER_ADDRESS, undefined, agent);
    statuses[res.status] = (statuses[res.status] ?? 0) + 1;
  });
  agent.destroy();
  process.stdout.write(JSON.stringify(statuses));
}

runBench(main, attackerMain);
