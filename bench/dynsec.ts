/**
 * Broker-side accounts on Mosquitto's dynamic security plugin (#16 A): what keeping N sensor
 * accounts costs the broker, through the collector's own code (collector/src/broker/dynsec-*.ts).
 *
 *   node --conditions=pcapmesh-src --import tsx bench/dynsec.ts [sensors=2000] [reference=100]
 *
 * One throw-away Mosquitto 2.0 with the plugin, then:
 * 1. enrolment: `setSensorSecret` for each of N sensors one after another (role + client in one
 *    message, as an enrolment does) — latency p50/p99 over the first and last 10 %, since the
 *    plugin saves its whole JSON file after every command and the file grows with the fleet;
 * 2. the reference in the same run: `mosquitto_ctrl dynsec` (createRole, addRoleACL ×11,
 *    createClient, addClientRole — one process per command) for `reference` more sensors;
 * 3. a reconcile with nothing to change (a collector start) at N;
 * 4. a reconcile that must create all N (a new, empty broker), from a second Mosquitto.
 * Broker CPU is read from /proc/<pid>/stat around each phase; the load average is printed.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { pino } from 'pino';
import { findTool } from '@pcapmesh/shared/util/testing';
import { DynsecAccounts } from '../collector/src/broker/dynsec-accounts.js';
import { sensorAcls, sensorRole } from '../collector/src/broker/dynsec-acl.js';
import { openDynsecClient } from '../collector/src/broker/dynsec-client.js';
import { startTestMosquitto, type TestMosquitto } from '../collector/src/broker/dynsec.fixture.js';
import { machine } from './lib/measure.js';

const sensors = Number(process.argv[2] ?? 2000);
const reference = Number(process.argv[3] ?? 100);
const log = pino({ level: 'silent' });
const mosquitto = findTool('mosquitto');
const mosquittoCtrl = findTool('mosquitto_ctrl');
if (!mosquitto || !mosquittoCtrl) throw new Error('mosquitto and mosquitto_ctrl are needed (scripts/install-deps.sh)');
const tools = { mosquitto, mosquittoCtrl };

/** User + system CPU seconds of a process. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor((p / 100) * xs.length))] ?? 0;
const ms = (x: number) => x.toFixed(1);
const name = (i: number) => `bench-${String(i).padStart(6, '0')}`;

async function accountsOn(broker: TestMosquitto, id: string) {
  const client = await openDynsecClient({ url: broker.url, ...broker.admin, clientId: id, log, timeoutMs: 600_000 });
  return { client, accounts: new DynsecAccounts(client, log, broker.admin.username) };
}

console.log(
  `# dynsec bench: ${sensors} sensors, reference ${reference}\n\n${machine()}; load ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}\n`,
);
const broker = await startTestMosquitto(tools, { plugin: true });
const rows: string[] = [];
try {
  const { client, accounts } = await accountsOn(broker, 'bench-admin');
  // 1. enrolments one by one.
  const latencies: number[] = [];
  let cpu0 = cpuSeconds(broker.pid);
  let t0 = performance.now();
  for (let i = 0; i < sensors; i++) {
    const t = performance.now();
    await accounts.setSensorSecret(name(i), `secret-${i}-${'x'.repeat(32)}`);
    latencies.push(performance.now() - t);
  }
  const enrolWall = (performance.now() - t0) / 1000;
  const enrolCpu = cpuSeconds(broker.pid) - cpu0;
  const tenth = Math.max(1, Math.floor(sensors / 10));
  const [first, last] = [latencies.slice(0, tenth), latencies.slice(-tenth)];
  rows.push(
    `| enrol ${sensors} one by one (ours) | ${enrolWall.toFixed(1)} s | ${enrolCpu.toFixed(1)} s | first 10 %: p50 ${ms(pct(first, 50))} / p99 ${ms(pct(first, 99))} ms; last 10 %: p50 ${ms(pct(last, 50))} / p99 ${ms(pct(last, 99))} ms; file ${(statSync(broker.dynsecFile).size / 1e6).toFixed(1)} MB |`,
  );

  // 2. reference: mosquitto_ctrl, one process per command, on the same broker (file already at N).
  const port = new URL(broker.url).port;
  // Not execFileSync: the bench's own connection must keep answering keep-alives meanwhile.
  const exec = promisify(execFile);
  const ctrl = (...args: string[]) =>
    exec(mosquittoCtrl, ['-h', '127.0.0.1', '-p', port, '-u', broker.admin.username, '-P', broker.admin.password, 'dynsec', ...args]);
  cpu0 = cpuSeconds(broker.pid);
  t0 = performance.now();
  for (let i = sensors; i < sensors + reference; i++) {
    await ctrl('createRole', sensorRole(name(i)));
    for (const acl of sensorAcls(name(i))) await ctrl('addRoleACL', sensorRole(name(i)), acl.acltype, acl.topic, 'allow');
    await ctrl('createClient', name(i), '-p', `secret-${i}`, '-c', name(i));
    await ctrl('addClientRole', name(i), sensorRole(name(i)));
  }
  const refWall = (performance.now() - t0) / 1000;
  rows.push(
    `| enrol ${reference} more with mosquitto_ctrl (reference, ${sensorAcls('x').length + 3} commands each) | ${refWall.toFixed(1)} s | ${(cpuSeconds(broker.pid) - cpu0).toFixed(1)} s | ${ms((refWall * 1000) / Math.max(1, reference))} ms per sensor (ours at the end: p50 ${ms(pct(last, 50))} ms) |`,
  );

  // 3. reconcile with nothing to change.
  const desired = { sensors: Array.from({ length: sensors + reference }, (_, i) => ({ name: name(i), revoked: false })), integrations: [] };
  cpu0 = cpuSeconds(broker.pid);
  t0 = performance.now();
  const steady = await accounts.reconcile(async () => desired);
  rows.push(
    `| reconcile at ${sensors + reference} (a collector start; the reference accounts lack the marker) | ${((performance.now() - t0) / 1000).toFixed(2)} s | ${(cpuSeconds(broker.pid) - cpu0).toFixed(2)} s | created ${steady.created}, updated ${steady.updated}, deleted ${steady.deleted} |`,
  );
  await client.close();

  // 4. reconcile onto an empty broker.
  const empty = await startTestMosquitto(tools, { plugin: true });
  try {
    const fresh = await accountsOn(empty, 'bench-admin-2');
    cpu0 = cpuSeconds(empty.pid);
    t0 = performance.now();
    const full = await fresh.accounts.reconcile(async () => ({ sensors: desired.sensors.slice(0, sensors), integrations: [] }));
    rows.push(
      `| reconcile ${sensors} onto an empty broker | ${((performance.now() - t0) / 1000).toFixed(1)} s | ${(cpuSeconds(empty.pid) - cpu0).toFixed(1)} s | created ${full.created} (without password) |`,
    );
    await fresh.client.close();
  } finally {
    await empty.stop();
  }
} finally {
  await broker.stop();
}
console.log('| phase | wall | Mosquitto CPU | detail |\n|---|---|---|---|');
for (const row of rows) console.log(row);
console.log(
  `\nload after: ${loadavg()
    .map((l) => l.toFixed(1))
    .join(' ')}`,
);
