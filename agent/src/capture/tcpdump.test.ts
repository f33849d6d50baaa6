import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { inCi, requireTool } from '@pcapmesh/shared/util/testing';
import { AvailabilityScanner } from '../pcap/availability.js';
import { createLogger } from '../log.js';
import { parseStats, TcpdumpCapture } from './tcpdump.js';

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
  const dir = mkdtempSync(join(tmpdir(), 'capture-'));
  const capture = new TcpdumpCapture({ interface: 'lo', directory: dir, snaplen: 0, rotateSeconds: 1, tcpdumpPath: tcpdump, logger, statsIntervalMs: 200 });
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
