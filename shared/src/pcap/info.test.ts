import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { captureInfo, formatInfo, infoToJson } from './info.js';
import { PcapngBuilder, payload, pcapBytes } from './reader.fixture.js';

test('info: earliest/latest times, sizes, order, problems, link types', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-info-'));
  try {
    const a = join(dir, 'a.pcap');
    const bytes = pcapBytes({
      nano: true,
      packets: [
        { sec: 20, frac: 5, data: payload(10) },
        { sec: 10, frac: 7, data: payload(20) }, // backwards
        { sec: 30, frac: 1, data: payload(30) },
      ],
    });
    writeFileSync(a, bytes.subarray(0, bytes.length - 3));
    const info = captureInfo(a);
    assert.equal(info.fileType, 'nsecpcap');
    assert.equal(info.packets, 2);
    assert.equal(info.dataBytes, 30);
    assert.equal(info.capturedBytes, 30);
    assert.equal(info.fileBytes, bytes.length - 3);
    assert.deepEqual(info.first, { sec: 10, nsec: 7 });
    assert.deepEqual(info.last, { sec: 20, nsec: 5 });
    assert.equal(info.ordered, false);
    assert.equal(info.problems.length, 1);
    assert.match(formatInfo(info), /First: +1970-01-01T00:00:10\.000000007Z[\s\S]*Problem: +at 86: record at 86 wants 30 bytes, 27 left/);
    assert.deepEqual(infoToJson(info).first, { iso: '1970-01-01T00:00:10.000000007Z', sec: 10, nsec: 7 });

    const b = join(dir, 'b.pcapng');
    writeFileSync(b, new PcapngBuilder().section().interface(1, 0).interface(276, 0).epb(1, 5_000_000n, payload(4)).bytes());
    const ng = captureInfo(b);
    assert.equal(ng.fileType, 'pcapng');
    assert.deepEqual(ng.linkTypes, [
      { id: 1, name: 'EN10MB' },
      { id: 276, name: 'LINUX_SLL2' },
    ]);
    assert.deepEqual([ng.packets, ng.first?.sec, ng.ordered], [1, 5, true]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
