import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { mkdirSync, mkdtempSync, statfsSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { healthSchema } from '@pcapmesh/shared/wire';
import { HealthCollector } from './collect.js';
import { disksOf, localDisks, mountOf, parseMounts, realDirectory } from './disks.js';

test('a directory belongs to the longest mount prefix, segment by segment', () => {
  const mounts = [{ mount: '/' }, { mount: '/data' }, { mount: '/data/pcap' }, { mount: '/datastore' }];
  assert.equal(mountOf('/data/pcap/eth0', mounts)?.mount, '/data/pcap');
  assert.equal(mountOf('/data/other', mounts)?.mount, '/data');
  assert.equal(mountOf('/datastore2/x', mounts)?.mount, '/');
  assert.equal(mountOf('/data', mounts)?.mount, '/data');
});

test('symlinks are resolved and missing directories use their nearest existing ancestor', () => {
  const base = mkdtempSync(join(tmpdir(), 'disks-'));
  symlinkSync('/proc', join(base, 'link'));
  assert.equal(realDirectory(join(base, 'link')), '/proc');
  assert.equal(realDirectory(join(base, 'not', 'yet')), realDirectory(base));
  const disks = disksOf(
    [join(base, 'link'), base],
    [
      { mount: '/', fs: 'root', size: 10, used: 5, available: 5 },
      { mount: '/proc', fs: 'proc', size: 0, used: 0, available: 0 },
    ],
  );
  assert.deepEqual(disks.map((d) => [d.fs, d.directories]).sort(), [
    ['proc', [join(base, 'link')]],
    ['root', [base]],
  ]);
});

test('the mount table is read whole (tmpfs too) and sizes come from statfs of the directory', () => {
  assert.deepEqual(parseMounts('/dev/vda1 / ext4 rw 0 0\ntmpfs /run/pcap\\040ring tmpfs rw 0 0\n'), [
    { mount: '/', fs: '/dev/vda1' },
    { mount: '/run/pcap ring', fs: 'tmpfs' },
  ]);
  // A table where a temporary directory is a mount of its own (as a tmpfs ring would be).
  const base = realDirectory(mkdtempSync(join(tmpdir(), 'ring-')));
  mkdirSync(join(base, 'eth0'));
  const table = `/dev/vda1 / ext4 rw 0 0\ntmpfs ${base} tmpfs rw 0 0\nold ${base} ext4 rw 0 0\nringfs ${base} tmpfs rw 0 0\n`;
  const disks = localDisks([join(base, 'eth0'), join(base, 'not-yet')], table);
  assert.equal(disks.length, 1);
  assert.equal(disks[0]!.mount, base);
  assert.equal(disks[0]!.fs, 'ringfs', 'the last mount on a path is the visible one');
  assert.deepEqual(disks[0]!.directories, [join(base, 'eth0'), join(base, 'not-yet')]);
  const s = statfsSync(base);
  assert.equal(disks[0]!.size, s.blocks * s.bsize);
  assert.ok(disks[0]!.available <= disks[0]!.size && disks[0]!.used <= disks[0]!.size);
});

test('a real health report of this machine passes the wire schema', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'health-'));
  const collector = new HealthCollector({
    directories: [dir],
    captures: () => [{ interface: 'lo', running: false, packets: 0, drops: 0, error: 'not started' }],
    clockOffsetMs: () => 12,
    spoolDropped: () => 3,
  });
  await collector.prime();
  // Loopback traffic of our own, so its counters cannot be zero even on a fresh CI machine.
  const udp = createSocket('udp4');
  await new Promise<void>((resolve) => udp.send('pcapmesh health test', 9, '127.0.0.1', () => resolve()));
  udp.close();
  await new Promise((r) => setTimeout(r, 200));
  const body = await collector.collect();
  const parsed = healthSchema.safeParse({ ...body, v: 1, sentAt: Date.now(), seq: 0 });
  assert.ok(parsed.success, parsed.error?.message);
  assert.ok(body.cpu.cores >= 1);
  assert.ok(body.memory.total > 0 && body.memory.available <= body.memory.total);
  assert.equal(body.disks.length, 1);
  assert.deepEqual(body.disks[0]!.directories, [dir]);
  assert.ok(body.disks[0]!.size > 0);
  const lo = body.interfaces.find((i) => i.name === 'lo');
  assert.ok(lo && lo.rxPackets > 0 && lo.rxBytes > 0, 'loopback counters are read');
  assert.equal(body.clockOffsetMs, 12);
  assert.equal(body.spoolDropped, 3);
});
