import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openCapture, readerFromBytes } from './reader.js';
import { payload, pcapBytes } from './reader.fixture.js';
import type { PacketView } from './types.js';
import { PcapWriter, PcapngWriter } from './writer.js';

function packet(sec: number, nsec: number, data: Uint8Array, linkType = 1, origLen = data.length): PacketView {
  return { sec, nsec, caplen: data.length, origLen, linkType, data, interfaceId: 0, offset: 0 };
}

const packets = [
  packet(1_700_000_000, 123_456_789, payload(60, 1)),
  packet(1_700_000_000, 999_999_999, payload(3, 2), 1, 1514),
  packet(4_294_967_295, 1, payload(70_000, 3)), // bigger than the 64 KiB buffer used below
];

function readBack(bytes: Uint8Array): [number, number, number, number, number, number[]][] {
  const r = readerFromBytes(bytes);
  const out: [number, number, number, number, number, number[]][] = [];
  for (let p = r.next(); p; p = r.next()) out.push([p.sec, p.nsec, p.origLen, p.linkType, p.caplen, [...p.data.subarray(0, 8)]]);
  assert.deepEqual(r.problems, []);
  return out;
}

test('PcapWriter µs writes the header mergecap writes and truncates ns to µs', () => {
  const { writer, sink } = PcapWriter.inMemory({ linkType: 1, bufferSize: 65_536 });
  for (const p of packets) writer.write(p);
  writer.close();
  const bytes = sink.bytes();
  assert.deepEqual([...bytes.subarray(0, 24)], [0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 1, 0, 0, 0]);
  assert.deepEqual(
    readBack(bytes).map((r) => r.slice(0, 5)),
    [
      [1_700_000_000, 123_456_000, 60, 1, 60],
      [1_700_000_000, 999_999_000, 1514, 1, 3],
      [4_294_967_295, 0, 70_000, 1, 70_000],
    ],
  );
  assert.equal(writer.packets, 3);
});

test('PcapWriter output equals hand-made bytes for the same packets (ns)', () => {
  const { writer, sink } = PcapWriter.inMemory({ linkType: 113, nanosecond: true, snaplen: 65535 });
  writer.write(packet(10, 20, payload(5), 113));
  writer.write(packet(11, 999_999_999, payload(9, 1), 113));
  writer.close();
  const expected = pcapBytes({
    nano: true,
    linkType: 113,
    packets: [
      { sec: 10, frac: 20, data: payload(5) },
      { sec: 11, frac: 999_999_999, data: payload(9, 1) },
    ],
  });
  assert.deepEqual(sink.bytes(), expected);
});

test('PcapWriter refuses a second link type with a message saying what to do', () => {
  const { writer } = PcapWriter.inMemory({ linkType: 1 });
  assert.throws(() => writer.write(packet(1, 0, payload(4), 113)), /one link type \(1\).*113.*pcapng/);
});

test('PcapngWriter: ns and µs resolution, one interface per link type + snaplen, exact 2106 times', () => {
  for (const nanosecond of [false, true]) {
    const { writer, sink } = PcapngWriter.inMemory({ nanosecond, bufferSize: 65_536 });
    writer.write(packets[0] as PacketView, 65535);
    writer.write(packet(4_294_967_296, 123_456_789, payload(5, 9), 113), 262144);
    writer.write(packets[2] as PacketView, 65535);
    writer.write(packet(1, 5, payload(1, 9), 1), 96);
    writer.close();
    const r = readerFromBytes(sink.bytes());
    const seen: number[][] = [];
    for (let p = r.next(); p; p = r.next()) seen.push([p.sec, p.nsec, p.linkType, p.interfaceId, p.caplen]);
    assert.deepEqual(r.problems, []);
    assert.equal(r.nanosecond, nanosecond);
    const frac = (ns: number) => (nanosecond ? ns : Math.floor(ns / 1000) * 1000);
    assert.deepEqual(seen, [
      [1_700_000_000, frac(123_456_789), 1, 0, 60],
      [4_294_967_296, frac(123_456_789), 113, 1, 5],
      [4_294_967_295, frac(1), 1, 0, 70_000],
      [1, frac(5), 1, 2, 1],
    ]);
    assert.deepEqual(r.linkTypes, [1, 113]);
  }
});

test('writers to files: what is read back is what was written', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-writer-'));
  try {
    const path = join(dir, 'out.pcap');
    const w = PcapWriter.toFile(path, { linkType: 1, nanosecond: true });
    for (const p of packets) w.write(p);
    w.close();
    const fromFile = readBack(readFileSync(path));
    assert.equal(fromFile.length, 3);
    assert.deepEqual(fromFile[2]?.slice(0, 2), [4_294_967_295, 1]);
    const r = openCapture(path);
    assert.equal(r.nanosecond, true);
    r.close();
    assert.throws(() => PcapWriter.toFile(join(dir, 'missing', 'x.pcap'), { linkType: 1 }), /missing\/x\.pcap: cannot create output/);
    // An open descriptor stays open after close(): the caller owns it.
    const fdPath = join(dir, 'fd.pcapng');
    const fd = openSync(fdPath, 'w');
    const byFd = PcapngWriter.toFile(fd, {});
    byFd.write(packets[0] as PacketView);
    byFd.close();
    writeSync(fd, new Uint8Array(0));
    closeSync(fd);
    assert.equal(readBack(readFileSync(fdPath)).length, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
