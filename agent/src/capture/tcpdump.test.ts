import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inCi, requireTool } from '@pcapmesh/shared/util/testing';
import { AvailabilityScanner } from '../pcap/availability.js';
import { createLogger } from '../log.js';
import { ConfigError } from '@pcapmesh/shared/util/config';
import { resolveCaptureUser } from './capture-user.js';
import { parseStats, TcpdumpCapture, tcpdumpArgs } from './tcpdump.js';

const logger = createLogger('silent');

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(50);
  }
}

test('tcpdump statistics lines are parsed (SIGUSR1 form and exit form)', () => {
  assert.deepEqual(parseStats('tcpdump: 2 packets captured, 20 packets received by filter, 3 packets dropped by kernel'), { captured: 2, dropped: 3 });
  assert.deepEqual(parseStats('10 packets captured'), { captured: 10 });
  assert.deepEqual(parseStats('1 packet dropped by kernel'), { dropped: 1 });
  assert.deepEqual(parseStats('tcpdump: listening on lo'), {});
});

test('tcpdump on lo writes a rotating nanosecond ring that the availability scan reads', async (t) => {
  const tcpdump = requireTool(t, 'tcpdump');
  if (!tcpdump) return;
  const parent = mkdtempSync(join(tmpdir(), 'capture-'));
  chmodSync(parent, 0o755); // the capture user must reach the directory
  const dir = join(parent, 'ring');
  // As root, tcpdump drops to an unprivileged user (-Z) and the agent hands it the directory.
  const asRoot = process.getuid?.() === 0;
  const user = resolveCaptureUser(asRoot ? 'nobody' : 'root');
  const capture = new TcpdumpCapture({
    interface: 'lo',
    directory: dir,
    snaplen: 0,
    rotateSeconds: 1,
    tcpdumpPath: tcpdump,
    user,
    logger,
    statsIntervalMs: 200,
  });
  capture.start();
  try {
    await until('tcpdump to open its first file or fail', () => readdirSync(dir).length > 0 || capture.state().error !== undefined);
    const error = capture.state().error;
    if (error) {
      const message = `tcpdump cannot capture on lo here (${error}); run as root or with CAP_NET_RAW`;
      if (inCi()) assert.fail(message);
      t.skip(message);
      return;
    }
    const udp = createSocket('udp4');
    const sent = 40;
    for (let i = 0; i < sent; i++) {
      udp.send(`pcapmesh capture test ${i}`, 9, '127.0.0.1');
      await sleep(60); // 2.4 s of traffic: the 1 s ring rotates at least once
    }
    udp.close();
    await until('packet counters from SIGUSR1', () => (capture.state().packets ?? 0) >= sent);
    assert.equal(capture.state().running, true);
  } finally {
    await capture.stop();
  }
  const state = capture.state();
  assert.equal(state.running, false);
  assert.ok((state.packets ?? 0) >= 40, `packets ${state.packets}`);
  const files = readdirSync(dir).sort();
  assert.ok(files.length >= 2, `rotated files: ${files.join(', ')}`);
  for (const f of files) assert.match(f, /^lo-\d{14}\.pcap$/);
  if (asRoot) assert.equal(statSync(join(dir, files[0]!)).uid, user.uid, 'files written after dropping to the capture user');
  const magic = readFileSync(join(dir, files[0]!)).readUInt32LE(0);
  assert.equal(magic.toString(16), 'a1b23c4d', 'nanosecond pcap');
  const [source] = new AvailabilityScanner([{ name: 'lo', directory: dir, gapSeconds: 120, activeSeconds: 0 }]).scan();
  assert.equal(source!.files, files.length);
  assert.deepEqual(source!.problems, []);
  const now = Date.now() / 1000;
  assert.ok(source!.newest && Math.abs(source!.newest.sec - now) < 60, 'packet times are current');
});

test('a tcpdump that cannot start is reported in health and retried with backoff', async (t) => {
  const tcpdump = requireTool(t, 'tcpdump');
  if (!tcpdump) return;
  const capture = new TcpdumpCapture({
    interface: 'nosuchif0',
    directory: mkdtempSync(join(tmpdir(), 'capture-')),
    snaplen: 0,
    rotateSeconds: 60,
    tcpdumpPath: tcpdump,
    user: 'root',
    logger,
  });
  capture.start();
  try {
    await until('the first exit', () => capture.state().error !== undefined);
    assert.match(capture.state().error!, /nosuchif0/);
    assert.equal(capture.state().running, false);
    await until('a restart after ~1 s', () => capture.counters.starts >= 2, 15_000);
  } finally {
    await capture.stop();
  }
});

test('tcpdump gets a minimal environment (no MQTT secret) and -Z with the capture user', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'capture-env-'));
  // A stand-in tcpdump that records its environment and arguments, then exits.
  const fake = join(dir, 'fake-tcpdump');
  writeFileSync(fake, `#!/bin/sh\nenv > ${join(dir, 'env.txt')}\necho "$@" > ${join(dir, 'args.txt')}\nexit 1\n`, { mode: 0o755 });
  process.env.PCAPMESH_AGENT_MQTT__PASSWORD = 'secret-that-must-not-leak';
  process.env.SOME_OTHER_VARIABLE = 'also-private';
  const capture = new TcpdumpCapture({
    interface: 'lo',
    directory: join(dir, 'ring'),
    snaplen: 0,
    rotateSeconds: 60,
    tcpdumpPath: fake,
    user: 'pcapcap',
    logger,
  });
  capture.start();
  try {
    await until('the stand-in to run', () => capture.counters.exits >= 1);
  } finally {
    await capture.stop();
    delete process.env.PCAPMESH_AGENT_MQTT__PASSWORD;
    delete process.env.SOME_OTHER_VARIABLE;
  }
  const env = readFileSync(join(dir, 'env.txt'), 'utf8');
  assert.doesNotMatch(env, /secret-that-must-not-leak|PCAPMESH|also-private/);
  assert.match(env, /^TZ=UTC$/m);
  const names = env
    .trim()
    .split('\n')
    .map((l) => l.split('=')[0])
    .filter((n) => n !== 'PWD' && n !== 'SHLVL' && n !== '_'); // set by the shell itself
  assert.deepEqual(names.sort(), ['LANG', 'PATH', 'TZ']);
  assert.match(readFileSync(join(dir, 'args.txt'), 'utf8'), /-Z pcapcap /);
  assert.deepEqual(tcpdumpArgs({ interface: 'eth0', directory: '/d', snaplen: 0, rotateSeconds: 60, user: 'pcapmesh' }).slice(-3, -1), ['-Z', 'pcapmesh']);
});

test('a capture user that does not exist is a configuration error naming capture.user', () => {
  assert.throws(
    () => resolveCaptureUser('no-such-user-pcapmesh'),
    (err: unknown) => err instanceof ConfigError && /capture\.user: no such user "no-such-user-pcapmesh"/.test(err.message),
  );
  assert.equal(resolveCaptureUser('root').uid, 0);
});
