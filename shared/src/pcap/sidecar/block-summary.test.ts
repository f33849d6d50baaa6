import { test } from 'node:test';
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { BlockAccumulator, IndexBlock, ipv6Key } from './block-summary.js';
import { decodeSidecar, decodeSidecarHeader, encodeSidecar, SIDECAR_VERSION } from './file-format.js';

function v6(i: number): Uint8Array {
  const a = new Uint8Array(16);
  a[0] = 0x20;
  a[1] = 0x01;
  a[14] = i >> 8;
  a[15] = i & 0xff;
  return a;
}

test('big blocks switch to Bloom filters / a port bitmap without false negatives', () => {
  const acc = new BlockAccumulator(24);
  for (let i = 0; i < 5000; i++) acc.ipv4.add((0x0a000000 + i * 7) >>> 0);
  for (let i = 0; i < 3000; i++) acc.ports.add(i * 20);
  for (let i = 0; i < 1000; i++) acc.ipv6.add(ipv6Key(v6(i), 0));
  acc.protos.add(6).add(17);
  acc.time(100, 5);
  acc.time(90, 1);
  const record = acc.finish(1 << 20);
  assert.equal(record.ipv4, null);
  assert.ok(record.ipv4Bloom && record.portBitmap && record.ipv6Bloom);
  // Round trip through the sidecar file format.
  const data = decodeSidecar(
    encodeSidecar({
      version: SIDECAR_VERSION,
      capture: { size: 1 << 20, mtimeMs: 1, headCrc: 2 },
      format: 'pcap',
      linkTypes: [1],
      packets: 2,
      first: record.first,
      last: record.last,
      problems: [],
      blockBytes: 1 << 20,
      blocks: [record],
    }),
  );
  const block = new IndexBlock(data.blocks[0]!);
  assert.deepEqual([block.first, block.last, block.packets], [{ sec: 90, nsec: 1 }, { sec: 100, nsec: 5 }, 2]);
  for (let i = 0; i < 5000; i++) assert.ok(block.mayHaveIpv4((0x0a000000 + i * 7) >>> 0, 0xffffffff));
  for (let i = 0; i < 1000; i++) assert.ok(block.mayHaveIpv6(v6(i), 128));
  let falsePositives = 0;
  for (let i = 0; i < 10_000; i++) if (block.mayHaveIpv4((0xc0a80000 + i) >>> 0, 0xffffffff)) falsePositives++;
  assert.ok(falsePositives < 500, `${falsePositives} false positives in 10 000`);
  assert.equal(block.mayHaveIpv4(0xc0a80000, 0xffff0000), true, 'a masked query on a Bloom filter answers "may"');
  assert.equal(block.mayHavePort(20, 20), true);
  assert.equal(block.mayHavePort(21, 39), false, 'the port bitmap is exact');
  assert.equal(block.mayHavePort(59_981, 65_535), false);
  assert.equal(block.mayHaveIpProto(6), true);
  assert.equal(block.mayHaveIpProto(1), false);
  assert.equal(block.mayHaveIpv6(v6(1), 64), true, 'prefix queries answer "may"');
});

test('small blocks keep exact lists; masked IPv4 queries are exact on them', () => {
  const acc = new BlockAccumulator(24);
  acc.ipv4.add(0x0a000105).add(0xc0a80a01);
  acc.ports.add(53).add(443);
  acc.time(1, 0);
  const block = new IndexBlock(acc.finish(100));
  assert.ok(block.record.ipv4 && block.record.ports);
  assert.equal(block.mayHaveIpv4(0x0a000100, 0xffffff00), true);
  assert.equal(block.mayHaveIpv4(0x0a000200, 0xffffff00), false);
  assert.equal(block.mayHaveIpv4(0xc0a80000, 0xffff0000), true);
  assert.equal(block.mayHaveIpv4(0xc0a80a02, 0xffffffff), false);
  assert.equal(block.mayHavePort(50, 60), true);
  assert.equal(block.mayHavePort(54, 442), false);
  assert.equal(block.mayHaveIpv6(v6(1), 128), false);
  assert.equal(block.mayOverlap({ sec: 1, nsec: 1 }, null), false);
  assert.equal(block.mayOverlap(null, { sec: 1, nsec: 0 }), true);
});

test('sidecar format: an older version and a layout that does not fit are refused, naming why', () => {
  const acc = new BlockAccumulator(24);
  acc.ipv4.add(0x0a000105);
  acc.time(1, 0);
  const encoded = encodeSidecar({
    version: SIDECAR_VERSION,
    capture: { size: 100, mtimeMs: 1, headCrc: 2 },
    format: 'pcapng',
    linkTypes: [1, 113],
    packets: 1,
    first: { sec: 1, nsec: 0 },
    last: { sec: 1, nsec: 0 },
    problems: [{ file: 'f', offset: 90, reason: 'truncated' }],
    blockBytes: 1 << 20,
    blocks: [acc.finish(100)],
  });
  const decoded = decodeSidecar(encoded);
  assert.deepEqual([decoded.format, decoded.linkTypes, decoded.problems], ['pcapng', [1, 113], [{ file: 'f', offset: 90, reason: 'truncated' }]]);
  // Views on an unaligned copy still decode (the decoder realigns).
  const unaligned = new Uint8Array(encoded.length + 1).subarray(1);
  unaligned.set(encoded);
  assert.deepEqual(decodeSidecar(unaligned).blocks[0]?.ipv4, Uint32Array.of(0x0a000105));

  // Damage that the checksums cannot see (both resealed): the layout checks still refuse it.
  const headerBytes = new DataView(encoded.buffer).getUint32(12, true);
  const resealed = (mutate: (b: Uint8Array, v: DataView) => void): Uint8Array => {
    const b = Uint8Array.from(encoded);
    const v = new DataView(b.buffer);
    mutate(b, v);
    v.setUint32(headerBytes - 4, crc32(b.subarray(0, headerBytes - 4)), true);
    v.setUint32(b.length - 4, crc32(b.subarray(0, b.length - 4)), true);
    return b;
  };
  assert.throws(
    () =>
      decodeSidecar(
        resealed((b) => {
          b[6] = 1;
        }),
      ),
    /index format version 1 is older than this version.s 3/,
  );
  assert.throws(() => decodeSidecar(resealed((_, v) => v.setUint32(76, 1000, true))), /block table does not fit/);
  assert.throws(() => decodeSidecar(resealed((_, v) => v.setUint32(80, 4000, true))), /header lengths do not fit/);
  assert.throws(() => decodeSidecar(resealed((_, v) => v.setUint32(headerBytes + 52, 4000, true))), /summary outside the file/);
  assert.throws(() => decodeSidecar(encoded.subarray(0, 50)), /bad magic/);

  // The header stands alone (extract reads only it to skip a file by time), under its own checksum.
  assert.deepEqual(decodeSidecarHeader(encoded.subarray(0, headerBytes)).linkTypes, [1, 113]);
  assert.throws(() => decodeSidecarHeader(encoded.subarray(0, headerBytes - 8)), /header of \d+ bytes, only \d+ present/);
  const flipped = Uint8Array.from(encoded);
  flipped[50]! ^= 1; // first.sec
  assert.throws(() => decodeSidecarHeader(flipped), /header checksum mismatch/);
});
