import { test } from 'node:test';
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodePacket, newDecodedPacket } from '../decode.js';
import { writeCapture } from '../gen/output.js';
import { openCapture } from '../reader.js';
import { L3 } from '../types.js';
import { ipv6Key } from './block-summary.js';
import { buildIndexData, encodeSidecar, isStillBeingWritten, loadIndex, loadIndexHeader, openIndex, sidecarPath } from './index.js';
import { SIDECAR_HEADER_PROBE } from './file-format.js';

function withCapture(fn: (path: string, dir: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-sidecar-'));
  try {
    const path = join(dir, 'gen.pcap');
    writeCapture(path, { seed: 3, bytes: 6 * 1024 * 1024 });
    fn(path, dir);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('index: ≤ 3 % of the capture, blocks tile it, and every present address/port/protocol is found', () => {
  withCapture((path) => {
    const opened = openIndex(path);
    assert.equal(opened.status, 'built');
    assert.equal(opened.persistError, undefined);
    const { index } = opened;
    const size = statSync(path).size;
    const sidecarSize = statSync(sidecarPath(path)).size;
    assert.ok(sidecarSize <= size * 0.03, `sidecar ${sidecarSize} bytes for a ${size}-byte capture (${((100 * sidecarSize) / size).toFixed(2)} %)`);
    assert.ok(index.blocks.length >= 5, `${index.blocks.length} blocks`);
    for (let i = 1; i < index.blocks.length; i++) assert.equal(index.blocks[i]?.offset, index.blocks[i - 1]?.end);
    assert.equal(index.blocks.at(-1)?.end, size);

    // Walk the capture: each packet's facts must be "may have" in its block; times inside the block's span.
    const reader = openCapture(path);
    const d = newDecodedPacket();
    let b = 0;
    let packets = 0;
    for (let p = reader.next(); p; p = reader.next()) {
      while (p.offset >= (index.blocks[b]?.end ?? Infinity)) b++;
      const block = index.blocks[b];
      assert.ok(block && p.offset >= block.offset);
      assert.ok(block.mayOverlap(p, p));
      decodePacket(p, d);
      if (d.src4 >= 0) assert.ok(block.mayHaveIpv4(d.src4, 0xffffffff) && block.mayHaveIpv4(d.src4, 0xffffff00));
      if (d.l3 === L3.IPV6 && d.dst6Offset >= 0) assert.ok(block.mayHaveIpv6(p.data.subarray(d.dst6Offset, d.dst6Offset + 16), 128));
      if (d.dport >= 0) assert.ok(block.mayHavePort(d.dport, d.dport));
      if (d.ipProto >= 0) assert.ok(block.mayHaveIpProto(d.ipProto));
      packets++;
    }
    reader.close();
    assert.equal(index.packets, packets);

    // Absent things are ruled out (the generator never uses 192.0.2.99, port 7, proto 132).
    const first = index.blocks[0];
    assert.ok(first);
    assert.equal(first.mayHaveIpv4(0xc0000263, 0xffffffff), false);
    assert.equal(first.mayHavePort(7, 7), false);
    assert.equal(first.mayHaveIpProto(132), false);
    assert.equal(first.mayHaveIpv6(new Uint8Array(16).fill(0xee), 128), false);
    assert.equal(first.mayOverlap({ sec: 0, nsec: 0 }, { sec: 1, nsec: 0 }), false);
    assert.equal(index.mayOverlap({ sec: 2_000_000_000, nsec: 0 }, null), false);
    assert.ok(ipv6Key(new Uint8Array(16), 0) <= Number.MAX_SAFE_INTEGER);

    // Seeking to a block offset reads exactly that block's packets.
    const mid = index.blocks[2];
    assert.ok(mid);
    const r = openCapture(path);
    r.seek(mid.offset);
    let n = 0;
    for (let p = r.next(); p && p.offset < mid.end; p = r.next()) n++;
    r.close();
    assert.equal(n, mid.packets);

    assert.equal(openIndex(path).status, 'fresh');
  });
});

test('index: a corrupt or stale sidecar is detected and rebuilt, never trusted', () => {
  withCapture((path) => {
    openIndex(path);
    const side = sidecarPath(path);
    const good = readFileSync(side);

    const flipped = Uint8Array.from(good);
    flipped[Math.floor(flipped.length / 2)]! ^= 0x40;
    writeFileSync(side, flipped);
    assert.deepEqual(Object.keys(loadIndex(path)).sort(), ['reason', 'status']);
    const corrupt = openIndex(path);
    assert.equal(corrupt.status, 'rebuilt');
    assert.match(corrupt.reason ?? '', /checksum mismatch/);
    assert.deepEqual(readFileSync(side), good, 'rebuilt sidecar equals the original build');

    writeFileSync(side, good.subarray(0, new DataView(good.buffer, good.byteOffset).getUint32(12, true))); // the header only
    assert.equal(loadIndex(path).status, 'corrupt');
    assert.equal(loadIndexHeader(path).status, 'fresh', 'the header alone is intact (extract decides by time from it)');
    const badHeader = Uint8Array.from(good);
    badHeader[20]! ^= 0x01; // capture size
    writeFileSync(side, badHeader);
    assert.match((loadIndexHeader(path) as { reason: string }).reason, /header checksum mismatch/);
    writeFileSync(side, 'garbage');
    assert.match(openIndex(path).reason ?? '', /bad magic/);

    const packetsBefore = openIndex(path).index.packets;
    assert.equal(loadIndexHeader(path).status, 'fresh');
    appendFileSync(path, readFileSync(path).subarray(24, 24 + 16 + 60)); // one more (partial-looking) record
    assert.match((loadIndexHeader(path) as { reason: string }).reason, /size changed/);
    const grown = openIndex(path);
    assert.equal(grown.status, 'rebuilt');
    assert.match(grown.reason ?? '', /size changed/);
    assert.ok(grown.index.packets >= packetsBefore);

    const t = new Date(Date.now() - 60_000);
    utimesSync(path, t, t);
    const touched = openIndex(path);
    assert.equal(touched.status, 'rebuilt');
    assert.match(touched.reason ?? '', /modification time changed/);
    assert.equal(isStillBeingWritten(path), false);
    utimesSync(path, new Date(), new Date());
    assert.equal(isStillBeingWritten(path), true);
  });
});

test('index header: read alone, also when it is longer than the first read', () => {
  withCapture((path) => {
    const data = buildIndexData(path);
    const problems = Array.from({ length: 100 }, (_, i) => ({ file: path, offset: i, reason: `problem ${i}: ${'x'.repeat(60)}` }));
    writeFileSync(sidecarPath(path), encodeSidecar({ ...data, problems }));
    const loaded = loadIndexHeader(path);
    assert.equal(loaded.status, 'fresh');
    assert.ok(loaded.status === 'fresh' && loaded.header.headerBytes > SIDECAR_HEADER_PROBE);
    assert.deepEqual(loaded.status === 'fresh' && [loaded.header.problems, loaded.header.first, loaded.header.blockCount], [
      problems,
      data.first,
      data.blocks.length,
    ]);
    rmSync(path);
    assert.match((loadIndexHeader(path) as { reason: string }).reason, /capture cannot be read: .*ENOENT/, 'a capture deleted under its sidecar');
    assert.match((loadIndex(path) as { reason: string }).reason, /capture cannot be read/);
    rmSync(sidecarPath(path));
    assert.match((loadIndexHeader(path) as { reason: string }).reason, /no sidecar \(ENOENT\)/);
  });
});
