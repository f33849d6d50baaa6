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
import { Agent } from 'node:http';
import { machine } from './lib/measure.js';
import { PASSWORD, USERS, counts, latencyRows, legitLogins, pool, post, runBench, startAttacker, withLoginCollector } from './lib/login.js';

const ATTEMPTS = Number(process.argv[2] ?? 10_000);
const LEGIT = Number(process.argv[3] ?? 40);
const BUDGET = (process.argv[4] ?? 'on') === 'on';
const ATTACKER_ADDRESSES = Array.from({ length: 248 }, (_, i) => `127.0.0.${i + 3}`);

async function main(): Promise<void> {
  await withLoginCollector(BUDGET ? {} : { globalFailuresPerMinute: 1_000_000 }, async (base) => {
    await legitLogins(base, LEGIT); // warm-up; makes 127.0.0.2 known for every user
    const baseline = await legitLogins(base, LEGIT);
    const attack = startAttacker(base, ATTEMPTS);
    const underAttack: number[] = [];
    const unknownProbe: Record<number, number> = {};
    for (let round = 0; !attack.done(); round++) {
      underAttack.push(...(await legitLogins(base, LEGIT)));
      const probe = await post(base, '/api/v1/login', { username: `user${round % USERS}`, password: PASSWORD, client: 'api' }, `127.0.1.${(round % 250) + 1}`);
      unknownProbe[probe.status] = (unknownProbe[probe.status] ?? 0) + 1;
    }
    const { statuses, seconds } = await attack.finished;
    const after = await legitLogins(base, LEGIT);
    const checked = statuses['401'] ?? 0; // a 401 is answered only after a password check
    console.log(
      [
        `### Correct logins from a known address while ${ATTEMPTS.toLocaleString('en')} wrong passwords arrive from ${ATTACKER_ADDRESSES.length} addresses (global budget ${BUDGET ? 'on' : 'off'})`,
        '',
        `Machine: ${machine()}`,
        '',
        '| correct logins (known address) | n | median ms | p95 ms | slower than without attack (median) |',
        '|---|---:|---:|---:|---:|',
        ...latencyRows(baseline, after, underAttack, 'during the spray'),
        '',
        `Spray: ${ATTEMPTS.toLocaleString('en')} attempts in ${seconds.toFixed(1)} s (${(ATTEMPTS / seconds).toFixed(0)}/s); answers: ${counts(statuses)}; ` +
          `argon2 checks admitted to the attacker: ${checked} (${(checked / seconds).toFixed(1)}/s).`,
        `Correct logins from never-seen addresses during the spray: ${counts(unknownProbe)}.`,
        '',
      ].join('\n'),
    );
  });
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

runBench(main, attackerMain);
