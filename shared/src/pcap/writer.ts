/**
 * Capture writers: classic pcap (µs or ns, little-endian) and pcapng (one IDB per distinct
 * link type + snaplen, EPBs in µs or ns). Both encode into one large reusable buffer and flush
 * it to a ByteSink (file or memory) in big chunks.
 *
 * Classic pcap output matches what `mergecap -F pcap` writes: magic in little-endian, version
 * 2.4, thiszone 0, sigfigs 0, snaplen 262144 unless told otherwise, µs timestamps truncated from ns.
 */
import { MAX_CAPLEN, PCAP_MAGIC_MICRO, PCAP_MAGIC_NANO } from './pcap-format.js';
import { BLOCK_EPB, BLOCK_IDB, BLOCK_SHB, BYTE_ORDER_MAGIC } from './pcapng-format.js';
import type { PacketView } from './types.js';
import { FileSink, MemorySink, type ByteSink } from './writer-sink.js';

export { FileSink, MemorySink, type ByteSink } from './writer-sink.js';

/** What merge, extract and friends write packets into. */
export interface PacketWriter {
  /** Appends one packet. `snaplen` (pcapng) picks the interface; defaults to the writer's snaplen. */
  write(packet: PacketView, snaplen?: number): void;
  /** Flushes and closes the sink. */
  close(): void;
  /** Packets written so far. */
  readonly packets: number;
}

export interface PcapWriterOptions {
  linkType: number;
  /** Header snaplen (default 262144, what mergecap writes). */
  snaplen?: number;
  /** ns magic and ns fractions (default µs). */
  nanosecond?: boolean;
  /** Encode buffer size (default 1 MiB). */
  bufferSize?: number;
}

export type PcapngWriterOptions = Omit<PcapWriterOptions, 'linkType'>;

const DEFAULT_BUFFER = 1024 * 1024;
const TWO_POW_32 = 4_294_967_296;

/** The encode buffer starts this small and doubles up to its full size as output accumulates. */
const FIRST_BUFFER = 64 * 1024;

/**
 * Buffering shared by both formats: `room(n)` guarantees n free bytes at `pos`. The buffer
 * grows to `bufferSize` only when that much is written: most extract parts hold a few packets,
 * and a fresh megabyte costs more in page faults than writing them.
 */
abstract class BufferedWriter implements PacketWriter {
  packets = 0;
  protected buf: Uint8Array;
  protected view: DataView;
  protected pos = 0;
  private closed = false;
  private readonly bufferSize: number;

  constructor(
    protected readonly sink: ByteSink,
    bufferSize = DEFAULT_BUFFER,
  ) {
    this.bufferSize = bufferSize;
    this.buf = new Uint8Array(Math.min(bufferSize, FIRST_BUFFER));
    this.view = new DataView(this.buf.buffer);
  }

  abstract write(packet: PacketView, snaplen?: number): void;

  protected room(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    if (this.buf.length < this.bufferSize) {
      this.resize(Math.max(this.pos + n, Math.min(this.buf.length * 2, this.bufferSize)));
      return;
    }
    this.flush();
    if (n > this.buf.length) this.resize(n);
  }

  private resize(size: number): void {
    const bigger = new Uint8Array(size);
    bigger.set(this.buf.subarray(0, this.pos));
    this.buf = bigger;
    this.view = new DataView(bigger.buffer);
  }

  flush(): void {
    if (this.pos > 0) this.sink.write(this.buf.subarray(0, this.pos));
    this.pos = 0;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    this.sink.close();
  }
}

/**
 * Classic pcap writer.
 * @example
 * const w = PcapWriter.toFile('out.pcap', { linkType: LinkType.ETHERNET });
 * for (let p = reader.next(); p; p = reader.next()) w.write(p);
 * w.close();
 */
export class PcapWriter extends BufferedWriter {
  private readonly linkType: number;
  private readonly nanosecond: boolean;

  constructor(sink: ByteSink, opts: PcapWriterOptions) {
    super(sink, opts.bufferSize);
    this.linkType = opts.linkType;
    this.nanosecond = opts.nanosecond ?? false;
    const v = this.view;
    v.setUint32(0, this.nanosecond ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, true);
    v.setUint16(4, 2, true);
    v.setUint16(6, 4, true);
    v.setUint32(8, 0, true);
    v.setUint32(12, 0, true);
    v.setUint32(16, opts.snaplen ?? MAX_CAPLEN, true);
    v.setUint32(20, opts.linkType, true);
    this.pos = 24;
  }

  /** Writes to a path, or to an open descriptor the caller keeps owning (e.g. 1 = stdout). */
  static toFile(path: string | number, opts: PcapWriterOptions): PcapWriter {
    return new PcapWriter(new FileSink(path), opts);
  }

  /** An in-memory writer; read the result with `sink.bytes()` after `close()`. */
  static inMemory(opts: PcapWriterOptions): { writer: PcapWriter; sink: MemorySink } {
    const sink = new MemorySink();
    return { writer: new PcapWriter(sink, opts), sink };
  }

  write(packet: PacketView): void {
    if (packet.linkType !== this.linkType) {
      throw new Error(`classic pcap holds one link type (${this.linkType}); packet at ${packet.offset} has ${packet.linkType}: write pcapng instead`);
    }
    const caplen = packet.data.length;
    this.room(16 + caplen);
    const v = this.view;
    const at = this.pos;
    v.setUint32(at, packet.sec, true);
    v.setUint32(at + 4, this.nanosecond ? packet.nsec : Math.floor(packet.nsec / 1000), true);
    v.setUint32(at + 8, caplen, true);
    v.setUint32(at + 12, packet.origLen, true);
    this.buf.set(packet.data, at + 16);
    this.pos = at + 16 + caplen;
    this.packets++;
  }
}

/**
 * pcapng writer: one section (little-endian), an IDB written the first time a (link type,
 * snaplen) pair appears, then EPBs. With `nanosecond`, every IDB has if_tsresol = 9.
 * @example
 * const w = PcapngWriter.toFile('out.pcapng', { nanosecond: true });
 * w.write(packetFromSll, 262144); w.write(packetFromEthernet, 65535);
 * w.close();
 */
export class PcapngWriter extends BufferedWriter {
  private readonly nanosecond: boolean;
  private readonly defaultSnaplen: number;
  private readonly interfaces = new Map<string, number>();

  constructor(sink: ByteSink, opts: PcapngWriterOptions = {}) {
    super(sink, opts.bufferSize);
    this.nanosecond = opts.nanosecond ?? false;
    this.defaultSnaplen = opts.snaplen ?? MAX_CAPLEN;
    const v = this.view;
    v.setUint32(0, BLOCK_SHB, true);
    v.setUint32(4, 28, true);
    v.setUint32(8, BYTE_ORDER_MAGIC, true);
    v.setUint16(12, 1, true);
    v.setUint16(14, 0, true);
    v.setInt32(16, -1, true); // section length unknown
    v.setInt32(20, -1, true);
    v.setUint32(24, 28, true);
    this.pos = 28;
  }

  static toFile(path: string | number, opts: PcapngWriterOptions = {}): PcapngWriter {
    return new PcapngWriter(new FileSink(path), opts);
  }

  static inMemory(opts: PcapngWriterOptions = {}): { writer: PcapngWriter; sink: MemorySink } {
    const sink = new MemorySink();
    return { writer: new PcapngWriter(sink, opts), sink };
  }

  write(packet: PacketView, snaplen = this.defaultSnaplen): void {
    const id = this.interfaceFor(packet.linkType, snaplen);
    const caplen = packet.data.length;
    const padded = (caplen + 3) & ~3;
    const length = 32 + padded;
    this.room(length);
    const v = this.view;
    const at = this.pos;
    v.setUint32(at, BLOCK_EPB, true);
    v.setUint32(at + 4, length, true);
    v.setUint32(at + 8, id, true);
    this.putTimestamp(at + 12, packet.sec, packet.nsec);
    v.setUint32(at + 20, caplen, true);
    v.setUint32(at + 24, packet.origLen, true);
    this.buf.set(packet.data, at + 28);
    this.buf.fill(0, at + 28 + caplen, at + 28 + padded);
    v.setUint32(at + 28 + padded, length, true);
    this.pos = at + length;
    this.packets++;
  }

  /** 64-bit timestamp (hi word, lo word) in µs or ns units, exactly. */
  private putTimestamp(at: number, sec: number, nsec: number): void {
    let hi: number;
    let lo: number;
    if (this.nanosecond) {
      // sec * 1e9 + nsec exceeds 2^53: build it from 16-bit halves of sec.
      const x = Math.floor(sec / 65_536) * 1e9;
      const y = (sec % 65_536) * 1e9 + nsec;
      const xh = Math.floor(x / 65_536);
      const low = (x - xh * 65_536) * 65_536 + y;
      hi = xh + Math.floor(low / TWO_POW_32);
      lo = low % TWO_POW_32;
    } else {
      const units = sec * 1e6 + Math.floor(nsec / 1000);
      hi = Math.floor(units / TWO_POW_32);
      lo = units - hi * TWO_POW_32;
    }
    this.view.setUint32(at, hi, true);
    this.view.setUint32(at + 4, lo, true);
  }

  private interfaceFor(linkType: number, snaplen: number): number {
    const key = `${linkType}/${snaplen}`;
    const known = this.interfaces.get(key);
    if (known !== undefined) return known;
    const id = this.interfaces.size;
    this.interfaces.set(key, id);
    const length = this.nanosecond ? 32 : 20;
    this.room(length);
    const v = this.view;
    const at = this.pos;
    v.setUint32(at, BLOCK_IDB, true);
    v.setUint32(at + 4, length, true);
    v.setUint16(at + 8, linkType, true);
    v.setUint16(at + 10, 0, true);
    v.setUint32(at + 12, snaplen, true);
    if (this.nanosecond) {
      v.setUint16(at + 16, 9, true); // if_tsresol
      v.setUint16(at + 18, 1, true);
      v.setUint32(at + 20, 9, true); // 10^-9, padded
      v.setUint32(at + 24, 0, true); // opt_endofopt
    }
    v.setUint32(at + length - 4, length, true);
    this.pos = at + length;
    return id;
  }
}
