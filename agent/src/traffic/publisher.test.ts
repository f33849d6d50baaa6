import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { pino } from 'pino';
import { decodePacket, formatIpv6, newDecodedPacket } from '@pcapmesh/shared/pcap/decode';
import { writeCapture } from '@pcapmesh/shared/pcap/gen/output';
import { openCapture } from '@pcapmesh/shared/pcap/reader';
import { MIN_INDEXED_BYTES, loadIndexHeader, openIndex } from '@pcapmesh/shared/pcap/sidecar/index';
import { L3 } from '@pcapmesh/shared/pcap/types';
import { trafficSchema, type Body } from '@pcapmesh/shared/wire';
import { Agent } from '../agent.js';
import { agentConfigSchema } from '../config.js';
import { TestBroker } from '../mqtt/broker.fixture.js';
import { AvailabilityScanner } from '../pcap/availability.js';
import type { WorkerOutcome } from '../pcap/index-worker.js';
import { CaptureIndexer } from '../pcap/indexer.js';
import { TrafficPublisher, partId } from './publisher.js';

const MiB = 1024 * 1024;
/** A minute boundary (1 700 000 040 = 28 333 334 × 60). */
const BASE = 1_700_000_040;

function age(path: string, seconds: number): string {
  const t = Date.now() / 1000 - seconds;
  utimesSync(path, t, t);
  return path;
}

/** minute (ms) → "src dst" → [packets, bytes] */
type Counts = Map<number, Map<string, [number, number]>>;

function add(counts: Counts, minute: number, pair: string, packets: number, bytes: number): void {
  const m = counts.get(minute) ?? new Map<string, [number, number]>();
  counts.set(minute, m);
  const c = m.get(pair) ?? [0, 0];
  c[0] += packets;
  c[1] += bytes;
  m.set(pair, c);
}

/** An independent count: the library's decode, networks written by string handling (/24, /64). */
function expectedCounts(files: string[]): Counts {
  const out: Counts = new Map();
  const d = newDecodedPacket();
  const net64 = new Uint8Array(16);
  for (const file of files) {
    const reader = openCapture(file);
    for (let p = reader.next(); p; p = reader.next()) {
      decodePacket(p, d);
      let pair: string;
      if (d.l3 === L3.IPV4 && d.src4 >= 0 && d.dst4 >= 0) {
        const net = (a: number) => `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.0/24`;
        pair = `${net(d.src4)} ${net(d.dst4)}`;
      } else if (d.l3 === L3.IPV6 && d.src6Offset >= 0 && d.dst6Offset >= 0) {
        const net = (at: number) => {
          net64.fill(0);
          net64.set(p.data.subarray(at, at + 8));
          return `${formatIpv6(net64, 0)}/64`;
        };
        pair = `${net(d.src6Offset)} ${net(d.dst6Offset)}`;
      } else continue;
      add(out, Math.floor(p.sec / 60) * 60_000, pair, 1, p.origLen);
    }
    reader.close();
  }
  return out;
}

/** Sums messages by (minute, pair) as the collector does, asserting no (minute, part, pair) repeats (its row key). */
function summed(messages: readonly Body<'traffic'>[]): Counts {
  const keys = new Set<string>();
  const out: Counts = new Map();
  for (const m of messages) {
    trafficSchema.parse({ ...m, v: 1, sentAt: 0, seq: 0 });
    assert.equal(m.intervalSeconds, 60);
    for (const f of m.flows) {
      const key = `${m.intervalStart} ${m.part} ${f.srcNet} ${f.dstNet}`;
      assert.ok(!keys.has(key), `row repeated: ${key}`);
      keys.add(key);
      add(out, m.intervalStart, `${f.srcNet} ${f.dstNet}`, f.packets, f.bytes);
    }
  }
  return out;
}

function rig(t: TestContext, dir: string, stateDir: string, opts: { backfill?: boolean; since?: number } = {}) {
  const sent: Body<'traffic'>[] = [];
  const outcomes: [string, WorkerOutcome][] = [];
  const publisher = new TrafficPublisher({
    stateDir,
    settings: { ipv4Prefix: 24, ipv6Prefix: 64, maxPairsPerMinute: 1000 },
    backfill: opts.backfill ?? false,
    sink: { send: (_channel, body) => sent.push(body) },
    logger: pino({ level: 'silent' }),
    ...(opts.since !== undefined ? { now: () => opts.since! } : {}),
  });
  const indexer = new CaptureIndexer({
    settleSeconds: 60,
    logger: pino({ level: 'silent' }),
    traffic: publisher,
    onResult: (path, o) => outcomes.push([basename(path), o]),
  });
  t.after(() => indexer.stop());
  const scanner = new AvailabilityScanner([{ name: 'src', directory: dir, gapSeconds: 120, activeSeconds: 70, managed: false }], Date.now, (l) =>
    indexer.review(l),
  );
  const settle = async () => {
    scanner.scan();
    await indexer.idle();
    scanner.scan();
    await indexer.idle();
  };
  return { sent, outcomes, publisher, settle };
}

test('closed files are summarised in their index read (or a read of their own), one part per file: summed by minute and pair they equal an independent count; a restart publishes nothing again; backfill reads the older files', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'traffic-pub-'));
  const stateDir = join(dir, 'state');
  mkdirSync(join(dir, 'pcap'));
  const file = (name: string) => join(dir, 'pcap', name);
  // Closed before the ledger existed (indexed before this feature): not read without backfill.
  const old = file('old.pcap');
  writeCapture(old, { seed: 9, bytes: 1.25 * MiB, start: BASE - 7200, duration: 60 });
  age(old, 7200);
  // a ends and b begins in the middle of minute BASE+60: that minute comes in two parts.
  writeCapture(file('a.pcap'), { seed: 1, bytes: 1.25 * MiB, start: BASE, duration: 90 });
  writeCapture(file('b.pcap'), { seed: 2, packets: 400, start: BASE + 90, duration: 60 });
  writeCapture(file('c.pcap'), { seed: 3, bytes: 1.25 * MiB, start: BASE + 300, duration: 30 });
  for (const [name, s] of [
    ['a.pcap', 600],
    ['b.pcap', 500],
    ['c.pcap', 300],
  ] as const)
    age(file(name), s);
  openIndex(file('c.pcap')); // indexed by someone else (an extract) before the indexer: fresh sidecar, summary still due
  assert.ok(readFileSync(file('b.pcap')).length < MIN_INDEXED_BYTES);
  assert.equal(loadIndexHeader(file('c.pcap')).status, 'fresh');

  const first = rig(t, join(dir, 'pcap'), stateDir, { since: Date.now() - 3_600_000 });
  await first.settle();
  assert.deepEqual(first.outcomes.map(([n, o]) => [n, o.status, o.traffic !== undefined]).sort(), [
    ['a.pcap', 'built', true],
    ['b.pcap', 'summarised', true],
    ['c.pcap', 'summarised', true],
    ['old.pcap', 'built', false],
  ]);
  const parts = new Map(['a.pcap', 'b.pcap', 'c.pcap'].map((n) => [partId('src', file(n)), n]));
  assert.deepEqual(new Set(first.sent.map((m) => parts.get(m.part!))), new Set(['a.pcap', 'b.pcap', 'c.pcap']));
  const boundary = first.sent.filter((m) => m.intervalStart === (BASE + 60) * 1000);
  assert.deepEqual(new Set(boundary.map((m) => parts.get(m.part!))), new Set(['a.pcap', 'b.pcap']), 'the split minute comes from both files');
  assert.deepEqual(summed(first.sent), expectedCounts([file('a.pcap'), file('b.pcap'), file('c.pcap')]));
  assert.deepEqual(first.publisher.publishedFiles('src'), ['a.pcap', 'b.pcap', 'c.pcap'].map(file));

  // Restart on the same state: nothing is read or published again.
  const again = rig(t, join(dir, 'pcap'), stateDir);
  await again.settle();
  assert.equal(again.sent.length, 0);
  assert.equal(again.outcomes.length, 0);

  // backfill: the file that predates the ledger is read (its sidecar is fresh: a read of its own), only it.
  const backfill = rig(t, join(dir, 'pcap'), stateDir, { backfill: true });
  await backfill.settle();
  assert.deepEqual(
    backfill.outcomes.map(([n, o]) => [n, o.status]),
    [['old.pcap', 'summarised']],
  );
  assert.deepEqual(new Set(backfill.sent.map((m) => m.part)), new Set([partId('src', old)]));
  assert.deepEqual(summed(backfill.sent), expectedCounts([old]));
});

test('a damaged ledger starts anew from now (older files are not published in bulk); a published identity is not sent again; files that are gone are forgotten', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'traffic-ledger-'));
  const stateDir = join(dir, 'state');
  const ledger = join(stateDir, 'traffic', 'published.json');
  mkdirSync(join(stateDir, 'traffic'), { recursive: true });
  mkdirSync(join(dir, 'pcap'));
  const x = join(dir, 'pcap', 'x.pcap');
  writeCapture(x, { seed: 4, packets: 300 });
  age(x, 600);
  writeFileSync(ledger, '{"version":1,"since":');
  const damaged = rig(t, join(dir, 'pcap'), stateDir);
  await damaged.settle();
  assert.equal(damaged.sent.length, 0, 'a file closed before the new ledger is not published');
  const since = (JSON.parse(readFileSync(ledger, 'utf8')) as { since: number }).since;
  assert.ok(Math.abs(since - Date.now()) < 60_000, 'the new ledger starts now');

  // A ledger that has x as published (same size and mtime) and a file that no longer exists.
  const gone = join(dir, 'pcap', 'gone.pcap');
  writeFileSync(ledger, JSON.stringify({ version: 1, since: 0, published: { src: { [x]: `${statSync(x).size}:${statSync(x).mtimeMs}`, [gone]: '1:1' } } }));
  const known = rig(t, join(dir, 'pcap'), stateDir);
  await known.settle();
  assert.equal(known.sent.length, 0);
  assert.deepEqual(known.publisher.publishedFiles('src'), [x]);
  // x rewritten (another size): a new identity, published again under the same part.
  writeCapture(x, { seed: 4, packets: 350 });
  age(x, 600);
  await known.settle();
  assert.deepEqual(new Set(known.sent.map((m) => m.part)), new Set([partId('src', x)]));
  assert.deepEqual(summed(known.sent), expectedCounts([x]));

  // A source no longer configured is forgotten at start.
  const other = new TrafficPublisher({
    stateDir,
    settings: { ipv4Prefix: 24, ipv6Prefix: 64, maxPairsPerMinute: 10 },
    backfill: false,
    sink: { send: () => {} },
    logger: pino({ level: 'silent' }),
    sources: ['eth1'],
  });
  assert.deepEqual(other.publishedFiles('src'), []);
  assert.deepEqual(Object.keys((JSON.parse(readFileSync(ledger, 'utf8')) as { published: object }).published), []);
});

test('through the agent: summaries made while the collector is away are spooled and delivered when it is back; a restarted agent does not send them again', async (t) => {
  const broker = new TestBroker();
  await broker.start();
  t.after(() => broker.stop());
  const dir = mkdtempSync(join(tmpdir(), 'traffic-agent-'));
  const pcap = join(dir, 'pcap');
  mkdirSync(pcap);
  const config = agentConfigSchema.parse({
    name: 'traffic-edge',
    mqtt: { url: broker.url },
    stateDir: join(dir, 'state'),
    captures: [{ name: 'watched', directory: pcap }],
    intervals: { scanSeconds: 1 },
    index: { settleSeconds: 1 },
    traffic: { maxPairsPerMinute: 500 },
  });
  const start = async () => {
    const agent = new Agent(config, pino({ level: 'silent' }));
    await agent.start();
    return agent;
  };
  let agent = await start();
  t.after(() => agent.stop());
  await broker.until('birth', () => broker.of('state').length > 0);
  assert.ok((broker.of('state')[0]!.message as { capabilities?: string[] }).capabilities?.includes('traffic'));

  await broker.stop(); // the collector is away
  const files = [join(pcap, 'one.pcap'), join(pcap, 'two.pcap')];
  writeCapture(files[0]!, { seed: 21, bytes: 1.25 * MiB, start: BASE, duration: 70 });
  writeCapture(files[1]!, { seed: 22, packets: 500, start: BASE + 70, duration: 40 });
  const ledger = join(dir, 'state', 'traffic', 'published.json');
  const published = () => Object.keys((JSON.parse(readFileSync(ledger, 'utf8')) as { published: Record<string, object> }).published.watched ?? {}).length;
  await broker.until('both files summarised while offline', () => published() === 2, 60_000);
  assert.deepEqual(broker.of('traffic'), []);

  await broker.start(); // back on the same port: the spool replays
  const messages = () => broker.of('traffic').map((r) => r.message as unknown as Body<'traffic'>);
  const want = expectedCounts(files);
  await broker.until(
    'traffic delivered',
    () => {
      try {
        assert.deepEqual(summed(messages()), want);
        return true;
      } catch {
        return false;
      }
    },
    60_000,
  );
  assert.ok(broker.of('traffic').every((r) => r.topic === 'pcapmesh/v1/sensors/traffic-edge/traffic' && !r.retain));

  await agent.stop();
  const delivered = broker.of('traffic').length;
  agent = await start();
  await broker.until('second birth', () => broker.of('state').filter((r) => (r.message as { status?: string }).status === 'online').length >= 2);
  await new Promise((r) => setTimeout(r, 3000)); // a few scans
  assert.equal(broker.of('traffic').length, delivered, 'nothing republished after the restart');
});
