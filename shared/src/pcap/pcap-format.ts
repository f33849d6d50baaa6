/**
 * Classic pcap (libpcap savefile): file header and record parsing over byte chunks. Pure: no I/O.
 *
 * Layout: a 24-byte file header (magic, version, snaplen, link type), then records of a 16-byte
 * header (ts_sec, ts_usec|ts_nsec, caplen, origlen) followed by `caplen` bytes. The magic tells
 * byte order (as written) and µs (0xa1b2c3d4) or ns (0xa1b23c4d) resolution.
 */
import { CaptureFormatError } from './reader-error.js';
import type { CaptureProblem, PacketView } from './types.js';

export const PCAP_FILE_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;
export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
/** libpcap's largest sane capture length; a bigger caplen (beyond the snaplen) is damage. */
export const MAX_CAPLEN = 262_144;
/** Upper bound even when a header claims a huge snaplen: keeps one corrupt record from allocating gigabytes. */
const HARD_MAX_CAPLEN = 64 * 1024 * 1024;
/** The link type is the low 26 bits of the header field (the rest holds FCS information). */
export const LINKTYPE_MASK = 0x03ff_ffff;

export interface PcapFileHeader {
  littleEndian: boolean;
  nanosecond: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  /** LINKTYPE_* (low 26 bits of the header field). */
  linkType: number;
}

/** 'pcap', 'pcapng' or null from the first four bytes of a file. */
export function sniffFormat(bytes: Uint8Array): 'pcap' | 'pcapng' | null {
  if (bytes.length < 4) return null;
  const view = new DataView(bytes.buffer, bytes.byteOffset, 4);
  const le = view.getUint32(0, true);
  const be = view.getUint32(0, false);
  if (be === 0x0a0d0d0a) return 'pcapng';
  for (const magic of [PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO]) if (le === magic || be === magic) return 'pcap';
  return null;
}

/**
 * Throws the CaptureFormatError that fits a file whose start is not a known capture format.
 * Names compressed files explicitly so users know to decompress.
 */
export function rejectUnknownFormat(file: string, head: Uint8Array): never {
  if (head.length === 0) throw new CaptureFormatError(file, 'EMPTY', 'empty file (0 bytes), not a capture');
  if (head.length < 4) throw new CaptureFormatError(file, 'TRUNCATED_HEADER', `only ${head.length} bytes, too short for a capture header`);
  if (head[0] === 0x1f && head[1] === 0x8b) throw new CaptureFormatError(file, 'COMPRESSED', 'gzip-compressed; decompress it first');
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) {
    throw new CaptureFormatError(file, 'COMPRESSED', 'zstd-compressed; decompress it first');
  }
  const magic = Array.from(head.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join('');
  throw new CaptureFormatError(file, 'UNKNOWN_FORMAT', `unknown file format (magic 0x${magic}): not pcap or pcapng`);
}

/**
 * Parses the 24-byte classic pcap file header.
 * @throws CaptureFormatError TRUNCATED_HEADER when fewer than 24 bytes, UNKNOWN_FORMAT for a bad magic.
 * @example
 * const h = parsePcapFileHeader(bytes, 'a.pcap'); // { littleEndian: true, nanosecond: false, snaplen: 65535, linkType: 1, ... }
 */
export function parsePcapFileHeader(bytes: Uint8Array, file: string): PcapFileHeader {
  if (sniffFormat(bytes) !== 'pcap') rejectUnknownFormat(file, bytes);
  if (bytes.length < PCAP_FILE_HEADER_LENGTH) {
    throw new CaptureFormatError(file, 'TRUNCATED_HEADER', `short global header: ${bytes.length} of ${PCAP_FILE_HEADER_LENGTH} bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, PCAP_FILE_HEADER_LENGTH);
  const magicLe = view.getUint32(0, true);
  const littleEndian = magicLe === PCAP_MAGIC_MICRO || magicLe === PCAP_MAGIC_NANO;
  const magic = view.getUint32(0, littleEndian);
  return {
    littleEndian,
    nanosecond: magic === PCAP_MAGIC_NANO,
    versionMajor: view.getUint16(4, littleEndian),
    versionMinor: view.getUint16(6, littleEndian),
    snaplen: view.getUint32(16, littleEndian),
    linkType: view.getUint32(20, littleEndian) & LINKTYPE_MASK,
  };
}

/**
 * Steps through classic pcap records in a chunk. The reader owns the buffer; this owns the format.
 * `step` contract (shared with PcapngParser):
 * - returns n > 0: n bytes consumed; when `hasPacket`, `out` was filled with the packet;
 * - returns -n: needs n bytes available from `pos` to make progress (caller refills or hits EOF);
 * - returns 0: unrecoverable damage, recorded in `problems`; stop reading.
 */
export class PcapParser {
  readonly format = 'pcap' as const;
  readonly nanosecond: boolean;
  readonly snaplen: number;
  readonly linkTypes: number[];
  readonly headerLength = PCAP_FILE_HEADER_LENGTH;
  hasPacket = false;
  private readonly littleEndian: boolean;
  private readonly linkType: number;
  private readonly maxCaplen: number;
  private readonly fracToNsec: number;

  constructor(
    header: PcapFileHeader,
    readonly file: string,
    readonly problems: CaptureProblem[],
  ) {
    this.littleEndian = header.littleEndian;
    this.nanosecond = header.nanosecond;
    this.snaplen = header.snaplen;
    this.linkType = header.linkType;
    this.linkTypes = [header.linkType];
    this.maxCaplen = Math.min(Math.max(MAX_CAPLEN, header.snaplen), HARD_MAX_CAPLEN);
    this.fracToNsec = header.nanosecond ? 1 : 1000;
  }

  step(buf: Uint8Array, view: DataView, pos: number, end: number, base: number, out: PacketView): number {
    const avail = end - pos;
    if (avail < PCAP_RECORD_HEADER_LENGTH) return -PCAP_RECORD_HEADER_LENGTH;
    const le = this.littleEndian;
    const caplen = view.getUint32(pos + 8, le);
    if (caplen > this.maxCaplen) {
      const at = base + pos;
      this.problems.push({ file: this.file, offset: at, reason: `absurd caplen ${caplen} at ${at}` });
      return 0;
    }
    const total = PCAP_RECORD_HEADER_LENGTH + caplen;
    if (avail < total) return -total;
    let sec = view.getUint32(pos, le);
    let nsec = view.getUint32(pos + 4, le) * this.fracToNsec;
    if (nsec >= 1_000_000_000) {
      // Out-of-range fraction (seen in the wild): carry whole seconds like wiretap displays it.
      sec += Math.floor(nsec / 1_000_000_000);
      nsec %= 1_000_000_000;
    }
    out.sec = sec;
    out.nsec = nsec;
    out.caplen = caplen;
    out.origLen = view.getUint32(pos + 12, le);
    out.linkType = this.linkType;
    out.interfaceId = 0;
    out.offset = base + pos;
    out.data = buf.subarray(pos + PCAP_RECORD_HEADER_LENGTH, pos + total);
    this.hasPacket = true;
    return total;
  }

  /** The problem for a file that ends `avail` bytes into the record at `offset`. */
  truncation(view: DataView, pos: number, avail: number, offset: number): CaptureProblem {
    if (avail < PCAP_RECORD_HEADER_LENGTH) {
      return { file: this.file, offset, reason: `partial record header at ${offset}` };
    }
    const wants = view.getUint32(pos + 8, this.littleEndian);
    return { file: this.file, offset, reason: `record at ${offset} wants ${wants} bytes, ${avail - PCAP_RECORD_HEADER_LENGTH} left` };
  }
}
