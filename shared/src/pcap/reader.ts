/**
 * Streaming capture readers over classic pcap and pcapng, from a file (sync reads into one big
 * reusable buffer) or from bytes in memory. The format parsers (pcap-format.ts,
 * pcapng-format.ts) are pure; this file owns the buffer and the file descriptor.
 *
 * Speed: one buffer (4 MiB default), `readSync` into it, a partial record carried to the front,
 * growth only for a record bigger than the buffer, one reused PacketView whose `data` is a
 * subarray of the buffer. Valid only until the next `next()` (see PacketView).
 *
 * Damage after the header never throws: reading stops, the problem (file, offset, reason) is in
 * `problems`, and every packet before it has been delivered.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { PcapParser, parsePcapFileHeader, rejectUnknownFormat, sniffFormat } from './pcap-format.js';
import { PcapngParser, checkPcapngHeader } from './pcapng-format.js';
import { CaptureFormatError } from './reader-error.js';
import type { CaptureProblem, PacketView } from './types.js';

export { CaptureFormatError } from './reader-error.js';
export type { CaptureErrorCode } from './reader-error.js';

export interface CaptureReader {
  /** For messages. */
  readonly path: string;
  readonly format: 'pcap' | 'pcapng';
  /** pcap: nanosecond magic; pcapng: any interface declared so far finer than µs. */
  readonly nanosecond: boolean;
  /** Distinct link types seen so far (pcapng: of the interfaces declared so far). */
  readonly linkTypes: number[];
  /** pcap: header snaplen; pcapng: snaplen of the first interface. */
  readonly snaplen: number;
  /** Filled as damage is met; reading stops at unrecoverable damage. */
  readonly problems: CaptureProblem[];
  /** The next packet, or null at end of file (or at unrecoverable damage, which is then in problems). */
  next(): PacketView | null;
  /**
   * Continue reading at a record/block boundary previously reported as PacketView.offset (index
   * skips). With `end`, `next()` returns null once it reaches a record at or past `end`, and reads
   * from the file no further than `end` except to complete a record that starts before it
   * (positioned reads of an index's ranges).
   */
  seek(offset: number, end?: number): void;
  close(): void;
}

export interface OpenOptions {
  /** Read buffer size in bytes (default 4 MiB); grows only for a record bigger than it. */
  bufferSize?: number;
}

const DEFAULT_BUFFER = 4 * 1024 * 1024;

/**
 * Process-wide counters of every reader (for logs, health reports and benches): packets
 * delivered, captured bytes delivered, problems met, captures opened. Updated when a reader
 * is closed or reaches its end, so the hot path only bumps two fields of its own.
 */
export const readerCounters = { captures: 0, packets: 0, bytes: 0, problems: 0 };
/** Bytes read at open: the file header, and for pcapng the interface blocks before the first packet. */
const OPEN_READ = 64 * 1024;
/** Smallest buffer: room for any file header (24 bytes pcap, 28 pcapng). */
const MIN_BUFFER = 64;

type Parser = PcapParser | PcapngParser;

/** Where bytes come from: a file descriptor, or nothing (the whole capture is already in memory). */
interface Source {
  fd: number | null;
  size: number;
}

class Reader implements CaptureReader {
  readonly problems: CaptureProblem[] = [];
  private readonly parser: Parser;
  private buf: Uint8Array;
  private view: DataView;
  /** Start of unread bytes in `buf`. */
  private pos = 0;
  /** End of valid bytes in `buf`. */
  private end = 0;
  /** File offset of buf[0]. */
  private base = 0;
  private eof = false;
  private done = false;
  /** File offset where the current range ends (seek's `end`): no record at or past it is parsed. */
  private stop = Infinity;
  private counted = false;
  private packets = 0;
  private bytes = 0;
  private readonly packet: PacketView = {
    sec: 0,
    nsec: 0,
    caplen: 0,
    origLen: 0,
    linkType: 0,
    data: new Uint8Array(0),
    interfaceId: 0,
    offset: 0,
  };

  constructor(
    readonly path: string,
    private readonly source: Source,
    buf: Uint8Array,
    end: number,
  ) {
    this.buf = buf;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.end = end;
    this.eof = source.fd === null || end >= source.size;
    const head = buf.subarray(0, end);
    const format = sniffFormat(head);
    if (format === 'pcap') {
      this.parser = new PcapParser(parsePcapFileHeader(head, path), path, this.problems);
    } else if (format === 'pcapng') {
      checkPcapngHeader(head, path);
      this.parser = new PcapngParser(path, this.problems);
    } else {
      rejectUnknownFormat(path, head);
    }
    this.pos = this.parser.headerLength;
    if (this.parser instanceof PcapngParser) this.prime();
  }

  get format(): 'pcap' | 'pcapng' {
    return this.parser.format;
  }
  get nanosecond(): boolean {
    return this.parser.nanosecond;
  }
  get linkTypes(): number[] {
    return this.parser.linkTypes;
  }
  get snaplen(): number {
    return this.parser.snaplen;
  }

  next(): PacketView | null {
    if (this.done) return null;
    const parser = this.parser;
    const out = this.packet;
    for (;;) {
      if (this.base + this.pos >= this.stop) return null;
      const r = parser.step(this.buf, this.view, this.pos, this.end, this.base, out);
      if (r > 0) {
        this.pos += r;
        if (parser.hasPacket) {
          this.packets++;
          this.bytes += out.caplen;
          return out;
        }
        continue;
      }
      if (r === 0) return this.finish();
      if (!this.eof) {
        this.fill(-r);
        continue;
      }
      const avail = this.end - this.pos;
      if (avail > 0) this.problems.push(parser.truncation(this.view, this.pos, avail, this.base + this.pos));
      return this.finish();
    }
  }

  seek(offset: number, end = Infinity): void {
    if (!Number.isInteger(offset) || offset < this.parser.headerLength || offset > this.source.size) {
      throw new RangeError(`${this.path}: cannot seek to ${offset} (file has ${this.source.size} bytes)`);
    }
    this.done = false;
    this.stop = end;
    if (offset >= this.base && offset <= this.base + this.end) {
      this.pos = offset - this.base;
      return;
    }
    // Outside the buffer: drop it and read from the new place on the next fill.
    this.base = offset;
    this.pos = 0;
    this.end = 0;
    this.eof = false;
  }

  close(): void {
    this.finish();
    if (this.source.fd !== null) {
      closeSync(this.source.fd);
      this.source.fd = null;
    }
  }

  /**
   * pcapng: consume the SHB and the interface blocks before the first packet, so `linkTypes`,
   * `snaplen` and `nanosecond` are known right after open. Stops at the first packet block.
   */
  private prime(): void {
    const parser = this.parser as PcapngParser;
    while (!this.atPacketBlock()) {
      const r = parser.step(this.buf, this.view, this.pos, this.end, this.base, this.packet);
      if (r > 0) {
        this.pos += r;
        continue;
      }
      if (r < 0 && !this.eof) {
        this.fill(-r);
        continue;
      }
      if (r === 0) this.done = true; // damage, already in problems
      return; // a truncated block: next() reports it
    }
  }

  private atPacketBlock(): boolean {
    if (this.end - this.pos < 4) return false;
    // Packet block types are 2, 3 and 6: one non-zero byte, first (LE) or last (BE).
    const type = this.view.getUint32(this.pos, true);
    const typeBe = this.view.getUint32(this.pos, false);
    return isPacketBlock(type) || isPacketBlock(typeBe);
  }

  /** Make at least `need` bytes available from `pos` (fewer only at end of file). */
  private fill(need: number): void {
    const fd = this.source.fd;
    if (fd === null) {
      this.eof = true;
      return;
    }
    const unread = this.end - this.pos;
    if (need > this.buf.length) {
      const bigger = new Uint8Array(Math.max(need, this.buf.length * 2));
      bigger.set(this.buf.subarray(this.pos, this.end));
      this.buf = bigger;
      this.view = new DataView(bigger.buffer, bigger.byteOffset, bigger.byteLength);
    } else if (this.pos > 0) {
      this.buf.copyWithin(0, this.pos, this.end);
    }
    this.base += this.pos;
    this.pos = 0;
    this.end = unread;
    while (this.end < need) {
      // Within a range (seek's `end`), read what the range still holds, or at least what is needed.
      const room = this.buf.length - this.end;
      const want = this.stop === Infinity ? room : Math.min(room, Math.max(need - this.end, this.stop - (this.base + this.end)));
      const n = readSync(fd, this.buf, this.end, want, this.base + this.end);
      if (n === 0) {
        this.eof = true;
        break;
      }
      this.end += n;
    }
    if (this.base + this.end >= this.source.size) this.eof = true;
  }

  private finish(): null {
    this.done = true;
    if (!this.counted) {
      this.counted = true;
      readerCounters.captures++;
      readerCounters.packets += this.packets;
      readerCounters.bytes += this.bytes;
      readerCounters.problems += this.problems.length;
    }
    return null;
  }
}

function isPacketBlock(type: number): boolean {
  return type === 2 || type === 3 || type === 6;
}

/**
 * Opens a capture file for streaming reads (sync I/O, one big buffer).
 * @throws CaptureFormatError (code EMPTY | UNKNOWN_FORMAT | TRUNCATED_HEADER | COMPRESSED) naming the file,
 *   or an Error with the fs `code` (ENOENT, EACCES) when it cannot be opened.
 * @example
 * const r = openCapture('/data/cap.pcapng');
 * try {
 *   for (let p = r.next(); p; p = r.next()) count += p.caplen;
 * } finally { r.close(); }
 * if (r.problems.length) console.warn(r.problems[0].reason);
 */
export function openCapture(path: string, opts: OpenOptions = {}): CaptureReader {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (cause) {
    const error = new Error(`${path}: cannot open capture: ${(cause as Error).message}`, { cause });
    Object.assign(error, { code: (cause as NodeJS.ErrnoException).code });
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw Object.assign(new Error(`${path}: not a regular file`), { code: 'EISDIR' });
    const size = stat.size;
    const buf = new Uint8Array(Math.max(opts.bufferSize ?? DEFAULT_BUFFER, MIN_BUFFER));
    // Only the head now: an indexed extract seeks away at once; a sequential read fills the rest next.
    const first = Math.min(size, buf.length, OPEN_READ);
    let end = 0;
    while (end < first) {
      const n = readSync(fd, buf, end, first - end, end);
      if (n === 0) break;
      end += n;
    }
    return new Reader(path, { fd, size }, buf, end);
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

/**
 * A reader over a capture already in memory (tests, uploads). Pure; `bytes` is never modified.
 * @throws CaptureFormatError like openCapture.
 * @example
 * const r = readerFromBytes(new Uint8Array(await file.arrayBuffer()), 'upload.pcap');
 * for (let p = r.next(); p; p = r.next()) console.log(p.sec, p.nsec, p.caplen);
 */
export function readerFromBytes(bytes: Uint8Array, name = '<memory>'): CaptureReader {
  return new Reader(name, { fd: null, size: bytes.length }, bytes, bytes.length);
}

export function isCaptureFormatError(error: unknown): error is CaptureFormatError {
  return error instanceof CaptureFormatError;
}
