import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCapture } from './gen/output.js';
import { mergeCaptures } from './merge.js';
import { openPacketIndex, PacketIndexError } from './packet-index.js';
import { openCapture } from './reader.js';
import { LinkType } from './types.js';

const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-pktidx-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Every packet of a capture read from the start: [record offset, sec, nsec, caplen, linkType, first byte]. */
function sequential(path: string): number[][] {
  const r = openCapture(path);
  const out: number[][] = [];
  for (let p = r.next(); p; p = r.next()) out.push([p.offset, p.sec, p.nsec, p.caplen, p.linkType, p.data[0]!]);
  r.close();
  return out;
}

async function page(path: string, start: number, count: number): Promise<number[][]> {
  const index = await openPacketIndex(path, `${path}.pktidx`);
  const out: number[][] = [];
  await index.read(start, count, (p, n) => {
    assert.equal(n, start + out.length, 'packets come in order with their index');
    out.push([p.offset, p.sec, p.nsec, p.caplen, p.linkType, p.data[0]!]);
  });
  return out;
}

test('pcap: pages read through the index equal the same packets read from the start; the index is reused from disk', async () => {
  const path = join(dir, 'eth.pcap');
  writeCapture(path, { seed: 3, packets: 5_000 });
  const all = sequential(path);
  const first = await openPacketIndex(path, `${path}.pktidx`);
  assert.equal(first.count, 5_000);
  assert.deepEqual(first.first, { sec: all[0]![1], nsec: all[0]![2] });
  const built = statSync(`${path}.pktidx`);
  assert.equal(built.size, 56 + 8 * 5_000);
  for (const [start, count] of [
    [0, 10],
    [2_500, 100],
    [4_990, 50], // clamped at the end
    [4_999, 1],
    [5_000, 10], // past the end: nothing
  ] as const) {
    assert.deepEqual(await page(path, start, count), all.slice(start, start + count), `page ${start}+${count}`);
  }
  assert.equal(statSync(`${path}.pktidx`).mtimeMs, built.mtimeMs, 'a second open loads the index instead of rebuilding it');
});

test('pcapng with an interface declared mid-file: a page past it reads its link type right', async () => {
  const eth = join(dir, 'a.pcap');
  const raw = join(dir, 'b.pcap');
  writeCapture(eth, { seed: 4, packets: 800, start: 1_700_000_000 });
  writeCapture(raw, { seed: 5, packets: 800, start: 1_700_000_030, linkType: LinkType.RAW });
  const merged = join(dir, 'merged.pcapng');
  mergeCaptures([eth, raw], merged); // two link types: pcapng, the RAW interface block before its first packet
  const all = sequential(merged);
  const firstRaw = all.findIndex((p) => p[4] === LinkType.RAW);
  assert.ok(firstRaw > 0, 'the raw interface appears after the first packet');
  assert.deepEqual(await page(merged, firstRaw + 10, 40), all.slice(firstRaw + 10, firstRaw + 50));
  assert.deepEqual(await page(merged, all.length - 5, 5), all.slice(-5));
});

test('a capture changed after its index was built: reads refuse (PacketIndexError) and a new open rebuilds', async () => {
  const path = join(dir, 'grow.pcap');
  writeCapture(path, { seed: 6, packets: 300 });
  const index = await openPacketIndex(path, `${path}.pktidx`);
  assert.equal(index.count, 300);
  const extra = join(dir, 'extra.pcap');
  writeCapture(extra, { seed: 7, packets: 10, start: 1_800_000_000 });
  const records = openCapture(extra);
  const firstRecord = records.next()!.offset;
  records.close();
  appendFileSync(path, readFileSync(extra).subarray(firstRecord));
  await assert.rejects(
    index.read(0, 1, () => undefined),
    (err: unknown) => err instanceof PacketIndexError && /changed since its packet index was built/.test(err.message),
  );
  const again = await openPacketIndex(path, `${path}.pktidx`);
  assert.equal(again.count, 310);
  assert.deepEqual(await page(path, 300, 10), sequential(path).slice(300));
});

test('a capture the reader refuses is an error naming the file, and leaves no index', async () => {
  const path = join(dir, 'not-a-capture.pcap');
  appendFileSync(path, 'hello, this is text and not a capture file at all');
  await assert.rejects(openPacketIndex(path, `${path}.pktidx`), /not-a-capture\.pcap/);
  assert.throws(() => statSync(`${path}.pktidx`), /ENOENT/);
});
