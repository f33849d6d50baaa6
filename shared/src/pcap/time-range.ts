/**
 * The quick first/last packet time of a capture, without reading the whole file: the agent's
 * availability scan calls it for every file it keeps.
 *
 * "First" and "last" are the first and last packets IN FILE ORDER (for captures whose time never
 * goes backwards these are also the earliest and latest, which is what capinfos prints).
 *
 * - Head: the first record, through the normal reader.
 * - Classic pcap tail: the last 256 KiB are searched for the record chain that ends exactly at
 *   end of file (every record sane: caplen ≤ max, fraction in range, time not before the first
 *   packet minus a year). Failing that, a chain that ends in a truncated record (reported as a
 *   problem). Failing that too, the whole file is read.
 * - pcapng tail: walk back from end of file over trailing block lengths to the last packet block;
 *   a cut tail (a file still being written) is searched like classic pcap for the block chain
 *   that runs into the cut, which is then the problem. An interface or section block near the
 *   end, or no sane chain, falls back to reading the whole file.
 * Small files (≤ the tail window) are always read whole.
 */
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { PcapParser, PCAP_FILE_HEADER_LENGTH, PCAP_RECORD_HEADER_LENGTH, parsePcapFileHeader } from './pcap-format.js';
import { BLOCK_EPB, BLOCK_IDB, BLOCK_OPB, BLOCK_SHB, BLOCK_SPB, MAX_BLOCK_LENGTH, PcapngParser } from './pcapng-format.js';
import { openCapture } from './reader.js';
import { copyTimestamp } from './timestamp.js';
import type { CaptureProblem, PacketView, Timestamp } from './types.js';

export interface CaptureTimeRange {
  format: 'pcap' | 'pcapng';
  first: Timestamp | null;
  last: Timestamp | null;
  /** Damage met (a truncated tail, …); the times are those of the valid packets. */
  problems: CaptureProblem[];
  /** File size in bytes. */
  bytes: number;
  /** True when the whole file had to be read (small file, damaged pcapng tail, no sane chain). */
  fullScan: boolean;
  packets?: never;
}

/** Bytes searched at the end of a classic pcap file. */
export const TAIL_WINDOW = 256 * 1024;
const YEAR = 366 * 86_400;

/**
 * @throws CaptureFormatError / fs errors like openCapture (nothing valid to report).
 * @example
 * const { first, last, problems } = captureTimeRange('/var/capture/eth0-20260101.pcap');
 */
export function captureTimeRange(path: string): CaptureTimeRange {
  const reader = openCapture(path, { bufferSize: 64 * 1024 });
  let head: Timestamp | null;
  let format: 'pcap' | 'pcapng';
  try {
    format = reader.format;
    const p = reader.next();
    head = p ? copyTimestamp(p) : null;
  } finally {
    reader.close();
  }
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (head !== null && size > TAIL_WINDOW + PCAP_FILE_HEADER_LENGTH) {
      const tail = format === 'pcap' ? pcapTail(fd, size, path, head) : pcapngTail(fd, size, path);
      if (tail) return { format, first: head, last: tail.last, problems: tail.problems, bytes: size, fullScan: false };
    }
  } finally {
    closeSync(fd);
  }
  return fullScan(path);
}

/** Reads every packet: exact first, last and problems. */
function fullScan(path: string): CaptureTimeRange {
  const reader = openCapture(path);
  try {
    let first: Timestamp | null = null;
    const last: Timestamp = { sec: 0, nsec: 0 };
    let any = false;
    for (let p = reader.next(); p; p = reader.next()) {
      if (!any) first = copyTimestamp(p);
      any = true;
      last.sec = p.sec;
      last.nsec = p.nsec;
    }
    return { format: reader.format, first, last: any ? last : null, problems: [...reader.problems], bytes: statSync(path).size, fullScan: true };
  } finally {
    reader.close();
  }
}

function readAt(fd: number, position: number, length: number): Uint8Array {
  const buf = new Uint8Array(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return buf.subarray(0, got);
}

interface Tail {
  last: Timestamp;
  problems: CaptureProblem[];
}

/**
 * Classic pcap: dynamic programming over the window from its end backwards — `ok[i]` says a
 * sane record chain starting at i reaches the end exactly (or, in the second pass, ends in a
 * truncated record). The earliest such start is a record boundary beyond reasonable doubt.
 */
function pcapTail(fd: number, size: number, path: string, first: Timestamp): Tail | null {
  const header = parsePcapFileHeader(readAt(fd, 0, PCAP_FILE_HEADER_LENGTH), path);
  const start = size - TAIL_WINDOW;
  const buf = readAt(fd, start, TAIL_WINDOW);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const le = header.littleEndian;
  const maxFrac = header.nanosecond ? 1e9 : 1e6;
  const parser = new PcapParser(header, path, []);
  const maxCaplen = Math.max(262_144, header.snaplen);
  const minSec = first.sec - YEAR;
  const n = buf.length;
  const sane = (i: number): number => {
    // Length of the record at i when its header is sane, else -1.
    if (i + PCAP_RECORD_HEADER_LENGTH > n) return -1;
    const caplen = view.getUint32(i + 8, le);
    if (caplen > maxCaplen || view.getUint32(i + 4, le) >= maxFrac || view.getUint32(i, le) < minSec) return -1;
    return PCAP_RECORD_HEADER_LENGTH + caplen;
  };
  for (const allowTruncated of [false, true]) {
    // ok[i] = 1: a sane chain from i reaches the end (pass 2: or ends inside a truncated record).
    const ok = new Uint8Array(n + 1);
    ok[n] = 1;
    if (allowTruncated) ok.fill(1, Math.max(0, n - PCAP_RECORD_HEADER_LENGTH + 1), n);
    let earliest = -1;
    for (let i = n - PCAP_RECORD_HEADER_LENGTH; i >= 0; i--) {
      const len = sane(i);
      if (len > 0 && (i + len <= n ? ok[i + len] === 1 : allowTruncated)) {
        ok[i] = 1;
        earliest = i;
      }
    }
    if (earliest < 0) continue;
    // Walk the chain forward: the last whole record, and what follows it.
    const out = { sec: 0, nsec: 0, caplen: 0, origLen: 0, linkType: 0, data: buf, interfaceId: 0, offset: 0 } as PacketView;
    let lastAt = -1;
    let i = earliest;
    while (i < n) {
      const len = sane(i);
      if (len < 0 || i + len > n) break;
      lastAt = i;
      i += len;
    }
    if (lastAt < 0) continue;
    parser.step(buf, view, lastAt, n, start, out);
    const problems: CaptureProblem[] = [];
    if (i < n) problems.push(parser.truncation(view, i, n - i, start + i));
    return { last: copyTimestamp(out), problems };
  }
  return null;
}

/**
 * pcapng: walk back over trailing block lengths to the last packet block; when the tail is cut
 * (the trailing length is not a block's), search the last window for the block chain that runs
 * into the cut instead. An interface or section block in the way means interfaces may differ
 * from the head's: give up (null → full read).
 */
function pcapngTail(fd: number, size: number, path: string): Tail | null {
  // Interfaces (and their resolutions) come from the head: run the parser over the blocks
  // before the first packet.
  const head = readAt(fd, 0, Math.min(size, 1024 * 1024));
  const headView = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const parser = new PcapngParser(path, []);
  const out = { sec: 0, nsec: 0, caplen: 0, origLen: 0, linkType: 0, data: head, interfaceId: 0, offset: 0 } as PacketView;
  let le = true;
  for (let pos = 0; ; ) {
    const type = pos + 8 <= head.length ? headView.getUint32(pos, true) : -1;
    if (type === BLOCK_SHB) le = headView.getUint32(pos + 8, true) === 0x1a2b3c4d;
    const r = parser.step(head, headView, pos, head.length, 0, out);
    if (r <= 0 || parser.hasPacket) break;
    pos += r;
  }
  const interfaces = parser.interfaces.length;
  /** Timestamp of the packet block in `bytes` (a whole block at file offset `at`), or null. */
  const packetTime = (bytes: Uint8Array, at: number): Timestamp | null => {
    const r = parser.step(bytes, new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0, bytes.length, at, out);
    if (r <= 0 || !parser.hasPacket || parser.interfaces.length !== interfaces || out.linkType === -1) return null;
    return copyTimestamp(out);
  };
  return walkBack(fd, size, le, packetTime) ?? cutTail(fd, size, le, parser, packetTime);
}

const isPacketBlock = (type: number) => type === BLOCK_EPB || type === BLOCK_OPB || type === BLOCK_SPB;

function walkBack(fd: number, size: number, le: boolean, packetTime: (b: Uint8Array, at: number) => Timestamp | null): Tail | null {
  let end = size;
  let window = readAt(fd, Math.max(0, size - TAIL_WINDOW), Math.min(size, TAIL_WINDOW));
  let windowStart = size - window.length;
  for (let steps = 0; steps < 100_000 && end > 0; steps++) {
    if (end - 4 < windowStart) {
      const from = Math.max(0, end - TAIL_WINDOW);
      window = readAt(fd, from, end - from);
      windowStart = from;
    }
    const view = new DataView(window.buffer, window.byteOffset, window.byteLength);
    const length = view.getUint32(end - 4 - windowStart, le);
    if (length < 12 || length % 4 !== 0 || length > end) return null;
    const at = end - length;
    if (at < windowStart) {
      window = readAt(fd, at, end - at);
      windowStart = at;
      continue;
    }
    if (view.getUint32(at - windowStart + 4, le) !== length) return null;
    const type = view.getUint32(at - windowStart, le);
    if (type === BLOCK_SHB || type === BLOCK_IDB) return null;
    if (isPacketBlock(type)) {
      const last = packetTime(window.subarray(at - windowStart, end - windowStart), at);
      return last && { last, problems: [] };
    }
    end = at;
  }
  return null;
}

/**
 * A cut tail: dynamic programming over the 4-byte-aligned offsets of the last window, from its
 * end backwards — ok[i] when a block at i has a sane length, its trailing length matches, and
 * the chain continues to the cut (the last block may be partial). The earliest such offset
 * starts the chain; its last whole packet block is the last packet, the partial block the problem.
 */
function cutTail(
  fd: number, size: number, le: boolean, parser: PcapngParser,
  packetTime: (b: Uint8Array, at: number) => Timestamp | null,
): Tail | null {
  const start = Math.max(0, size - TAIL_WINDOW) & ~3;
  const buf = readAt(fd, start, size - start);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = buf.length;
  const lengthAt = (i: number): number => {
    const length = view.getUint32(i + 4, le);
    return length >= 12 && length % 4 === 0 && length <= MAX_BLOCK_LENGTH ? length : -1;
  };
  const ok = new Uint8Array(n + 1);
  ok.fill(1, Math.max(0, n - 11), n + 1); // a partial block header at the cut ends a chain
  let earliest = -1;
  for (let i = (n - 12) & ~3; i >= 0; i -= 4) {
    const length = lengthAt(i);
    if (length < 0) continue;
    const whole = i + length <= n;
    if (whole ? view.getUint32(i + length - 4, le) === length && ok[i + length] === 1 : true) {
      ok[i] = 1;
      earliest = i;
    }
  }
  if (earliest < 0) return null;
  let last: Timestamp | null = null;
  let i = earliest;
  while (i + 12 <= n) {
    const length = lengthAt(i);
    if (length < 0 || i + length > n) break;
    const type = view.getUint32(i, le);
    if (type === BLOCK_SHB || type === BLOCK_IDB) return null;
    if (isPacketBlock(type)) {
      last = packetTime(buf.subarray(i, i + length), start + i);
      if (!last) return null;
    }
    i += length;
  }
  if (!last) return null;
  const problems = i < n ? [parser.truncation(view, i, n - i, start + i)] : [];
  return { last, problems };
}
