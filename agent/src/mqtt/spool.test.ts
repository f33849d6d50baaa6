import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readdirSync, readFileSync, statSync, truncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireTool } from '@pcapmesh/shared/util/testing';
import { Spool } from './spool.js';
import type { SpoolKind } from './spool-format.js';

const tempDir = () => mkdtempSync(join(tmpdir(), 'spool-'));
const payload = (n: number, size = 100) => Buffer.alloc(size, n % 251);

function add(spool: Spool, n: number, kind: SpoolKind = 'health', size = 100, retain = false): number | null {
  return spool.append({ kind, topic: `t/${kind}`, payload: payload(n, size), retain, seq: spool.nextSeq });
}

function drain(spool: Spool): { id: number; seq: number; first: number }[] {
  const out = [];
  for (let r = spool.takeNext(); r; r = spool.takeNext()) out.push({ id: r.id, seq: r.seq, first: r.payload[0]! });
  return out;
}

const diskBytes = (dir: string) =>
  readdirSync(dir)
    .filter((n) => n.endsWith('.seg'))
    .reduce((s, n) => s + statSync(join(dir, n)).size, 0);

test('records come out in order, once per connection, and again after a rewind', () => {
  const spool = Spool.open(tempDir(), { maxBytes: 1 << 20 });
  for (let i = 0; i < 10; i++) add(spool, i);
  const first = drain(spool);
  assert.deepEqual(
    first.map((r) => r.seq),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.equal(spool.takeNext(), null);
  for (const r of first.slice(0, 4)) spool.ack(r.id);
  spool.ack(first[6]!.id); // out of order: 6 is done, 4 and 5 are not
  spool.rewind();
  assert.deepEqual(
    drain(spool).map((r) => r.seq),
    [4, 5, 7, 8, 9],
  );
  assert.equal(spool.stats.pending, 5);
  spool.close();
});

test('after a restart the unacknowledged records are replayed in order and seq continues', () => {
  const dir = tempDir();
  let spool = Spool.open(dir, { maxBytes: 1 << 20, segmentBytes: 1024 });
  for (let i = 0; i < 50; i++) add(spool, i);
  const sent = drain(spool);
  for (const r of sent.slice(0, 20)) spool.ack(r.id);
  spool.noteSeq(spool.nextSeq); // a birth published outside the spool used seq 50
  spool.close();

  spool = Spool.open(dir, { maxBytes: 1 << 20, segmentBytes: 1024 });
  assert.equal(spool.nextSeq, 51);
  const replay = drain(spool);
  assert.deepEqual(
    replay.map((r) => r.seq),
    Array.from({ length: 30 }, (_, i) => i + 20),
  );
  assert.deepEqual(
    replay.map((r) => r.first),
    Array.from({ length: 30 }, (_, i) => i + 20),
  );
  for (const r of replay) spool.ack(r.id);
  assert.equal(spool.stats.pending, 0);
  spool.close();

  spool = Spool.open(dir, { maxBytes: 1 << 20, segmentBytes: 1024 });
  assert.equal(spool.takeNext(), null);
  assert.equal(spool.nextSeq, 51);
  assert.ok(diskBytes(dir) < 2048, 'acknowledged segments are deleted');
  spool.close();
});

test('a torn last record (kill -9 mid-write) is truncated on open; the records before it survive', () => {
  const dir = tempDir();
  let spool = Spool.open(dir, { maxBytes: 1 << 20 });
  for (let i = 0; i < 5; i++) add(spool, i);
  spool.close();
  const seg = readdirSync(dir).find((n) => n.endsWith('.seg'))!;
  const whole = statSync(join(dir, seg)).size;
  truncateSync(join(dir, seg), whole - 30); // the fifth record is cut short

  spool = Spool.open(dir, { maxBytes: 1 << 20 });
  assert.deepEqual(
    drain(spool).map((r) => r.seq),
    [0, 1, 2, 3],
  );
  assert.ok(statSync(join(dir, seg)).size < whole - 30, 'the torn bytes are cut off');
  add(spool, 99);
  spool.rewind();
  assert.deepEqual(
    drain(spool).map((r) => r.first),
    [0, 1, 2, 3, 99],
  );
  spool.close();

  // Garbage after the last record (a half-written header) is cut as well.
  appendFileSync(join(dir, seg), Buffer.from([1, 2, 3]));
  spool = Spool.open(dir, { maxBytes: 1 << 20 });
  assert.equal(drain(spool).length, 5);
  spool.close();
});

test('the bound holds: oldest health records go first, every drop is counted', () => {
  const dir = tempDir();
  const maxBytes = 64 * 1024;
  const spool = Spool.open(dir, { maxBytes, segmentBytes: 8 * 1024 });
  add(spool, 1, 'state', 100, true);
  add(spool, 2, 'pcap', 100, true);
  for (let i = 0; i < 600; i++) add(spool, i % 200, 'health', 1000);
  add(spool, 3, 'task-status', 100);
  assert.ok(diskBytes(dir) <= maxBytes, `disk ${diskBytes(dir)} ≤ ${maxBytes}`);
  const stats = spool.stats;
  assert.ok(stats.dropped > 500, `dropped ${stats.dropped}`);
  assert.equal(stats.appended, 603);
  const left = [];
  for (let r = spool.takeNext(); r; r = spool.takeNext()) left.push(r);
  assert.equal(left.length + stats.dropped, 603, 'nothing lost without being counted');
  // State and availability survive, health is the newest, and order holds.
  assert.deepEqual(
    left.slice(0, 2).map((r) => r.kind),
    ['state', 'pcap'],
  );
  assert.equal(left.at(-1)!.kind, 'task-status');
  const ids = left.map((r) => r.id);
  assert.deepEqual(
    ids,
    [...ids].sort((a, b) => a - b),
  );
  assert.equal(left.at(-2)!.seq, 601, 'the newest health record is kept');
  spool.close();
});

test('superseded retained records are dropped before health; in-flight records never', () => {
  const spool = Spool.open(tempDir(), { maxBytes: 64 * 1024, segmentBytes: 8 * 1024 });
  const inflight = add(spool, 0, 'health', 1000);
  assert.equal(spool.takeNext()?.id, inflight);
  for (let i = 0; i < 40; i++) add(spool, i, 'pcap', 1000, true);
  for (let i = 0; i < 30; i++) add(spool, i, 'health', 1000);
  const left = [];
  for (let r = spool.takeNext(); r; r = spool.takeNext()) left.push(r);
  const pcaps = left.filter((r) => r.kind === 'pcap');
  assert.ok(pcaps.length >= 1 && pcaps.at(-1)!.payload[0] === 39, 'the newest availability survives');
  assert.equal(left.filter((r) => r.kind === 'health').length, 30, 'no health record was needed as a victim');
  spool.ack(inflight!);
  assert.equal(spool.stats.dropped + left.length + 1, 71);
  spool.close();
});

test('a record bigger than the whole bound is refused and counted', () => {
  const spool = Spool.open(tempDir(), { maxBytes: 64 * 1024 });
  assert.equal(add(spool, 1, 'pcap', 70 * 1024), null);
  assert.equal(spool.stats.dropped, 1);
  assert.equal(spool.nextSeq, 1, 'its seq is not reused');
  spool.close();
});

test('a long replay with windowed, partly out-of-order acks retires everything and frees the disk', () => {
  const dir = tempDir();
  let spool = Spool.open(dir, { maxBytes: 64 << 20, segmentBytes: 256 * 1024 });
  const total = 20_000;
  for (let i = 0; i < total; i++) add(spool, i, 'health', 200);
  let seen = 0;
  let expectSeq = 0;
  for (;;) {
    const window = [];
    while (window.length < 500) {
      const r = spool.takeNext();
      if (!r) break;
      window.push(r);
    }
    if (window.length === 0) break;
    for (const r of window) assert.equal(r.seq, expectSeq++, 'in order');
    for (const r of [...window].reverse()) spool.ack(r.id); // PUBACKs in reverse: worst case for the ack prefix
    seen += window.length;
    if (seen === 10_000) {
      spool.close(); // a restart half way: nothing acknowledged comes back
      spool = Spool.open(dir, { maxBytes: 64 << 20, segmentBytes: 256 * 1024 });
    }
  }
  assert.equal(seen, total);
  assert.equal(spool.stats.pending, 0);
  assert.equal(spool.nextSeq, total);
  assert.ok(diskBytes(dir) <= 256 * 1024, `left on disk: ${diskBytes(dir)}`);
  spool.close();
});

test('power loss: appends reach the disk by one fdatasync per burst, and meta.json is synced before it replaces the old one', (t) => {
  const strace = requireTool(t, 'strace');
  if (!strace) return;
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-spool-sync-'));
  const log = join(dir, 'strace.log');
  // A burst of three appends, a pause longer than the sync delay, one more append, an ack (meta), close.
  const script = `
    import { Spool } from ${JSON.stringify(new URL('./spool.ts', import.meta.url).href)};
    const spool = Spool.open(${JSON.stringify(join(dir, 'spool'))}, { maxBytes: 1 << 20, syncDelayMs: 50, metaDelayMs: 10 });
    const add = (seq) => spool.append({ kind: 'health', topic: 't', payload: new Uint8Array(64), retain: false, seq });
    add(0); add(1); add(2);
    await new Promise((r) => setTimeout(r, 300));
    add(3);
    spool.ack(spool.takeNext().id);
    await new Promise((r) => setTimeout(r, 300));
    spool.close();`;
  const r = spawnSync(
    strace,
    [
      '-f',
      '-qq',
      '-e',
      'trace=write,fdatasync,fsync,rename',
      '-o',
      log,
      process.execPath,
      '--conditions=pcapmesh-src',
      '--import',
      'tsx',
      '--input-type=module',
      '-e',
      script,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(r.status, 0, r.stderr);
  const calls = readFileSync(log, 'utf8')
    .split('\n')
    .map((l) => l.replace(/^\d+\s+/, ''))
    .filter((l) => /^(fdatasync|fsync|rename)\(/.test(l));
  const datasyncs = calls.filter((c) => c.startsWith('fdatasync('));
  // Timers fire in expiry order: each burst's 50 ms sync runs before the 300 ms pause ends.
  assert.equal(datasyncs.length, 2, `one fdatasync per burst, not one per append nor none: ${calls.join(' | ')}`);
  const metaRenames = calls.map((c, i) => [c, i] as const).filter(([c]) => /^rename\(".*meta\.json\.tmp"/.test(c));
  assert.ok(metaRenames.length > 0, 'meta.json written');
  for (const [, i] of metaRenames) assert.match(calls[i - 1] ?? '', /^fsync\(/, 'meta.json.tmp synced right before its rename');
});
