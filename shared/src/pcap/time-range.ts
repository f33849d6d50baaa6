/**
 * The quick time range of a capture, without reading the whole file: the agent's availability
 * scan and extract's file selection call it for every file.
 *
 * `first` is the EARLIEST packet time among the packets of the head window (the first 1 MiB),
 * `last` the LATEST among the packets of the tail window (the last 1 MiB): packets slightly
 * out of order near either end (multi-queue NICs) are accounted for. When the file is read whole
 * (small files, no sane tail chain) they are the exact earliest/latest, as capinfos prints.
 * A time that jumps far back in the MIDDLE of a big file is seen only by a full read or by the
 * sidecar index (whose per-block spans are exact).
 *
 * - Classic pcap tail: the tail window is searched for the record chain that ends exactly at end
 *   of file (every record sane: caplen ≤ max, fraction in range, time not before the first
 *   packet minus a year). Failing that, a chain that ends in a truncated record (reported as a
 *   problem, like a full read would). Failing that too, the whole file is read.
 * - pcapng tail: the same search over 4-byte-aligned block starts (block length sane, trailing
 *   length equal); a cut last block is the problem. An interface or section block in the tail
 *   (interfaces may differ from the head's), or no chain, falls back to reading the whole file.
 */
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { PcapParser, PCAP_FILE_HEADER_LENGTH, PCAP_RECORD_HEADER_LENGTH, parsePcapFileHeader } from './pcap-format.js';
import { BLOCK_EPB, BLOCK_IDB, BLOCK_OPB, BLOCK_SHB, BLOCK_SPB, MAX_BLOCK_LENGTH, PcapngParser } from './pcapng-format.js';
import { openCapture } from './reader.js';
import { compareTimestamps, copyTimestamp } from './timestamp.js';
import type { CaptureProblem, PacketView, Timestamp } from './types.js';

export interface CaptureTimeRange {
  format: 'pcap' | 'pcapng';
  /** Earliest packet time of the head window (of the file, when read whole); null without packets. */
  first: Timestamp | null;
  /** Latest packet time of the tail window (of the file, when read whole). */
  last: Timestamp | null;
  /** Damage met (a truncated tail, …); the times are those of the valid packets. */
  problems: CaptureProblem[];
  /** File size in bytes. */
  bytes: number;
  /** True when the whole file was read (small file, no sane tail chain): times are exact. */
  fullScan: boolean;
  packets?: never;
}

/** Bytes of the head and of the tail looked at (room for the largest record, 256 KiB + header). */
export const TAIL_WINDOW = 1024 * 1024;
const YEAR = 366 * 86_400;

/**
 * @throws CaptureFormatError / fs errors like openCapture (nothing valid to report).
 * @example
 * const { first, last, problems } = captureTimeRange('/var/capture/eth0-20260101.pcap');
 */
export function captureTimeRange(path: string): CaptureTimeRange {
  const size = statSync(path).size;
  if (size <= 2 * TAIL_WINDOW) return fullScan(path);
  const reader = openCapture(path, { bufferSize: 64 * 1024 });
  const format = reader.format;
  const head = new Span();
  try {
    for (let p = reader.next(); p && p.offset < TAIL_WINDOW; p = reader.next()) head.add(p);
  } finally {
    reader.close();
  }
  if (head.empty) return fullScan(path);
  const fd = openSync(path, 'r');
  let tail: Tail | null;
  try {
    tail = format === 'pcap' ? pcapTail(fd, size, path, head.min) : pcapngTail(fd, size, path);
  } finally {
    closeSync(fd);
  }
  if (!tail) return fullScan(path);
  return { format, first: head.min, last: tail.last, problems: tail.problems, bytes: size, fullScan: false };
}

/** Earliest and latest of the times added. */
class Span {
  min: Timestamp = { sec: 0, nsec: 0 };
  max: Timestamp = { sec: 0, nsec: 0 };
  empty = true;

  add(t: Timestamp): void {
    if (this.empty || compareTimestamps(t, this.min) < 0) this.min = copyTimestamp(t);
    if (this.empty || compareTimestamps(t, this.max) > 0) this.max = copyTimestamp(t);
    this.empty = false;
  }
}

/** Reads every packet: exact earliest, latest and problems. */
function fullScan(path: string): CaptureTimeRange {
  const reader = openCapture(path);
  try {
    const span = new Span();
    for (let p = reader.next(); p; p = reader.next()) span.add(p);
    return {
      format: reader.format,
      first: span.empty ? null : span.min,
      last: span.empty ? null : span.max,
      problems: [...reader.problems],
      bytes: statSync(path).size,
      fullScan: true,
    };
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
      if (len < 0) continue;
      if (i + len <= n) {
        if (ok[i + len] === 1) {
          ok[i] = 1;
          earliest = i;
        }
      } else if (allowTruncated) {
        ok[i] = 1; // a truncated last record: it may end a chain, never start one
      }
    }
    if (earliest < 0) continue;
    // Walk the chain forward: the latest time of its whole records, and what follows them.
    const out = { sec: 0, nsec: 0, caplen: 0, origLen: 0, linkType: 0, data: buf, interfaceId: 0, offset: 0 } as PacketView;
    const span = new Span();
    let i = earliest;
    while (i < n) {
      const len = sane(i);
      if (len < 0 || i + len > n) break;
      parser.step(buf, view, i, n, start, out);
      span.add(out);
      i += len;
    }
    if (span.empty) continue;
    const problems: CaptureProblem[] = [];
    if (i < n) problems.push(parser.truncation(view, i, n - i, start + i));
    return { last: span.max, problems };
  }
  return null;
}

/**
 * pcapng: the same chain search over 4-byte-aligned offsets (blocks start 4-aligned from the SHB
 * at 0): ok[i] when the block at i has a sane length, its trailing length matches and the chain
 * continues to the end (pass 2: or into a cut last block). Interfaces and resolutions come from
 * the head; an interface or section block in the tail chain makes it give up (null → full read).
 */
function pcapngTail(fd: number, size: number, path: string): Tail | null {
  const head = readAt(fd, 0, Math.min(size, 1024 * 1024));
  const headView = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const parser = new PcapngParser(path, []);
  const out = { sec: 0, nsec: 0, caplen: 0, origLen: 0, linkType: 0, data: head, interfaceId: 0, offset: 0 } as PacketView;
  let le = true;
  for (let pos = 0; ;) {
    const type = pos + 8 <= head.length ? headView.getUint32(pos, true) : -1;
    if (type === BLOCK_SHB) le = headView.getUint32(pos + 8, true) === 0x1a2b3c4d;
    const r = parser.step(head, headView, pos, head.length, 0, out);
    if (r <= 0 || parser.hasPacket) break;
    pos += r;
  }
  const interfaces = parser.interfaces.length;
  const start = (size - TAIL_WINDOW) & ~3;
  const buf = readAt(fd, start, size - start);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = buf.length;
  const lengthAt = (i: number): number => {
    const length = view.getUint32(i + 4, le);
    return length >= 12 && length % 4 === 0 && length <= MAX_BLOCK_LENGTH ? length : -1;
  };
  for (const allowCut of [false, true]) {
    const ok = new Uint8Array(n + 1);
    ok[n] = 1;
    if (allowCut) ok.fill(1, Math.max(0, n - 11), n); // a partial block header at the cut ends a chain
    let earliest = -1;
    for (let i = (n - 12) & ~3; i >= 0; i -= 4) {
      const length = lengthAt(i);
      if (length < 0) continue;
      if (i + length <= n) {
        if (view.getUint32(i + length - 4, le) === length && ok[i + length] === 1) {
          ok[i] = 1;
          earliest = i;
        }
      } else if (allowCut) {
        ok[i] = 1; // a cut last block: it may end a chain, never start one
      }
    }
    if (earliest < 0) continue;
    const span = new Span();
    let i = earliest;
    while (i + 12 <= n) {
      const length = lengthAt(i);
      if (length < 0 || i + length > n) break;
      const type = view.getUint32(i, le);
      if (type === BLOCK_SHB || type === BLOCK_IDB) return null;
      if (type === BLOCK_EPB || type === BLOCK_OPB || type === BLOCK_SPB) {
        const r = parser.step(buf, view, i, i + length, start, out);
        if (r <= 0 || !parser.hasPacket || parser.interfaces.length !== interfaces || out.linkType === -1) return null;
        span.add(out);
      }
      i += length;
    }
    if (span.empty) continue;
    const problems = i < n ? [parser.truncation(view, i, n - i, start + i)] : [];
    return { last: span.max, problems };
  }
  return null;
}
