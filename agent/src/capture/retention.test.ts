import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePercent, RingRetention, sweep } from './retention.js';

function ring(): string {
  const dir = mkdtempSync(join(tmpdir(), 'ring-'));
  for (let i = 0; i < 5; i++) writeFileSync(join(dir, `eth0-2026010100${String(i).padStart(2, '0')}00.pcap`), Buffer.alloc(1000));
  writeFileSync(join(dir, 'eth1-20260101000000.pcap'), Buffer.alloc(5000)); // another interface's ring
  writeFileSync(join(dir, 'evidence.pcap'), Buffer.alloc(5000)); // someone else's file
  return dir;
}

test('oldest ring files go until the directory fits maxBytes; foreign files stay', () => {
  const dir = ring();
  const r = sweep({ directory: dir, interface: 'eth0', maxBytes: 2500, minFreePercent: 0 });
  assert.deepEqual(
    r.deleted.map((p) => p.slice(dir.length + 1)),
    ['eth0-20260101000000.pcap', 'eth0-20260101000100.pcap', 'eth0-20260101000200.pcap'],
  );
  assert.equal(r.keptBytes, 2000);
  assert.ok(existsSync(join(dir, 'evidence.pcap')) && existsSync(join(dir, 'eth1-20260101000000.pcap')));
});

test('low free space deletes down to the newest file, never the newest', () => {
  const dir = ring();
  const r = sweep({ directory: dir, interface: 'eth0', maxBytes: 0, minFreePercent: 10 }, () => 5);
  assert.equal(r.deleted.length, 4);
  assert.deepEqual(readdirSync(dir).sort(), ['eth0-20260101000400.pcap', 'eth1-20260101000000.pcap', 'evidence.pcap']);
});

test('within limits nothing is deleted; free space is read from the real filesystem', () => {
  const dir = ring();
  const free = freePercent(dir);
  assert.ok(free > 0 && free <= 100, `free ${free}%`);
  assert.equal(sweep({ directory: dir, interface: 'eth0', maxBytes: 10_000, minFreePercent: 0 }).deleted.length, 0);
});

test('a deleted ring file takes its sidecar index with it; sidecars count towards maxBytes; other sidecars stay', () => {
  const dir = ring();
  for (const name of ['eth0-20260101000000.pcap', 'eth0-20260101000100.pcap', 'eth0-20260101000400.pcap', 'evidence.pcap']) {
    writeFileSync(join(dir, `${name}.pmidx`), Buffer.alloc(100));
  }
  // 5 × 1000 capture bytes + 3 × 100 sidecar bytes of the ring: 5300; one deletion leaves 4200, two 3100.
  const r = sweep({ directory: dir, interface: 'eth0', maxBytes: 4100, minFreePercent: 0 });
  assert.deepEqual(
    r.deleted.map((p) => p.slice(dir.length + 1)),
    ['eth0-20260101000000.pcap', 'eth0-20260101000100.pcap'],
  );
  assert.equal(r.deletedBytes, 2200);
  assert.equal(r.keptBytes, 3100);
  assert.deepEqual(
    readdirSync(dir)
      .filter((n) => n.endsWith('.pmidx'))
      .sort(),
    ['eth0-20260101000400.pcap.pmidx', 'evidence.pcap.pmidx'],
  );
});

test('RingRetention: a full sweep at the first tick and every period; in between only a ring under its free-space floor is swept', () => {
  const full = ring();
  const low = ring();
  let freeOfLow = 50;
  const retention = new RingRetention(
    [
      { directory: full, interface: 'eth0', maxBytes: 2500, minFreePercent: 10 },
      { directory: low, interface: 'eth0', maxBytes: 0, minFreePercent: 10 },
    ],
    10_000,
    (dir) => (dir === low ? freeOfLow : 90),
  );
  // First tick: full sweep of both; only the maxBytes ring is over a limit.
  assert.deepEqual(
    retention.tick(1_000).map((s) => [s.policy.directory, s.result.deleted.length]),
    [[full, 3]],
  );
  writeFileSync(join(full, 'eth0-20260101000500.pcap'), Buffer.alloc(1000)); // over maxBytes again
  freeOfLow = 5; // the other ring's disk fills
  // Between full sweeps: the ring under its floor is cut back at once; the maxBytes ring waits for the next full sweep.
  assert.deepEqual(
    retention.tick(2_000).map((s) => [s.policy.directory, s.result.deleted.length]),
    [[low, 4]],
  );
  assert.deepEqual(
    retention.tick(11_000).map((s) => [s.policy.directory, s.result.deleted.length]),
    [[full, 1]],
  );
});

test('RingRetention: a ring directory that does not exist yet is no error', () => {
  const retention = new RingRetention([{ directory: join(mkdtempSync(join(tmpdir(), 'ring-')), 'later'), interface: 'eth0', maxBytes: 0, minFreePercent: 10 }]);
  assert.deepEqual(retention.tick(), []);
  assert.deepEqual(retention.tick(), []);
});
