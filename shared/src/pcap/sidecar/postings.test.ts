import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { decodePacket, newDecodedPacket } from '../decode.js';
import { extract } from '../extract.js';
import { parseFilter } from '../filter/parser.js';
import { writeCapture } from '../gen/output.js';
import { openCapture } from '../reader.js';
import { compileCandidates } from './candidates.js';
import { decodeSidecar } from './file-format.js';
import type { Timestamp } from '../types.js';
import { buildIndex, loadIndex, sidecarPath, type CaptureIndex, type IndexBlock } from './index.js';
import { estimateIndex, planReads } from './plan.js';
import { PostingAccumulator, decodeList, intersect, union } from './postings.js';

function withCapture(fn: (path: string) => void | Promise<void>, packets = 30_000): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-postings-'));
  const path = join(dir, 'gen.pcap');
  // 300 clients: each a small share of every block, as a DNS server or one user is on a real link.
  const hosts = Array.from({ length: 300 }, (_, i) => `10.64.${i >> 8}.${i & 255}${i % 5 === 4 ? '%64' : ''}`);
  writeCapture(path, { seed: 8, packets, duration: 300, hosts });
  return Promise.resolve(fn(path)).finally(() => rmSync(dir, { recursive: true, force: true }));
}

/** Every packet's (offset, caplen) per IPv4 address, per block, from a full read. */
function truth(path: string, index: CaptureIndex): Array<Map<number, Array<[number, number]>>> {
  const out = index.blocks.map(() => new Map<number, Array<[number, number]>>());
  const r = openCapture(path);
  const d = newDecodedPacket();
  let b = 0;
  for (let p = r.next(); p; p = r.next()) {
    while (p.offset >= index.blocks[b]!.end) b++;
    decodePacket(p, d);
    for (const a of new Set([d.src4, d.dst4])) {
      if (a < 0) continue;
      const list = out[b]!.get(a) ?? [];
      list.push([p.offset, p.caplen]);
      out[b]!.set(a, list);
    }
  }
  r.close();
  return out;
}

test('posting lists: each listed address has exactly its packets; index ≤ 3 %; over budget the densest keep none', () =>
  withCapture((path) => {
    const share = (): number => statSync(sidecarPath(path)).size / statSync(path).size;
    // A tight budget first: the lists dropped must be the longest of their block.
    const tight = buildIndex(path, { postingBudget: 0.003 }).index;
    const expectedTight = truth(path, tight);
    let dropped = 0;
    tight.blocks.forEach((block, i) => {
      const counts = [...expectedTight[i]!].map(([addr, packets]) => ({ n: packets.length, kept: block.packetsOfIpv4(addr) !== null }));
      const minDropped = Math.min(...counts.filter((c) => !c.kept).map((c) => c.n));
      const maxKept = Math.max(...counts.filter((c) => c.kept).map((c) => c.n));
      dropped += counts.filter((c) => !c.kept).length;
      assert.ok(minDropped >= maxKept, `block ${i}: a list of ${maxKept} kept, one of ${minDropped} dropped`);
    });
    assert.ok(dropped > 0, 'the tight budget dropped no list');
    const tightShare = share();

    const { index } = buildIndex(path);
    assert.ok(share() > tightShare);
    const expected = truth(path, index);
    let listed = 0;
    let dense = 0;
    index.blocks.forEach((block, i) => {
      for (const [addr, packets] of expected[i]!) {
        const list = block.packetsOfIpv4(addr);
        if (list === null) {
          dense++;
          assert.ok(block.mayHaveIpv4(addr, 0xffffffff));
          continue;
        }
        listed++;
        assert.deepEqual(
          list.offsets.map((o, k) => [o, list.lengths[k]]),
          packets,
        );
      }
      assert.equal(block.packetsOfIpv4(0xc0000263), null, 'an absent address has no list');
    });
    assert.ok(listed > 400, `${listed} lists (${dense} addresses without)`);
    assert.ok(share() <= 0.03, `index ${(share() * 100).toFixed(2)} % of the capture`);
    // The whole block's captured bytes are recorded (estimates of unfiltered windows are exact).
    assert.equal(
      index.blocks.reduce((n, b) => n + b.bytes, 0),
      expected.length && readAllBytes(path),
    );
  }));

function readAllBytes(path: string): number {
  const r = openCapture(path);
  let n = 0;
  for (let p = r.next(); p; p = r.next()) n += p.caplen;
  r.close();
  return n;
}

test('posting lists: encoding round trip, damage inside a list is refused, set operations', () => {
  const acc = new PostingAccumulator();
  acc.add4(7, 1000, 60);
  acc.add4(7, 1000, 60); // the same packet again (source = destination): listed once
  acc.add4(7, 300_000, 1500);
  acc.add4(9, 2000, 40);
  acc.add6(12345, 5000, 80);
  const p = acc.finish(1000, 1 << 20);
  assert.deepEqual([...p.keys4], [7, 9]);
  assert.deepEqual(decodeList(p.bytes, p.starts4[0]!, p.starts4[1]!, 1000, 400_000), { offsets: [1000, 300_000], lengths: [60, 1500] });
  assert.deepEqual(decodeList(p.bytes, p.starts6[0]!, p.starts6[1]!, 1000, 400_000), { offsets: [5000], lengths: [80] });
  assert.equal(decodeList(p.bytes, p.starts4[0]!, p.starts4[1]!, 1000, 200_000), null, 'an offset past the block');
  assert.equal(decodeList(p.bytes, p.starts4[0]!, p.starts4[1]! - 1, 1000, 400_000), null, 'a list cut short');
  const a = { offsets: [1, 5, 9], lengths: [10, 50, 90] };
  const b = { offsets: [5, 7, 9, 11], lengths: [50, 70, 90, 110] };
  assert.deepEqual(intersect(a, b), { offsets: [5, 9], lengths: [50, 90] });
  assert.deepEqual(union(a, b), { offsets: [1, 5, 7, 9, 11], lengths: [10, 50, 70, 90, 110] });
  // A budget of nothing keeps no list.
  const none = new PostingAccumulator();
  none.add4(1, 10, 10);
  assert.equal(none.finish(0, 0).keys4.length, 0);
});

test('read plan and estimate: only the listed records are read; estimates match extract, exact for hosts', () =>
  withCapture(async (path) => {
    const { index } = buildIndex(path);
    const dir = join(path, '..');
    const host = '10.64.0.17';
    const cases: Array<[string, boolean]> = [
      [`host ${host}`, true],
      [`host ${host} or host 10.64.0.33`, true],
      [`host ${host} and host 10.1.0.53`, true],
      [`host ${host} and udp`, false],
      ['net 10.64.0.0/28', true],
      [`not host ${host}`, false],
    ];
    for (const [expr, exact] of cases) {
      const filter = parseFilter(expr);
      const select = compileCandidates(filter);
      const estimate = estimateIndex(index, select, null, null);
      const out = join(dir, 'out.pcap');
      const stats = await extract({ inputs: [path], output: out, filter: expr, workers: 0 });
      const plain = await extract({ inputs: [path], output: out, filter: expr, workers: 0, useIndex: false });
      assert.deepEqual([stats.packets, stats.bytes], [plain.packets, plain.bytes], expr);
      assert.equal(estimate.exact, exact, `${expr}: exact`);
      if (exact) assert.deepEqual([estimate.packets, estimate.bytes], [stats.packets, stats.bytes], expr);
      else assert.ok(estimate.packets >= stats.packets && estimate.bytes >= stats.bytes, expr);
    }
    const plan = planReads(index, compileCandidates(parseFilter(`host ${host}`)), null, null);
    const size = statSync(path).size;
    assert.equal(plan.scan, false);
    assert.ok(plan.bytes < size / 10, `a 1-in-300 host reads ${plan.bytes} of ${size} bytes`);
    // A window: a block at its edge with candidates makes the estimate an upper bound (one without stays exact).
    const mid = index.blocks[2]!;
    const windowed = estimateIndex(index, compileCandidates({ kind: 'all' }), { sec: mid.first.sec, nsec: mid.first.nsec + 1 }, null);
    assert.equal(windowed.exact, false);
    assert.ok(windowed.packets < index.packets);
    // No filter: everything, exact.
    const all = estimateIndex(index, compileCandidates({ kind: 'all' }), null, null);
    assert.deepEqual([all.packets, all.exact], [index.packets, true]);
  }, 12_000));

test('a damaged posting section that passes the checksums is never trusted: its block is read whole; a corrupt sidecar: the file is scanned', () =>
  withCapture(async (path) => {
    buildIndex(path);
    const side = sidecarPath(path);
    const good = readFileSync(side);
    const bytes = Uint8Array.from(good);
    const block = decodeSidecar(bytes).blocks[1]!;
    assert.ok(block.postings && block.postings.keys4.length > 2);
    // Put a start of block 1 out of order (views on `bytes`: offsets into it) and reseal both checksums.
    const view = new DataView(bytes.buffer);
    const at = block.postings.starts4.byteOffset + 4;
    view.setUint32(at, 0xffff, true);
    const headerBytes = view.getUint32(12, true);
    view.setUint32(headerBytes - 4, crc32(bytes.subarray(0, headerBytes - 4)), true);
    view.setUint32(bytes.length - 4, crc32(bytes.subarray(0, bytes.length - 4)), true);
    writeFileSync(side, bytes);
    const loaded = loadIndex(path);
    assert.equal(loaded.status, 'fresh');
    const damagedIndex = (loaded as { index: CaptureIndex }).index;
    const damagedBlock = damagedIndex.blocks[1]!;
    // List 0 now ends past the lists, list 1 starts after it ends: neither is decoded.
    assert.equal(damagedBlock.packetsOfIpv4(block.postings.keys4[0]!), null);
    assert.equal(damagedBlock.packetsOfIpv4(block.postings.keys4[1]!), null);
    const key = block.postings.keys4[1]!;
    const host = [24, 16, 8, 0].map((s) => (key >>> s) & 255).join('.');
    const out1 = join(path, '..', 'damaged-lists.pcap');
    const withDamage = await extract({ inputs: [path], output: out1, filter: `host ${host}`, workers: 0 });
    const without = await extract({ inputs: [path], output: out1, filter: `host ${host}`, workers: 0, useIndex: false });
    assert.ok(without.packets > 0);
    assert.deepEqual([withDamage.packets, withDamage.bytes], [without.packets, without.bytes]);
    assert.equal(estimateIndex(damagedIndex, compileCandidates(parseFilter(`host ${host}`)), null, null).exact, false);
    // A truncated sidecar: corrupt too; extract still answers from the capture.
    writeFileSync(side, good.subarray(0, good.length - 100));
    assert.equal(loadIndex(path).status, 'corrupt');
    const out = join(path, '..', 'out.pcap');
    const damaged = await extract({ inputs: [path], output: out, filter: 'host 10.64.0.17', workers: 0 });
    const plain = await extract({ inputs: [path], output: out, filter: 'host 10.64.0.17', workers: 0, useIndex: false });
    assert.ok(plain.packets > 0);
    assert.deepEqual([damaged.packets, damaged.bytes, damaged.blocksSkipped], [plain.packets, plain.bytes, 0]);
  }, 12_000));

test('one-address filters are planned and estimated straight from the encoded lists: same plan and counts as through the selector', () =>
  withCapture((path) => {
    // A tight budget too, so some blocks keep no list for a host (whole-block answers).
    for (const postingBudget of [undefined, 0.003]) {
      const { index } = buildIndex(path, { postingBudget, persist: false });
      const t0 = index.blocks[1]!.first;
      const t1 = index.blocks[index.blocks.length - 2]!.last;
      const windows: Array<[Timestamp | null, Timestamp | null]> = [
        [null, null],
        [{ sec: t0.sec, nsec: t0.nsec + 1 }, t1],
      ];
      const exprs = ['host 10.64.0.17', 'src host 10.64.0.33', 'host 10.1.0.53', 'host 192.0.2.99', 'ip host 10.64.1.4', 'host 10.64.0.4'];
      let sparse = 0;
      for (const expr of exprs) {
        const fast = compileCandidates(parseFilter(expr));
        assert.ok(fast.single, `${expr}: one address`);
        // The same selector without the marker takes the general path (arrays of offsets).
        const general = (b: IndexBlock): ReturnType<typeof fast> => fast(b);
        for (const [from, to] of windows) {
          const what = `${expr} [${from?.sec ?? '-'}, ${to?.sec ?? '-'}) budget ${postingBudget ?? 'default'}`;
          assert.deepEqual(planReads(index, fast, from, to), planReads(index, general, from, to), what);
          assert.deepEqual(estimateIndex(index, fast, from, to), estimateIndex(index, general, from, to), what);
          sparse += planReads(index, fast, from, to).ranges.length;
        }
      }
      assert.ok(sparse > 0, 'some plans read listed records');
    }
    assert.equal(compileCandidates(parseFilter('net 10.64.0.0/28')).single, undefined);
    assert.equal(compileCandidates(parseFilter('host 10.64.0.17 and udp')).single, undefined);
    assert.equal(compileCandidates(parseFilter('ip6 host 2001:db8::1')).single?.family, 6);
  }, 12_000));
