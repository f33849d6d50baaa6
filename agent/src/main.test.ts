import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { inCi, pcapsDir, repoRoot, requireTool } from '@pcapmesh/shared/util/testing';
import type { HealthMessage, PcapMessage, StateMessage } from '@pcapmesh/shared/wire';
import { TestBroker } from './mqtt/broker.fixture.js';

const BIN = join(repoRoot, 'agent/bin/pcapmesh-agent.js');
const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('PCAPMESH_AGENT_')));

function runBin(args: string[], env: NodeJS.ProcessEnv = {}) {
  return spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...cleanEnv(), ...env }, timeout: 60_000 });
}

test('a config file with a bad key: exit 2, naming every bad key', () => {
  const dir = mkdtempSync(join(tmpdir(), 'agent-cfg-'));
  const file = join(dir, 'agent.yaml');
  writeFileSync(file, 'name: alpha\nmqtt:\n  url: mqtt://127.0.0.1:1\n  passwrod: x\nintervals:\n  healthSeconds: soon\n');
  const r = runBin(['run', '--config', file]);
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /mqtt\.passwrod: unknown key/);
  assert.match(r.stderr, /intervals\.healthSeconds: /);
});

test('a bad sensor name from the environment is named with its variable; bad usage exits 2', () => {
  const r = runBin([], { PCAPMESH_AGENT_NAME: 'Bad/Name' });
  assert.equal(r.status, 2, r.stderr);
  assert.match(r.stderr, /name: invalid sensor name.*\(from PCAPMESH_AGENT_NAME\)/);
  const usage = runBin(['--frobnicate']);
  assert.equal(usage.status, 2);
  assert.match(usage.stderr, /unknown argument "--frobnicate"/);
});

test('the real agent process: ready line, birth, health and availability; SIGTERM stops it cleanly', async (t) => {
  const pcaps = pcapsDir();
  if (!existsSync(join(pcaps, 'derived/formats/DnsPackets.pcapng'))) {
    if (inCi()) assert.fail(`PCAP corpus missing at ${pcaps}`);
    t.skip(`PCAP corpus missing at ${pcaps}`);
    return;
  }
  const broker = new TestBroker({ username: 'alpha', password: '1234' });
  await broker.start();
  const dir = mkdtempSync(join(tmpdir(), 'agent-e2e-'));
  mkdirSync(join(dir, 'pcap'));
  copyFileSync(join(pcaps, 'derived/formats/DnsPackets.pcapng'), join(dir, 'pcap/dns.pcapng'));
  const child = spawn(process.execPath, [BIN, 'run'], {
    env: {
      ...cleanEnv(),
      PCAPMESH_AGENT_NAME: 'alpha',
      PCAPMESH_AGENT_LOCATION: 'lab',
      PCAPMESH_AGENT_MQTT__URL: broker.url,
      PCAPMESH_AGENT_MQTT__PASSWORD: '1234', // YAML reads a number: still a valid password
      PCAPMESH_AGENT_STATE_DIR: join(dir, 'state'),
      PCAPMESH_AGENT_CAPTURES: `[{name: local, directory: ${join(dir, 'pcap')}}]`,
      PCAPMESH_AGENT_INTERVALS__HEALTH_SECONDS: '1',
      PCAPMESH_AGENT_LOG__LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const events: Record<string, unknown>[] = [];
  createInterface({ input: child.stdout }).on('line', (l) => events.push(JSON.parse(l) as Record<string, unknown>));
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  try {
    await broker.until('ready line', () => events.some((e) => e.event === 'ready'), 90_000);
    await broker.until('health and availability', () => broker.of('health').length >= 2 && broker.of('pcap').length >= 1, 30_000);
  } finally {
    // Also on failure: a live agent or broker would keep this test file from ever ending.
    child.kill('SIGTERM');
    await exited;
    await broker.stop();
  }
  const code = await exited;
  assert.equal(code, 0, `${stderr}\n${JSON.stringify(events)}`);
  assert.deepEqual(
    events.map((e) => e.event),
    ['ready', 'stopped'],
  );
  assert.equal(events[0]!.sensor, 'alpha');
  const states = broker.of('state').map((s) => [s.message.status, s.message.reason ?? null]);
  assert.deepEqual(states, [
    ['online', null],
    ['offline', 'shutdown'],
  ]);
  const pcap = broker.of('pcap')[0]!.message as unknown as PcapMessage;
  assert.equal(pcap.sources[0]!.name, 'local');
  assert.equal(pcap.sources[0]!.files, 1);
  assert.equal(pcap.sources[0]!.oldest?.sec, 1413054930);
  const h = broker.of('health').at(-1)!.message as unknown as HealthMessage;
  assert.ok(h.cpu.cores >= 1);
  assert.deepEqual(
    h.disks.flatMap((d) => d.directories),
    [join(dir, 'pcap')],
  );
  assert.ok(h.interfaces.some((i) => i.name === 'lo'));
  assert.ok(!stderr.includes('1234'), 'the secret never reaches the logs');
});

test('the real agent process with a managed capture on lo: tcpdump runs, health and availability show it', async (t) => {
  if (!requireTool(t, 'tcpdump')) return;
  const broker = new TestBroker();
  await broker.start();
  const dir = mkdtempSync(join(tmpdir(), 'agent-lo-'));
  const child = spawn(process.execPath, [BIN], {
    env: {
      ...cleanEnv(),
      PCAPMESH_AGENT_NAME: 'beta',
      PCAPMESH_AGENT_MQTT__URL: broker.url,
      PCAPMESH_AGENT_STATE_DIR: join(dir, 'state'),
      PCAPMESH_AGENT_CAPTURES: `[{name: loop, interface: lo, directory: ${join(dir, 'lo')}, rotateSeconds: 2}]`,
      // tcpdump's -Z user (default pcapmesh, absent on a test machine); the drop itself is tested in capture/tcpdump.test.ts.
      PCAPMESH_AGENT_CAPTURE__USER: 'root',
      PCAPMESH_AGENT_INTERVALS__HEALTH_SECONDS: '1',
      PCAPMESH_AGENT_INTERVALS__SCAN_SECONDS: '1',
      PCAPMESH_AGENT_LOG__LEVEL: 'warn',
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const udp = createSocket('udp4');
  const traffic = setInterval(() => udp.send('pcapmesh agent e2e', 9, '127.0.0.1'), 50);
  const captureOf = (h: HealthMessage) => h.captures.find((c) => c.interface === 'lo');
  try {
    await broker.until('a health report with the capture', () => broker.of('health').some((h) => captureOf(h.message as unknown as HealthMessage)), 90_000);
    const first = captureOf(broker.of('health').at(-1)!.message as unknown as HealthMessage)!;
    if (first.error && /permission|not permitted/i.test(first.error)) {
      if (inCi()) assert.fail(`tcpdump is not permitted here: ${first.error}`);
      t.skip(`tcpdump is not permitted here (run as root or with CAP_NET_RAW): ${first.error}`);
      return;
    }
    await broker.until('packets counted', () => (captureOf(broker.of('health').at(-1)!.message as unknown as HealthMessage)?.packets ?? 0) > 10, 20_000);
    await broker.until(
      'availability of the ring',
      () => broker.of('pcap').some((p) => ((p.message as unknown as PcapMessage).sources[0]?.newest ?? null) !== null),
      20_000,
    );
  } finally {
    clearInterval(traffic);
    udp.close();
    child.kill('SIGTERM');
    await exited;
    await broker.stop();
  }
  assert.equal(await exited, 0, stderr);
  const birth = broker.of('state')[0]!.message as unknown as StateMessage;
  assert.deepEqual(birth.interfaces, [{ name: 'lo', managed: true, directory: join(dir, 'lo') }]);
  assert.ok(birth.capabilities?.includes('tcpdump'));
  const running = captureOf(broker.of('health').at(-1)!.message as unknown as HealthMessage)!;
  assert.equal(running.running, true);
  assert.ok(running.pid && running.pid > 0);
  const source = (broker.of('pcap').at(-1)!.message as unknown as PcapMessage).sources[0]!;
  assert.equal(source.name, 'lo');
  assert.ok(source.files >= 1 && Math.abs(source.newest!.sec - Date.now() / 1000) < 60, JSON.stringify(source));
  assert.ok(readdirSync(join(dir, 'lo')).every((f) => /^lo-\d{14}\.pcap$/.test(f)));
  assert.equal(spawnSync('pgrep', ['-f', join(dir, 'lo')]).status, 1, 'no tcpdump left running');
});
