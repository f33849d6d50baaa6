/**
 * The Debian packages on a fresh Debian 12 (issue #15): `scripts/build-deb.sh` builds both packages
 * from this checkout's build (in two versions), a debootstrap root (cached as a tarball) boots with systemd-nspawn,
 * apt installs them, their units start under the container's systemd, an agent is enrolled and its
 * sensor shows online with availability through the collector's API; then a next version is built
 * and installed over it (data kept, services restarted) and both are purged (configuration gone,
 * data kept and its place printed).
 *
 * Needs root, debootstrap, systemd-nspawn, nsenter, dpkg-deb (scripts/install-deps.sh); with
 * CI=true anything missing fails the test. Cold (no root tarball): + debootstrap, ~2-4 min.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { freePort, inCi, repoRoot, requireTool } from '@pcapmesh/shared/util/testing';
import { eventually } from '../integration/harness/wait.js';
import { Container, ensureRootTarball, ok, ROOT_CACHE, runHost } from './container.js';

const VERSION = (JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as { version: string }).version;
const NEXT = `${VERSION}+pkgtest2`;
const SENSOR = 'pkg-sensor';

/** One 60-byte Ethernet frame in a classic microsecond pcap, written at `sec`. */
function tinyPcap(sec: number): Buffer {
  const header = Buffer.alloc(24);
  header.writeUInt32LE(0xa1b2c3d4, 0);
  header.writeUInt16LE(2, 4);
  header.writeUInt16LE(4, 6);
  header.writeUInt32LE(65535, 16);
  header.writeUInt32LE(1, 20);
  const record = Buffer.alloc(16);
  record.writeUInt32LE(sec, 0);
  record.writeUInt32LE(250_000, 4);
  record.writeUInt32LE(60, 8);
  record.writeUInt32LE(60, 12);
  return Buffer.concat([header, record, Buffer.alloc(60, 0xab)]);
}

async function api<T>(base: string, token: string, path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const res = await fetch(`${base}/api/v1${path}`, {
    method: init.method ?? 'GET',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path} → ${res.status}: ${text.slice(0, 300)}`);
  return JSON.parse(text) as T;
}

/** `p`, or its failure with the units' last journal lines appended (what CI needs to see why). */
async function withJournal<T>(c: Container, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (err) {
    const journal = await c.exec(['journalctl', '--no-pager', '-n', '60', '-u', 'pcapmesh-collector', '-u', 'pcapmesh-agent']);
    throw new Error(`${(err as Error).message}\njournal of the units:\n${journal.stdout}`, { cause: err });
  }
}

/** `systemctl show -p PROPS UNIT` as sorted lines (systemctl prints them in its own order). */
async function show(c: Container, unit: string, props: string): Promise<string[]> {
  return (await c.must(['systemctl', 'show', '-p', props, unit])).trim().split('\n').sort();
}

interface SensorView {
  status: string;
  pcap: { sources: { name: string; files: number; oldest: string | null }[] };
}

test('the .debs install, run under systemd, upgrade and purge on a fresh Debian 12', { timeout: 1_800_000 }, async (t) => {
  for (const tool of ['debootstrap', 'systemd-nspawn', 'nsenter', 'dpkg-deb']) if (!requireTool(t, tool)) return;
  if (process.getuid?.() !== 0) {
    if (inCi()) throw new Error('the packaging test needs root (debootstrap, systemd-nspawn); CI=true requires it');
    t.skip('needs root (debootstrap, systemd-nspawn)');
    return;
  }
  const started = Date.now();
  const phase = (what: string) => process.stdout.write(`# packaging: ${what} at ${((Date.now() - started) / 1000).toFixed(0)} s\n`);
  const work = mkdtempSync(join('/var/tmp', 'pcapmesh-deb-'));
  const booted: { container?: Container } = {};
  t.after(async () => {
    await booted.container?.destroy();
    rmSync(work, { recursive: true, force: true });
  });

  // 1. Both packages, this version and the next, from this checkout's build (npm test built it).
  const debs = join(work, 'debs');
  // Production node_modules cached beside the root tarball: a warm run skips npm ci.
  const env = { ...process.env, PCAPMESH_DEB_DEPS_CACHE: join(ROOT_CACHE, '..', 'deps') };
  // The next version is the same staged files under a higher version number (build-deb packs both at once).
  const built = ok(
    await runHost(join(repoRoot, 'scripts/build-deb.sh'), ['--worktree', '--fast', '--out', debs, '--version', VERSION, '--version', NEXT], {
      env,
      timeoutMs: 900_000,
    }),
    'build-deb',
  );
  assert.match(built.stdout, /libraries: libc6 \(>= 2\.\d+\), libgcc-s1, libstdc\+\+6/, 'the runtime needs only Debian 12 base libraries');
  const deb = (name: string, version: string) => join(debs, `${name}_${version}_amd64.deb`);
  for (const name of ['pcapmesh-collector', 'pcapmesh-agent']) {
    const size = statSync(deb(name, VERSION)).size;
    process.stdout.write(`# packaging: ${name} ${(size / 1048576).toFixed(1)} MiB (zstd -3; xz in npm run package)\n`);
  }
  phase('packages built');

  // 2. A fresh Debian 12, booted.
  const debootstrapMs = await ensureRootTarball();
  if (debootstrapMs > 0) process.stdout.write(`# packaging: debootstrap made ${ROOT_CACHE} in ${(debootstrapMs / 1000).toFixed(0)} s\n`);
  const c = await Container.unpack(work);
  booted.container = c;
  mkdirSync(c.path('/root/debs'));
  for (const v of [VERSION, NEXT])
    for (const name of ['pcapmesh-collector', 'pcapmesh-agent']) copyFileSync(deb(name, v), c.path(`/root/debs/${name}_${v}_amd64.deb`));
  await c.boot(`pcapmesh-pkg-${randomBytes(3).toString('hex')}`);
  assert.match(await c.must(['cat', '/etc/debian_version']), /^12\./);
  assert.equal((await c.exec(['sh', '-c', 'command -v node'])).stdout.trim(), '', 'no system node: the packages bring their own');
  phase('container booted');

  // 3. Installed with apt: user, directories, modes, commands on PATH, units that verify.
  const apt = (args: string[]) =>
    c.must(['apt-get', '-y', '--no-install-recommends', '-o', 'Dpkg::Options::=--force-confold', ...args], { timeoutMs: 300_000 });
  await apt(['install', `/root/debs/pcapmesh-collector_${VERSION}_amd64.deb`, `/root/debs/pcapmesh-agent_${VERSION}_amd64.deb`]);
  assert.match(await c.must(['id', 'pcapmesh']), /uid=\d+\(pcapmesh\) gid=\d+\(pcapmesh\)/);
  const modes = await c.must([
    'stat',
    '-c',
    '%n %a %U:%G',
    '/etc/pcapmesh',
    '/etc/pcapmesh/collector.yaml',
    '/etc/pcapmesh/collector.env',
    '/etc/pcapmesh/agent.yaml',
    '/etc/pcapmesh/agent.env',
    '/var/lib/pcapmesh',
    '/var/lib/pcapmesh/agent',
  ]);
  assert.equal(
    modes.trim(),
    [
      '/etc/pcapmesh 750 root:pcapmesh',
      '/etc/pcapmesh/collector.yaml 640 root:pcapmesh',
      '/etc/pcapmesh/collector.env 600 root:root',
      '/etc/pcapmesh/agent.yaml 600 pcapmesh:pcapmesh',
      '/etc/pcapmesh/agent.env 600 root:root',
      '/var/lib/pcapmesh 750 pcapmesh:pcapmesh',
      '/var/lib/pcapmesh/agent 750 pcapmesh:pcapmesh',
    ].join('\n'),
  );
  assert.match(await c.must(['pcapmesh', '--help']), /pcapmesh db backup FILE/);
  assert.match(await c.must(['pcapmesh-agent', '--version']), new RegExp(`^${VERSION.replace(/\./g, '\\.')}`));
  const verify = await c.exec(['systemd-analyze', 'verify', 'pcapmesh-collector.service', 'pcapmesh-agent.service']);
  assert.equal(verify.code, 0, `systemd-analyze verify:\n${verify.stdout}${verify.stderr}`);
  assert.deepEqual(
    `${verify.stdout}${verify.stderr}`.split('\n').filter((l) => /pcapmesh/.test(l)),
    [],
    'systemd-analyze verify has no complaint about the units',
  );
  phase('installed');

  // 4. The collector as its unit runs it, on ports of this test (the container shares the host's network).
  const [httpPort, mqttPort] = [await freePort(), await freePort()];
  const token = `pmtest_${randomBytes(24).toString('hex')}`;
  writeFileSync(c.path('/etc/pcapmesh/collector.env'), `PCAPMESH_HTTP__PORT=${httpPort}\nPCAPMESH_MQTT__PORT=${mqttPort}\nPCAPMESH_HTTP__API_TOKEN=${token}\n`);
  await c.must(['systemctl', 'enable', '--now', 'pcapmesh-collector']);
  const base = `http://127.0.0.1:${httpPort}`;
  await withJournal(
    c,
    eventually(() => api(base, token, '/health/summary'), { what: 'the packaged collector answering', timeoutMs: 180_000, intervalMs: 500 }),
  );
  assert.deepEqual(await show(c, 'pcapmesh-collector', 'User,NoNewPrivileges,ProtectSystem,PrivateTmp,CapabilityBoundingSet'), [
    'CapabilityBoundingSet=',
    'NoNewPrivileges=yes',
    'PrivateTmp=yes',
    'ProtectSystem=strict',
    'User=pcapmesh',
  ]);
  phase('collector up');

  // 5. The agent: configured, enrolled as root (its config stays the service user's), started.
  const { enrolment } = await api<{ enrolment: { token: string } }>(base, token, '/admin/sensors', { method: 'POST', body: { name: SENSOR } });
  mkdirSync(c.path('/var/lib/pcapmesh/agent/watch'));
  writeFileSync(c.path('/var/lib/pcapmesh/agent/watch/one.pcap'), tinyPcap(1_760_000_000));
  await c.must(['chown', '-R', 'pcapmesh:pcapmesh', '/var/lib/pcapmesh/agent/watch']);
  writeFileSync(
    c.path('/etc/pcapmesh/agent.yaml'),
    [
      '# written by the packaging test',
      'name: placeholder',
      'mqtt:',
      `  url: mqtt://127.0.0.1:${mqttPort}`,
      'stateDir: /var/lib/pcapmesh/agent',
      'captures:',
      '  - name: watch',
      '    directory: /var/lib/pcapmesh/agent/watch',
      'intervals:',
      '  healthSeconds: 2',
      '',
    ].join('\n'),
  );
  const enrolled = await c.must(['pcapmesh-agent', 'enroll', '--collector', base, '--token', enrolment.token]);
  assert.match(enrolled, new RegExp(`"sensor":"${SENSOR}"`));
  assert.equal(
    (await c.must(['stat', '-c', '%a %U:%G', '/etc/pcapmesh/agent.yaml'])).trim(),
    '600 pcapmesh:pcapmesh',
    'enrolment as root keeps the config readable by the service only',
  );
  await c.must(['systemctl', 'enable', '--now', 'pcapmesh-agent']);
  const online = (what: string) =>
    withJournal(
      c,
      eventually(
        async () => {
          const s = await api<SensorView>(base, token, `/sensors/${SENSOR}`);
          return s.status === 'online' && s.pcap.sources.some((src) => src.name === 'watch' && src.files === 1) ? s : undefined;
        },
        { what, timeoutMs: 180_000, intervalMs: 500 },
      ),
    );
  const first = await online('the enrolled sensor online with the watched capture in its availability');
  assert.equal(first.pcap.sources.find((s) => s.name === 'watch')?.oldest?.slice(0, 19), '2025-10-09T08:53:20');
  assert.deepEqual(await show(c, 'pcapmesh-agent', 'User,NoNewPrivileges,AmbientCapabilities,CapabilityBoundingSet'), [
    'AmbientCapabilities=cap_net_admin cap_net_raw',
    'CapabilityBoundingSet=cap_net_admin cap_net_raw',
    'NoNewPrivileges=yes',
    'User=pcapmesh',
  ]);
  phase('agent online');

  // 6. Upgrade in place: the new version runs, the services were restarted, the data is still there.
  const pidBefore = (await c.must(['systemctl', 'show', '-p', 'MainPID', '--value', 'pcapmesh-collector'])).trim();
  await apt(['install', `/root/debs/pcapmesh-collector_${NEXT}_amd64.deb`, `/root/debs/pcapmesh-agent_${NEXT}_amd64.deb`]);
  assert.equal((await c.must(['dpkg-query', '-W', '-f', '${Version} ', 'pcapmesh-collector', 'pcapmesh-agent'])).trim(), `${NEXT} ${NEXT}`);
  const pidAfter = (await c.must(['systemctl', 'show', '-p', 'MainPID', '--value', 'pcapmesh-collector'])).trim();
  assert.notEqual(pidAfter, pidBefore, 'the upgrade restarted the collector');
  assert.match(readFileSync(c.path('/etc/pcapmesh/agent.yaml'), 'utf8'), /password: /, 'the enrolled config survives the upgrade');
  await withJournal(
    c,
    eventually(() => api(base, token, '/health/summary'), { what: 'the upgraded collector answering', timeoutMs: 180_000, intervalMs: 500 }),
  );
  await online('the sensor online again after the upgrade, its registration and availability kept');
  phase('upgraded');

  // 7. Purge: services gone, configuration removed, data kept and its place printed.
  const purged = await apt(['purge', 'pcapmesh-agent', 'pcapmesh-collector']);
  assert.match(purged, /stay in \/var\/lib\/pcapmesh \(delete by hand/);
  assert.match(purged, /captured data\s+and the spool stay in \/var\/lib\/pcapmesh\/agent and in: .*\/var\/lib\/pcapmesh\/agent\/watch/);
  assert.equal((await c.exec(['test', '-e', '/etc/pcapmesh'])).code, 1, '/etc/pcapmesh is removed');
  assert.equal((await c.exec(['test', '-e', '/usr/bin/pcapmesh'])).code, 1);
  assert.equal((await c.exec(['test', '-e', '/var/lib/pcapmesh/db/PG_VERSION'])).code, 0, 'the database stays');
  assert.equal((await c.exec(['test', '-e', '/var/lib/pcapmesh/agent/watch/one.pcap'])).code, 0, 'captures stay');
  await assert.rejects(fetch(`${base}/api/v1/health/summary`, { signal: AbortSignal.timeout(5_000) }), 'the collector was stopped');
  phase('purged');
});
