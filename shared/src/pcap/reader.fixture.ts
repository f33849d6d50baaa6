/**
 * Hand-made capture bytes for tests: classic pcap and pcapng built field by field, independent
 * of our writer so reader and writer check each other.
 */

export interface FixturePacket {
  sec: number;
  /** Fraction in the file's unit (µs or ns for pcap; ignored for pcapng, use `units`). */
  frac?: number;
  data: Uint8Array;
  origLen?: number;
}

function u32(view: DataView, at: number, v: number, le: boolean): void {
  view.setUint32(at, v >>> 0, le);
}

/** A classic pcap file. */
export function pcapBytes(opts: { le?: boolean; nano?: boolean; snaplen?: number; linkType?: number; packets: FixturePacket[] }): Uint8Array {
  const le = opts.le ?? true;
  const size = 24 + opts.packets.reduce((n, p) => n + 16 + p.data.length, 0);
  const out = new Uint8Array(size);
  const view = new DataView(out.buffer);
  u32(view, 0, opts.nano ? 0xa1b23c4d : 0xa1b2c3d4, le);
  view.setUint16(4, 2, le);
  view.setUint16(6, 4, le);
  u32(view, 16, opts.snaplen ?? 65535, le);
  u32(view, 20, opts.linkType ?? 1, le);
  let at = 24;
  for (const p of opts.packets) {
    u32(view, at, p.sec, le);
    u32(view, at + 4, p.frac ?? 0, le);
    u32(view, at + 8, p.data.length, le);
    u32(view, at + 12, p.origLen ?? p.data.length, le);
    out.set(p.data, at + 16);
    at += 16 + p.data.length;
  }
  return out;
}

/** Builds pcapng blocks one by one; `bytes()` concatenates them. */
export class PcapngBuilder {
  private readonly blocks: Uint8Array[] = [];
  private le = true;

  /** A Section Header Block; switches the byte order of following blocks. */
  section(le = true): this {
    this.le = le;
    const body = new Uint8Array(16);
    const view = new DataView(body.buffer);
    u32(view, 0, 0x1a2b3c4d, le);
    view.setUint16(4, 1, le);
    view.setUint16(6, 0, le);
    view.setInt32(8, -1, le);
    view.setInt32(12, -1, le);
    return this.block(0x0a0d0d0a, body);
  }

  interface(linkType: number, snaplen: number, opts: { tsresol?: number; tsoffset?: number } = {}): this {
    const parts: number[][] = [];
    const le = this.le;
    const head = new Uint8Array(8);
    const hv = new DataView(head.buffer);
    hv.setUint16(0, linkType, le);
    u32(hv, 4, snaplen, le);
    parts.push([...head]);
    if (opts.tsresol !== undefined) parts.push([...this.option(9, Uint8Array.of(opts.tsresol))]);
    if (opts.tsoffset !== undefined) {
      const v = new Uint8Array(8);
      new DataView(v.buffer).setBigInt64(0, BigInt(opts.tsoffset), le);
      parts.push([...this.option(14, v)]);
    }
    if (parts.length > 1) parts.push([0, 0, 0, 0]);
    return this.block(1, Uint8Array.from(parts.flat()));
  }

  /** Enhanced Packet Block; `units` is the 64-bit timestamp in the interface's resolution. */
  epb(ifaceId: number, units: bigint, data: Uint8Array, origLen = data.length): this {
    const body = new Uint8Array(20 + pad4(data.length));
    const view = new DataView(body.buffer);
    const le = this.le;
    u32(view, 0, ifaceId, le);
    u32(view, 4, Number(units >> 32n), le);
    u32(view, 8, Number(units & 0xffffffffn), le);
    u32(view, 12, data.length, le);
    u32(view, 16, origLen, le);
    body.set(data, 20);
    return this.block(6, body);
  }

  /** Obsolete Packet Block (interface id 16 bits, drops 16 bits). */
  opb(ifaceId: number, units: bigint, data: Uint8Array): this {
    const body = new Uint8Array(20 + pad4(data.length));
    const view = new DataView(body.buffer);
    const le = this.le;
    view.setUint16(0, ifaceId, le);
    u32(view, 4, Number(units >> 32n), le);
    u32(view, 8, Number(units & 0xffffffffn), le);
    u32(view, 12, data.length, le);
    u32(view, 16, data.length, le);
    body.set(data, 20);
    return this.block(2, body);
  }

  /** Simple Packet Block. */
  spb(data: Uint8Array, origLen = data.length): this {
    const body = new Uint8Array(4 + pad4(data.length));
    u32(new DataView(body.buffer), 0, origLen, this.le);
    body.set(data, 4);
    return this.block(3, body);
  }

  /** Any block type with an opaque body (e.g. an NRB or an unknown type to be skipped). */
  block(type: number, body: Uint8Array): this {
    const length = 12 + pad4(body.length);
    const out = new Uint8Array(length);
    const view = new DataView(out.buffer);
    u32(view, 0, type, this.le);
    u32(view, 4, length, this.le);
    out.set(body, 8);
    u32(view, length - 4, length, this.le);
    this.blocks.push(out);
    return this;
  }

  bytes(): Uint8Array {
    const out = new Uint8Array(this.blocks.reduce((n, b) => n + b.length, 0));
    let at = 0;
    for (const b of this.blocks) {
      out.set(b, at);
      at += b.length;
    }
    return out;
  }

  private option(code: number, value: Uint8Array): Uint8Array {
    const out = new Uint8Array(4 + pad4(value.length));
    const view = new DataView(out.buffer);
    view.setUint16(0, code, this.le);
    view.setUint16(2, value.length, this.le);
    out.set(value, 4);
    return out;
  }
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}

/** `n` bytes, each its index + seed (mod 256): distinct, recognisable payloads. */
export function payload(n: number, seed = 0): Uint8Array {
  return Uint8Array.from({ length: n }, (_, i) => (i + seed) & 0xff);
}
