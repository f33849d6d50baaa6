/**
 * The `.pmidx` sidecar file, version 3: a fixed little-endian binary layout that loads with one
 * read and no parsing beyond bounds checks — the block summaries become typed-array views on the
 * file's bytes. (Version 1 was CBOR; decoding it, and loading the CBOR library, cost more than the
 * rest of a selective extract. Version 2 had no posting lists. An older sidecar is refused as
 * "older than this version" and rebuilt by whoever opens it with openIndex.)
 *
 *   header   magic "PMIDX\0\3\n" · u32 version · u32 header bytes H (multiple of 8)
 *            f64 capture size · f64 capture mtimeMs · u32 head CRC · u8 format · u8 has-time ·
 *            u16 link types · f64 packets · f64 first.sec · u32 first.nsec · u32 last.nsec ·
 *            f64 last.sec · u32 blockBytes · u32 blocks · u32 problems-JSON bytes · u32 0 ·
 *            u32 link type × n · problems as JSON (UTF-8) · zero padding · u32 CRC-32 of the
 *            header's other bytes (the last 4 of H: extract decides by time from the header alone)
 *   blocks   one 88-byte record each: f64 offset · f64 end · f64 first.sec · f64 last.sec ·
 *            u32 first.nsec · u32 last.nsec · u32 packets · u32 flags · u32 data offset ·
 *            u32 ipv4 · u32 ipv6 · u32 ports · u32 protos (lengths: elements for lists, bytes for
 *            Bloom filters and the port bitmap, see flags) · u32 posting IPv4 keys n4 ·
 *            u32 posting IPv6 keys n6 · u32 posting bytes · f64 captured bytes of the block's packets
 *   data     per block, each part 8-byte aligned: IPv4 (u32 list or Bloom) · IPv6 (f64 hash list or
 *            Bloom) · ports (u16 list or 8 KiB bitmap) · IP protocols (u8 list) · posting keys
 *            u32 × n4 · starts u32 × (n4 + 1) · posting keys f64 × n6 · starts u32 × (n6 + 1) ·
 *            posting lists (varints, see postings.ts; starts index into them, ascending)
 *   trailer  u32 CRC-32 of every byte before it
 *
 * The payload identifies the capture it describes (size, mtime, CRC-32 of its first 64 KiB) so
 * a stale sidecar is recognised; the trailing CRC catches corruption.
 */
import { endianness } from 'node:os';
import { crc32 } from 'node:zlib';
import type { CaptureProblem, Timestamp } from '../types.js';
import type { BlockRecord } from './block-summary.js';
import type { BlockPostings } from './postings.js';

export const SIDECAR_MAGIC = Uint8Array.from([0x50, 0x4d, 0x49, 0x44, 0x58, 0x00, 0x03, 0x0a]); // "PMIDX\0\3\n"
export const SIDECAR_VERSION = 3;
/** Bytes of the capture's head covered by `headCrc`. */
export const HEAD_BYTES = 64 * 1024;

/** Identity of the capture file an index was built from. */
export interface CaptureIdentity {
  size: number;
  mtimeMs: number;
  headCrc: number;
}

/** Everything but the blocks: what the header holds (see decodeSidecarHeader). */
export type SidecarHeader = Omit<SidecarData, 'blocks'> & {
  /** Bytes of the header (the blocks start here). */
  headerBytes: number;
  blockCount: number;
};

export interface SidecarData {
  version: number;
  capture: CaptureIdentity;
  format: 'pcap' | 'pcapng';
  linkTypes: number[];
  packets: number;
  first: Timestamp | null;
  last: Timestamp | null;
  /** Damage met while building (the blocks cover the valid packets before it). */
  problems: CaptureProblem[];
  /** Target capture bytes per block. */
  blockBytes: number;
  blocks: BlockRecord[];
}

/** Why bytes are not a usable sidecar; thrown by decodeSidecar. */
export class CorruptSidecarError extends Error {
  constructor(reason: string, options?: ErrorOptions) {
    super(reason, options);
    this.name = 'CorruptSidecarError';
  }
}

const FIXED_HEADER = 88;
const BLOCK_RECORD = 88;
const PORT_BITMAP_BYTES = 8192;
const FLAG_MUST_READ = 1;
const FLAG_IPV4_BLOOM = 2;
const FLAG_IPV6_BLOOM = 4;
const FLAG_PORT_BITMAP = 8;
const FLAG_NO_POSTINGS = 16;
/** Typed-array views on the file work only where the host is little-endian like the file. */
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

const align8 = (n: number): number => (n + 7) & ~7;

/** The four summary parts of a block as stored: [bytes, length field]. */
function blockParts(b: BlockRecord): Array<[Uint8Array, number]> {
  const bytesOf = (a: Typed): Uint8Array => {
    const raw = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
    return LITTLE_ENDIAN_HOST || a.BYTES_PER_ELEMENT === 1 ? raw : swapped(raw.slice(), a.BYTES_PER_ELEMENT);
  };
  const v4 = b.ipv4 ?? b.ipv4Bloom;
  const v6 = b.ipv6 ?? b.ipv6Bloom;
  const ports = b.ports ?? b.portBitmap;
  if (!v4 || !v6 || !ports) throw new Error('block record without an IPv4, IPv6 or port summary');
  const parts: Array<[Uint8Array, number]> = [
    [bytesOf(v4), b.ipv4 ? b.ipv4.length : v4.byteLength],
    [bytesOf(v6), b.ipv6 ? b.ipv6.length : v6.byteLength],
    [bytesOf(ports), b.ports ? b.ports.length : ports.byteLength],
    [b.ipProtos, b.ipProtos.length],
  ];
  const p = b.postings;
  if (p) {
    parts.push([bytesOf(p.keys4), p.keys4.length], [bytesOf(p.starts4), p.starts4.length]);
    parts.push([bytesOf(p.keys6), p.keys6.length], [bytesOf(p.starts6), p.starts6.length], [p.bytes, p.bytes.length]);
  }
  return parts;
}

export function encodeSidecar(data: SidecarData): Uint8Array {
  const problems = new TextEncoder().encode(JSON.stringify(data.problems));
  const headerBytes = align8(FIXED_HEADER + 4 * data.linkTypes.length + problems.length + 4);
  const tableBytes = BLOCK_RECORD * data.blocks.length;
  const parts = data.blocks.map(blockParts);
  const dataBytes = parts.reduce((sum, ps) => sum + ps.reduce((s, [bytes]) => s + align8(bytes.length), 0), 0);
  const out = new Uint8Array(headerBytes + tableBytes + dataBytes + 4);
  const view = new DataView(out.buffer);

  out.set(SIDECAR_MAGIC, 0);
  view.setUint32(8, SIDECAR_VERSION, true);
  view.setUint32(12, headerBytes, true);
  view.setFloat64(16, data.capture.size, true);
  view.setFloat64(24, data.capture.mtimeMs, true);
  view.setUint32(32, data.capture.headCrc, true);
  view.setUint8(36, data.format === 'pcapng' ? 1 : 0);
  view.setUint8(37, data.first && data.last ? 1 : 0);
  view.setUint16(38, data.linkTypes.length, true);
  view.setFloat64(40, data.packets, true);
  view.setFloat64(48, data.first?.sec ?? 0, true);
  view.setUint32(56, data.first?.nsec ?? 0, true);
  view.setUint32(60, data.last?.nsec ?? 0, true);
  view.setFloat64(64, data.last?.sec ?? 0, true);
  view.setUint32(72, data.blockBytes, true);
  view.setUint32(76, data.blocks.length, true);
  view.setUint32(80, problems.length, true);
  data.linkTypes.forEach((lt, i) => view.setUint32(FIXED_HEADER + 4 * i, lt, true));
  out.set(problems, FIXED_HEADER + 4 * data.linkTypes.length);
  view.setUint32(headerBytes - 4, crc32(out.subarray(0, headerBytes - 4)), true);

  const dataStart = headerBytes + tableBytes;
  let at = dataStart;
  data.blocks.forEach((b, i) => {
    const r = headerBytes + BLOCK_RECORD * i;
    const flags =
      (b.mustRead ? FLAG_MUST_READ : 0) |
      (b.ipv4 ? 0 : FLAG_IPV4_BLOOM) |
      (b.ipv6 ? 0 : FLAG_IPV6_BLOOM) |
      (b.ports ? 0 : FLAG_PORT_BITMAP) |
      (b.postings ? 0 : FLAG_NO_POSTINGS);
    view.setFloat64(r, b.offset, true);
    view.setFloat64(r + 8, b.end, true);
    view.setFloat64(r + 16, b.first.sec, true);
    view.setFloat64(r + 24, b.last.sec, true);
    view.setUint32(r + 32, b.first.nsec, true);
    view.setUint32(r + 36, b.last.nsec, true);
    view.setUint32(r + 40, b.packets, true);
    view.setUint32(r + 44, flags, true);
    view.setUint32(r + 48, at - dataStart, true);
    view.setFloat64(r + 80, b.bytes, true);
    parts[i]!.forEach(([bytes, length], k) => {
      // Lengths: the four summaries, then n4, n6 and the posting bytes (the starts arrays follow from n4/n6).
      const field = k < 4 ? 52 + 4 * k : k === 4 ? 68 : k === 6 ? 72 : k === 8 ? 76 : -1;
      if (field >= 0) view.setUint32(r + field, length, true);
      out.set(bytes, at);
      at += align8(bytes.length);
    });
  });
  view.setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

/** Bytes that hold the header of any sidecar with fewer than ~900 link types and short problem lists. */
export const SIDECAR_HEADER_PROBE = 4096;

/** The header length a sidecar's first 16 bytes declare (unchecked), or 0 when they are too short. */
export function sidecarHeaderBytes(start: Uint8Array): number {
  return start.length < 16 ? 0 : new DataView(start.buffer, start.byteOffset, 16).getUint32(12, true);
}

/**
 * The header alone, checked by its own CRC: `bytes` may be just the file's start, as long as it
 * holds the whole header (read SIDECAR_HEADER_PROBE bytes; when `sidecarHeaderBytes` says the
 * header is longer, read that much).
 * @throws CorruptSidecarError naming what is wrong (magic, version, header checksum, layout).
 */
export function decodeSidecarHeader(bytes: Uint8Array): SidecarHeader {
  if (bytes.length < FIXED_HEADER + 4 || !SIDECAR_MAGIC.slice(0, 5).every((b, i) => bytes[i] === b)) {
    throw new CorruptSidecarError('not a pcapmesh index (bad magic)');
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // The magic's 7th byte is the format version; the header repeats it.
  const version = bytes[6] === SIDECAR_VERSION ? view.getUint32(8, true) : (bytes[6] as number);
  if (version < SIDECAR_VERSION) {
    throw new CorruptSidecarError(`index format version ${version} is older than this version's ${SIDECAR_VERSION} (no posting lists)`);
  }
  if (version !== SIDECAR_VERSION) throw new CorruptSidecarError(`index format version ${version}, expected ${SIDECAR_VERSION}`);
  const headerBytes = view.getUint32(12, true);
  if (headerBytes % 8 !== 0 || headerBytes < FIXED_HEADER + 8) throw new CorruptSidecarError(`header length ${headerBytes} is not valid`);
  if (headerBytes > bytes.length) throw new CorruptSidecarError(`header of ${headerBytes} bytes, only ${bytes.length} present`);
  const stored = view.getUint32(headerBytes - 4, true);
  const actual = crc32(bytes.subarray(0, headerBytes - 4));
  if (stored !== actual) throw new CorruptSidecarError(`header checksum mismatch (stored ${stored}, computed ${actual})`);

  const linkTypeCount = view.getUint16(38, true);
  const problemBytes = view.getUint32(80, true);
  if (FIXED_HEADER + 4 * linkTypeCount + problemBytes + 4 > headerBytes) throw new CorruptSidecarError('header lengths do not fit the header');
  const format = view.getUint8(36);
  if (format > 1) throw new CorruptSidecarError(`unknown format ${format}`);
  let problems: CaptureProblem[];
  try {
    const at = FIXED_HEADER + 4 * linkTypeCount;
    problems = JSON.parse(new TextDecoder().decode(bytes.subarray(at, at + problemBytes))) as CaptureProblem[];
  } catch (cause) {
    throw new CorruptSidecarError(`undecodable problems list: ${(cause as Error).message}`, { cause });
  }
  if (!Array.isArray(problems)) throw new CorruptSidecarError('problems list is not a list');
  const hasTime = view.getUint8(37) === 1;
  return {
    version,
    capture: { size: view.getFloat64(16, true), mtimeMs: view.getFloat64(24, true), headCrc: view.getUint32(32, true) },
    format: format === 1 ? 'pcapng' : 'pcap',
    linkTypes: Array.from({ length: linkTypeCount }, (_, i) => view.getUint32(FIXED_HEADER + 4 * i, true)),
    packets: view.getFloat64(40, true),
    first: hasTime ? { sec: view.getFloat64(48, true), nsec: view.getUint32(56, true) } : null,
    last: hasTime ? { sec: view.getFloat64(64, true), nsec: view.getUint32(60, true) } : null,
    problems,
    blockBytes: view.getUint32(72, true),
    headerBytes,
    blockCount: view.getUint32(76, true),
  };
}

/** The whole sidecar. @throws CorruptSidecarError naming what is wrong (magic, version, checksum, layout). */
export function decodeSidecar(input: Uint8Array): SidecarData {
  // Typed-array views need their element alignment within the buffer.
  const bytes = input.byteOffset % 8 === 0 ? input : input.slice();
  const { headerBytes, blockCount, ...header } = decodeSidecarHeader(bytes);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const stored = view.getUint32(bytes.length - 4, true);
  const actual = crc32(bytes.subarray(0, bytes.length - 4));
  if (stored !== actual) throw new CorruptSidecarError(`checksum mismatch (stored ${stored}, computed ${actual})`);
  const dataStart = headerBytes + BLOCK_RECORD * blockCount;
  if (dataStart > bytes.length - 4) throw new CorruptSidecarError('block table does not fit the file');
  const data: SidecarData = { ...header, blocks: [] };

  const parts = new PartReader(bytes, dataStart, bytes.length - 4);
  let previousEnd = 0;
  for (let i = 0; i < blockCount; i++) {
    const r = headerBytes + BLOCK_RECORD * i;
    const offset = view.getFloat64(r, true);
    const end = view.getFloat64(r + 8, true);
    if (!Number.isInteger(offset) || !Number.isInteger(end) || offset < previousEnd || end < offset || end > data.capture.size) {
      throw new CorruptSidecarError(`block ${i}: bad offsets`);
    }
    previousEnd = end;
    const flags = view.getUint32(r + 44, true);
    // Every part's place and size checked now; the views are made when a query first reads them.
    parts.seek(i, view.getUint32(r + 48, true));
    if (flags & FLAG_IPV4_BLOOM) parts.skipBloom(view.getUint32(r + 52, true));
    else parts.skip(4, view.getUint32(r + 52, true));
    if (flags & FLAG_IPV6_BLOOM) parts.skipBloom(view.getUint32(r + 56, true));
    else parts.skip(8, view.getUint32(r + 56, true));
    const ports = view.getUint32(r + 60, true);
    if (flags & FLAG_PORT_BITMAP && ports !== PORT_BITMAP_BYTES) throw new CorruptSidecarError(`block ${i}: port bitmap of ${ports} bytes`);
    parts.skip(flags & FLAG_PORT_BITMAP ? 1 : 2, ports);
    parts.skip(1, view.getUint32(r + 64, true));
    if (!(flags & FLAG_NO_POSTINGS)) {
      const n4 = view.getUint32(r + 68, true);
      const n6 = view.getUint32(r + 72, true);
      parts.skip(4, n4);
      parts.skip(4, n4 + 1);
      parts.skip(8, n6);
      parts.skip(4, n6 + 1);
      parts.skip(1, view.getUint32(r + 76, true));
    }
    data.blocks.push(new StoredBlock(parts, view, i, r, flags));
  }
  return data;
}

/**
 * A block record read from a sidecar: the fixed fields at once, each summary part a view on the
 * file's bytes made on first use (a query for one host reads 4 of a block's 10 parts; making every
 * view of every block was most of a cold load). decodeSidecar has checked every part's bounds.
 */
class StoredBlock implements BlockRecord {
  readonly offset: number;
  readonly end: number;
  readonly packets: number;
  readonly bytes: number;
  readonly first: Timestamp;
  readonly last: Timestamp;
  readonly mustRead: boolean;
  private summaries: [Uint32Array | Uint8Array, Float64Array | Uint8Array, Uint16Array | Uint8Array, Uint8Array] | null = null;
  private lists: BlockPostings | null | undefined = undefined;

  constructor(
    private readonly parts: PartReader,
    private readonly view: DataView,
    private readonly i: number,
    private readonly r: number,
    private readonly flags: number,
  ) {
    this.offset = view.getFloat64(r, true);
    this.end = view.getFloat64(r + 8, true);
    this.packets = view.getUint32(r + 40, true);
    this.bytes = view.getFloat64(r + 80, true);
    this.first = { sec: view.getFloat64(r + 16, true), nsec: view.getUint32(r + 32, true) };
    this.last = { sec: view.getFloat64(r + 24, true), nsec: view.getUint32(r + 36, true) };
    this.mustRead = (flags & FLAG_MUST_READ) !== 0;
  }

  get ipv4(): Uint32Array | null {
    return this.flags & FLAG_IPV4_BLOOM ? null : (this.summary()[0] as Uint32Array);
  }
  get ipv4Bloom(): Uint8Array | null {
    return this.flags & FLAG_IPV4_BLOOM ? (this.summary()[0] as Uint8Array) : null;
  }
  get ipv6(): Float64Array | null {
    return this.flags & FLAG_IPV6_BLOOM ? null : (this.summary()[1] as Float64Array);
  }
  get ipv6Bloom(): Uint8Array | null {
    return this.flags & FLAG_IPV6_BLOOM ? (this.summary()[1] as Uint8Array) : null;
  }
  get ports(): Uint16Array | null {
    return this.flags & FLAG_PORT_BITMAP ? null : (this.summary()[2] as Uint16Array);
  }
  get portBitmap(): Uint8Array | null {
    return this.flags & FLAG_PORT_BITMAP ? (this.summary()[2] as Uint8Array) : null;
  }
  get ipProtos(): Uint8Array {
    return this.summary()[3];
  }
  get postings(): BlockPostings | null {
    if (this.lists === undefined) {
      if (this.flags & FLAG_NO_POSTINGS) this.lists = null;
      else {
        // Past the four summaries to the posting section.
        const { parts, view, r, flags } = this;
        parts.seek(this.i, view.getUint32(r + 48, true));
        parts.skip(flags & FLAG_IPV4_BLOOM ? 1 : 4, view.getUint32(r + 52, true));
        parts.skip(flags & FLAG_IPV6_BLOOM ? 1 : 8, view.getUint32(r + 56, true));
        parts.skip(flags & FLAG_PORT_BITMAP ? 1 : 2, view.getUint32(r + 60, true));
        parts.skip(1, view.getUint32(r + 64, true));
        this.lists = readPostings(parts, view, r);
      }
    }
    return this.lists;
  }

  /** The four summaries' views (made once). */
  private summary(): NonNullable<StoredBlock['summaries']> {
    if (this.summaries) return this.summaries;
    const { parts, view, r, flags } = this;
    parts.seek(this.i, view.getUint32(r + 48, true));
    const v4 = view.getUint32(r + 52, true);
    const v6 = view.getUint32(r + 56, true);
    const ports = view.getUint32(r + 60, true);
    this.summaries = [
      flags & FLAG_IPV4_BLOOM ? parts.next(Uint8Array, v4) : parts.next(Uint32Array, v4),
      flags & FLAG_IPV6_BLOOM ? parts.next(Uint8Array, v6) : parts.next(Float64Array, v6),
      flags & FLAG_PORT_BITMAP ? parts.next(Uint8Array, ports) : parts.next(Uint16Array, ports),
      parts.next(Uint8Array, view.getUint32(r + 64, true)),
    ];
    return this.summaries;
  }
}

/**
 * The posting section of the block whose record is at `r` (the part reader placed at it). Its
 * starts are checked where a list is read (decodeList refuses a range out of order or outside the
 * lists, and the block is then read whole): walking every block's starts here cost half of a cold load.
 */
function readPostings(parts: PartReader, view: DataView, r: number): BlockPostings {
  const n4 = view.getUint32(r + 68, true);
  const n6 = view.getUint32(r + 72, true);
  const length = view.getUint32(r + 76, true);
  const keys4 = parts.next(Uint32Array, n4);
  const starts4 = parts.next(Uint32Array, n4 + 1);
  // IPv6 keys and starts: views made when first asked for (an IPv4 query never is).
  const at6 = parts.position;
  parts.skip(8, n6);
  parts.skip(4, n6 + 1);
  const bytes = parts.next(Uint8Array, length);
  let v6: [Float64Array, Uint32Array] | null = null;
  const ipv6 = (): [Float64Array, Uint32Array] => {
    if (v6) return v6;
    parts.place(at6);
    v6 = [parts.next(Float64Array, n6), parts.next(Uint32Array, n6 + 1)];
    return v6;
  };
  return {
    keys4,
    starts4,
    get keys6() {
      return ipv6()[0];
    },
    get starts6() {
      return ipv6()[1];
    },
    bytes,
  };
}

type Typed = Uint8Array | Uint16Array | Uint32Array | Float64Array;
interface TypedCtor<T extends Typed> {
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): T;
  readonly BYTES_PER_ELEMENT: number;
}

/** Walks one block's summary parts in the data area, as views on the file's bytes. */
class PartReader {
  private at = 0;
  private block = 0;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly start: number,
    private readonly end: number,
  ) {}

  seek(block: number, relative: number): void {
    this.block = block;
    this.at = this.start + relative;
  }

  /** `count` elements; a view, or a byte-swapped copy on a big-endian host. */
  next<T extends Typed>(Ctor: TypedCtor<T>, count: number): T {
    const size = Ctor.BYTES_PER_ELEMENT;
    const byteLength = count * size;
    if (this.at % 8 !== 0 || this.at + byteLength > this.end) throw new CorruptSidecarError(`block ${this.block}: summary outside the file`);
    let part: T;
    if (LITTLE_ENDIAN_HOST || size === 1) part = new Ctor(this.bytes.buffer, this.bytes.byteOffset + this.at, count);
    else part = new Ctor(swapped(this.bytes.slice(this.at, this.at + byteLength), size).buffer, 0, count);
    this.at += align8(byteLength);
    return part;
  }

  /** The current place (for `place`). */
  get position(): number {
    return this.at;
  }

  /** Goes back to a place `position` returned (same block). */
  place(at: number): void {
    this.at = at;
  }

  /** Checks that `count` elements of `size` bytes fit at the current place, and moves past them. */
  skip(size: number, count: number): void {
    const byteLength = count * size;
    if (this.at % 8 !== 0 || this.at + byteLength > this.end) throw new CorruptSidecarError(`block ${this.block}: summary outside the file`);
    this.at += align8(byteLength);
  }

  /** skip for a Bloom filter: a power-of-two number of bytes, at least 8 (bloom.ts masks bit numbers). */
  skipBloom(byteLength: number): void {
    if (byteLength < 8 || (byteLength & (byteLength - 1)) !== 0) {
      throw new CorruptSidecarError(`block ${this.block}: Bloom filter of ${byteLength} bytes (not a power of two)`);
    }
    this.skip(1, byteLength);
  }
}

/** Reverses the byte order of each `size`-byte element, in place. */
function swapped(bytes: Uint8Array, size: number): Uint8Array {
  for (let k = 0; k < bytes.length; k += size) bytes.subarray(k, k + size).reverse();
  return bytes;
}
