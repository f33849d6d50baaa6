/**
 * pcapng: block parsing over byte chunks and exact timestamp conversion. Pure: no I/O.
 *
 * Handled: Section Header Blocks (byte order per section; interfaces reset per section),
 * Interface Description Blocks (link type, snaplen, if_tsresol, if_tsoffset), Enhanced, Simple
 * and obsolete Packet Blocks. Every other block (NRB, ISB, DSB, custom, unknown) is skipped.
 *
 * Simple Packet Blocks carry no timestamp and no interface id: like libpcap (tcpdump prints
 * 0.000000), the packet gets time 0 (1970-01-01T00:00:00Z) and interface 0 of the section; its
 * caplen is the smaller of the block's room, the original length and the interface snaplen.
 * (tshark shows such packets without a time and capinfos leaves them out of start/end; dumpcap
 * never writes SPBs.)
 */
import { CaptureFormatError } from './reader-error.js';
import type { CaptureProblem, PacketView, Timestamp } from './types.js';

export const BLOCK_SHB = 0x0a0d0d0a;
export const BLOCK_IDB = 0x00000001;
export const BLOCK_OPB = 0x00000002;
export const BLOCK_SPB = 0x00000003;
export const BLOCK_EPB = 0x00000006;
export const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** Largest block we accept (wiretap uses 16 MiB too); a bigger length is damage. */
export const MAX_BLOCK_LENGTH = 16 * 1024 * 1024;
/** Smallest legal block: type, length, trailing length. */
const MIN_BLOCK_LENGTH = 12;
const OPT_ENDOFOPT = 0;
const OPT_IF_TSRESOL = 9;
const OPT_IF_TSOFFSET = 14;
const TWO_POW_32 = 4_294_967_296;

/** One declared interface as the packets of its section need it. */
export interface PcapngInterface {
  linkType: number;
  snaplen: number;
  /** Timestamp units per second (10^n or 2^n, from if_tsresol; default 10^6). */
  unitsPerSecond: number;
  /** Nanoseconds per unit when unitsPerSecond is a power of ten ≤ 10^9, else 0 (slow exact path). */
  nsecPerUnit: number;
  /** if_tsoffset: seconds added to every timestamp. */
  tsOffset: number;
  /** Index of this interface within the whole file (across sections). */
  fileIndex: number;
}

/**
 * Converts a 64-bit pcapng timestamp (hi, lo 32-bit halves) in units of `iface.unitsPerSecond`
 * into seconds + nanoseconds, exactly (no float loss even for nanosecond units in 2106).
 * @example
 * const t = { sec: 0, nsec: 0 };
 * pcapngTimestamp(0x5e0f3, 0x1d60f2a0, { unitsPerSecond: 1e6, nsecPerUnit: 1000, tsOffset: 0 }, t);
 */
export function pcapngTimestamp(
  hi: number,
  lo: number,
  iface: Pick<PcapngInterface, 'unitsPerSecond' | 'nsecPerUnit' | 'tsOffset'>,
  out: Timestamp,
): Timestamp {
  const d = iface.unitsPerSecond;
  if (iface.nsecPerUnit === 0) return bigTimestamp(hi, lo, iface, out);
  let sec: number;
  let rem: number;
  if (hi < 0x20_0000) {
    // The whole value is below 2^53: one float division, corrected by at most one.
    const units = hi * TWO_POW_32 + lo;
    sec = Math.floor(units / d);
    rem = units - sec * d;
  } else {
    // Long division by 32-, 16- and 16-bit digits; every intermediate stays below 2^53.
    const q1 = Math.floor(hi / d);
    const r1 = hi - q1 * d;
    const x = r1 * 65_536 + (lo >>> 16);
    let q2 = Math.floor(x / d);
    let r2 = x - q2 * d;
    if (r2 < 0) {
      q2 -= 1;
      r2 += d;
    } else if (r2 >= d) {
      q2 += 1;
      r2 -= d;
    }
    const y = r2 * 65_536 + (lo & 0xffff);
    const q3 = Math.floor(y / d);
    sec = q1 * TWO_POW_32 + q2 * 65_536 + q3;
    rem = y - q3 * d;
  }
  if (rem < 0) {
    sec -= 1;
    rem += d;
  } else if (rem >= d) {
    sec += 1;
    rem -= d;
  }
  out.sec = sec + iface.tsOffset;
  out.nsec = rem * iface.nsecPerUnit;
  return out;
}

/** Exact conversion for binary or sub-nanosecond resolutions (rare; BigInt is fine here). */
function bigTimestamp(hi: number, lo: number, iface: Pick<PcapngInterface, 'unitsPerSecond' | 'tsOffset'>, out: Timestamp): Timestamp {
  const units = (BigInt(hi) << 32n) | BigInt(lo);
  const d = BigInt(iface.unitsPerSecond);
  out.sec = Number(units / d) + iface.tsOffset;
  out.nsec = Number(((units % d) * 1_000_000_000n) / d);
  return out;
}

/** Units per second for an if_tsresol byte: bit 7 clear → 10^-n, set → 2^-n. */
export function tsresolUnits(tsresol: number): number {
  const n = tsresol & 0x7f;
  return tsresol & 0x80 ? 2 ** n : 10 ** n;
}

/** Reads the byte-order magic of the SHB at `pos`; true = little-endian, null = not a valid BOM. */
function sectionByteOrder(view: DataView, pos: number): boolean | null {
  const bom = view.getUint32(pos + 8, true);
  if (bom === BYTE_ORDER_MAGIC) return true;
  if (bom === 0x4d3c2b1a) return false;
  return null;
}

/**
 * Steps through pcapng blocks in a chunk; same `step` contract as PcapParser (n > 0 consumed,
 * -n need n bytes, 0 fatal problem recorded). Non-packet blocks are consumed with
 * `hasPacket = false`.
 */
export class PcapngParser {
  readonly format = 'pcapng' as const;
  /** Bytes of the first SHB; the reader starts at 0 and lets `step` consume it. */
  readonly headerLength = 0;
  hasPacket = false;
  nanosecond = false;
  snaplen = 0;
  readonly linkTypes: number[] = [];
  /** Every interface of the file in declaration order (PacketView.interfaceId indexes this). */
  readonly interfaces: PcapngInterface[] = [];
  private section: PcapngInterface[] = [];
  private littleEndian = true;
  private readonly undeclaredSeen = new Set<number>();
  private readonly time: Timestamp = { sec: 0, nsec: 0 };

  constructor(
    readonly file: string,
    readonly problems: CaptureProblem[],
  ) {}

  step(buf: Uint8Array, view: DataView, pos: number, end: number, base: number, out: PacketView): number {
    const avail = end - pos;
    if (avail < MIN_BLOCK_LENGTH) return -MIN_BLOCK_LENGTH;
    let le = this.littleEndian;
    const type = view.getUint32(pos, le);
    if (type === BLOCK_SHB) {
      const order = sectionByteOrder(view, pos);
      if (order === null) return this.fail(base + pos, `bad byte-order magic in section header at ${base + pos}`);
      le = order;
    }
    const length = view.getUint32(pos + 4, le);
    if (length < MIN_BLOCK_LENGTH || length % 4 !== 0 || length > MAX_BLOCK_LENGTH) {
      return this.fail(base + pos, `bad block length ${length} at ${base + pos} (type 0x${type.toString(16)})`);
    }
    if (avail < length) return -length;
    const trailer = view.getUint32(pos + length - 4, le);
    if (trailer !== length) {
      return this.fail(base + pos, `block at ${base + pos} (type 0x${type.toString(16)}): length ${length} but trailing length ${trailer}`);
    }
    this.hasPacket = false;
    switch (type) {
      case BLOCK_EPB:
        return this.packet(buf, view, pos, length, base, out, view.getUint32(pos + 8, le), 12, 28);
      case BLOCK_OPB:
        return this.packet(buf, view, pos, length, base, out, view.getUint16(pos + 8, le), 12, 28);
      case BLOCK_SPB:
        return this.simplePacket(buf, view, pos, length, base, out);
      case BLOCK_SHB:
        this.littleEndian = le;
        this.section = [];
        return length;
      case BLOCK_IDB:
        return this.addInterface(view, pos, length, base);
      default:
        return length;
    }
  }

  /** EPB/OPB body: timestamp hi/lo at `tsAt`, caplen and origlen after it, data at `dataAt`. */
  private packet(
    buf: Uint8Array,
    view: DataView,
    pos: number,
    length: number,
    base: number,
    out: PacketView,
    ifaceId: number,
    tsAt: number,
    dataAt: number,
  ): number {
    const le = this.littleEndian;
    if (length < dataAt + 4) return this.fail(base + pos, `packet block at ${base + pos} too short (${length} bytes)`);
    const caplen = view.getUint32(pos + tsAt + 8, le);
    if (dataAt + caplen + 4 > length) {
      return this.fail(base + pos, `packet block at ${base + pos}: caplen ${caplen} exceeds block length ${length}`);
    }
    const iface = this.section[ifaceId] ?? this.undeclared(ifaceId, base + pos);
    pcapngTimestamp(view.getUint32(pos + tsAt, le), view.getUint32(pos + tsAt + 4, le), iface, out);
    out.caplen = caplen;
    out.origLen = view.getUint32(pos + tsAt + 12, le);
    out.linkType = iface.linkType;
    out.interfaceId = iface.fileIndex;
    out.offset = base + pos;
    out.data = buf.subarray(pos + dataAt, pos + dataAt + caplen);
    this.hasPacket = true;
    return length;
  }

  private simplePacket(buf: Uint8Array, view: DataView, pos: number, length: number, base: number, out: PacketView): number {
    if (length < 16) return this.fail(base + pos, `simple packet block at ${base + pos} too short (${length} bytes)`);
    const iface = this.section[0] ?? this.undeclared(0, base + pos);
    const origLen = view.getUint32(pos + 8, this.littleEndian);
    let caplen = Math.min(origLen, length - 16);
    if (iface.snaplen > 0) caplen = Math.min(caplen, iface.snaplen);
    out.sec = 0;
    out.nsec = 0;
    out.caplen = caplen;
    out.origLen = origLen;
    out.linkType = iface.linkType;
    out.interfaceId = iface.fileIndex;
    out.offset = base + pos;
    out.data = buf.subarray(pos + 12, pos + 12 + caplen);
    this.hasPacket = true;
    return length;
  }

  private addInterface(view: DataView, pos: number, length: number, base: number): number {
    const le = this.littleEndian;
    if (length < 20) return this.fail(base + pos, `interface block at ${base + pos} too short (${length} bytes)`);
    const iface: PcapngInterface = {
      linkType: view.getUint16(pos + 8, le),
      snaplen: view.getUint32(pos + 12, le),
      unitsPerSecond: 1_000_000,
      nsecPerUnit: 1000,
      tsOffset: 0,
      fileIndex: this.interfaces.length,
    };
    const optionsEnd = pos + length - 4;
    for (let at = pos + 16; at + 4 <= optionsEnd;) {
      const code = view.getUint16(at, le);
      const size = view.getUint16(at + 2, le);
      if (code === OPT_ENDOFOPT || at + 4 + size > optionsEnd) break;
      if (code === OPT_IF_TSRESOL && size >= 1) {
        const tsresol = view.getUint8(at + 4);
        iface.unitsPerSecond = tsresolUnits(tsresol);
        iface.nsecPerUnit = tsresol <= 9 ? 10 ** (9 - tsresol) : 0;
      } else if (code === OPT_IF_TSOFFSET && size >= 8) {
        const lo = view.getUint32(at + 4 + (le ? 0 : 4), le);
        const hi = view.getInt32(at + 4 + (le ? 4 : 0), le);
        iface.tsOffset = hi * TWO_POW_32 + lo;
      }
      at += 4 + ((size + 3) & ~3);
    }
    if (iface.unitsPerSecond > 1_000_000) this.nanosecond = true;
    if (this.interfaces.length === 0) this.snaplen = iface.snaplen;
    if (!this.linkTypes.includes(iface.linkType)) this.linkTypes.push(iface.linkType);
    this.interfaces.push(iface);
    this.section.push(iface);
    return length;
  }

  /** A packet names an interface its section never declared: keep it (link type -1), note it once. */
  private undeclared(ifaceId: number, offset: number): PcapngInterface {
    if (!this.undeclaredSeen.has(ifaceId)) {
      this.undeclaredSeen.add(ifaceId);
      this.problems.push({ file: this.file, offset, reason: `packet at ${offset} on undeclared interface ${ifaceId}` });
    }
    return { linkType: -1, snaplen: 0, unitsPerSecond: 1_000_000, nsecPerUnit: 1000, tsOffset: 0, fileIndex: -1 };
  }

  private fail(offset: number, reason: string): 0 {
    this.problems.push({ file: this.file, offset, reason });
    return 0;
  }

  /** The problem for a file that ends `avail` bytes into the block at `offset`. */
  truncation(view: DataView, pos: number, avail: number, offset: number): CaptureProblem {
    if (avail < 8) return { file: this.file, offset, reason: `partial block header at ${offset} (${avail} bytes)` };
    const type = view.getUint32(pos, this.littleEndian);
    const length = view.getUint32(pos + 4, this.littleEndian);
    return { file: this.file, offset, reason: `block at ${offset} (type 0x${type.toString(16)}) wants ${length} bytes, ${avail} left` };
  }
}

/**
 * Checks that `bytes` starts with a usable Section Header Block.
 * @throws CaptureFormatError TRUNCATED_HEADER / UNKNOWN_FORMAT
 */
export function checkPcapngHeader(bytes: Uint8Array, file: string): void {
  if (bytes.length < 28) {
    throw new CaptureFormatError(file, 'TRUNCATED_HEADER', `short section header block: ${bytes.length} of at least 28 bytes`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, 28);
  if (sectionByteOrder(view, 0) === null) {
    throw new CaptureFormatError(file, 'UNKNOWN_FORMAT', 'pcapng section header has no valid byte-order magic');
  }
}
