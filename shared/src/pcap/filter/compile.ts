/**
 * Filter AST → a specialised JavaScript predicate, generated per link type with `new Function`,
 * that reads the packet bytes at libpcap's offsets (no AST walk, no decode, no allocation per
 * packet). Semantics are libpcap 1.10's, byte for byte:
 *
 * - `ip`/`ip6`/`arp`/`rarp` test the EtherType (SLL/SLL2/C-HDLC protocol field, PPP protocol,
 *   raw-IP version nibble, loopback address family — NULL accepted in either byte order).
 * - `host`/`net` with an IPv4 address also match ARP and RARP sender/target protocol addresses
 *   (at the fixed Ethernet/IPv4 ARP offsets 14 and 24, as libpcap); IPv6 ones test IPv6 only.
 * - `port`/`portrange`: IPv4 TCP/UDP/SCTP that is not a later fragment, ports after the IHL;
 *   IPv6 with TCP/UDP/SCTP as the FIRST next header, ports at offset 40 (no extension-header walk).
 * - `tcp`, `udp`, `sctp`, `proto N`: IPv4 protocol field (fragments included); IPv6 next header,
 *   or next header after one fragment header. `icmp` is IPv4 only, `icmp6` IPv6 only.
 * - `vlan [N]` (Ethernet only) tests a tag at the current position and, like libpcap, moves every
 *   primitive written AFTER it 4 bytes further into the frame.
 * - `less N`/`greater N` compare the original (wire) length.
 * - A read past the captured bytes makes that test false (libpcap rejects the whole packet; the two
 *   differ only for a truncated header inside an `or`).
 *
 * @example
 * const f = compileFilter(parseFilter('host 10.0.0.1 and tcp port 443'));
 * if (f.matches(view)) writer.write(view);
 */
import type { AddressNode, FilterNode, PortNode } from './ast.js';
import type { PacketView } from '../types.js';

/** A compiled predicate over a packet's bytes: data, captured length, original length. */
export type PacketPredicate = (data: Uint8Array, caplen: number, origLen: number) => boolean;

export interface CompiledFilter {
  /** True when the packet matches. */
  matches(view: PacketView): boolean;
  /** The predicate for one link type (compiled on first use, then cached): the hot-loop form. */
  forLinkType(linkType: number): PacketPredicate;
  /** The generated JavaScript expression for a link type (for debugging and tests). */
  source(linkType: number): string;
}

/** Where a link type keeps its network-layer protocol and header. */
type Layout =
  | { kind: 'typed'; typeAt: number; netAt: number; vlan: boolean }
  | { kind: 'ppp'; typeAt: number; netAt: number; vlan: false }
  | { kind: 'raw' | 'null' | 'loop' | 'none'; typeAt: 0; netAt: number; vlan: false };

function layoutOf(linkType: number): Layout {
  switch (linkType) {
    case 1:
      return { kind: 'typed', typeAt: 12, netAt: 14, vlan: true };
    case 113:
      return { kind: 'typed', typeAt: 14, netAt: 16, vlan: false };
    case 276:
      return { kind: 'typed', typeAt: 0, netAt: 20, vlan: false };
    case 104:
      return { kind: 'typed', typeAt: 2, netAt: 4, vlan: false };
    case 9:
    case 50:
      return { kind: 'ppp', typeAt: 2, netAt: 4, vlan: false };
    case 101:
    case 228:
    case 229:
      return { kind: 'raw', typeAt: 0, netAt: 0, vlan: false };
    case 0:
      return { kind: 'null', typeAt: 0, netAt: 4, vlan: false };
    case 108:
      return { kind: 'loop', typeAt: 0, netAt: 4, vlan: false };
    default:
      return { kind: 'none', typeAt: 0, netAt: 0, vlan: false };
  }
}

const ETHER = { ip: 0x0800, ip6: 0x86dd, arp: 0x0806, rarp: 0x8035 } as const;
const PPP_PROTO = { ip: 0x0021, ip6: 0x0057 } as const;
const TPIDS = [0x8100, 0x88a8, 0x9100];

/** Helpers the generated code calls; small enough for V8 to inline. */
const helpers = {
  /** 32-bit word at `o` masked equals `value` (both as signed ints); false past caplen. */
  m32(d: Uint8Array, n: number, o: number, mask: number, value: number): boolean {
    return o + 4 <= n && (((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) & mask) === value;
  },
  /** Unsigned 16-bit at `o`, -1 past caplen. */
  u16(d: Uint8Array, n: number, o: number): number {
    return o + 2 <= n ? (d[o]! << 8) | d[o + 1]! : -1;
  },
  /** IPv4 transport port (`which` 0 = source, 2 = destination) after the IHL; -1 past caplen. */
  p4(d: Uint8Array, n: number, net: number, which: number): number {
    if (net >= n) return -1;
    const x = net + ((d[net]! & 15) << 2) + which;
    return x + 2 <= n ? (d[x]! << 8) | d[x + 1]! : -1;
  },
  /** `v` within [from, to] (a -1 "not captured" never is). */
  inr(v: number, from: number, to: number): boolean {
    return v >= from && v <= to;
  },
  /** NULL link header (host byte order of the writer, unknown here): family in either order. */
  fam(d: Uint8Array, n: number, v: number): boolean {
    if (n < 4) return false;
    return ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0 === v || (d[0]! | (d[1]! << 8) | (d[2]! << 16) | (d[3]! << 24)) >>> 0 === v;
  },
};

/** Compiles a filter for every link type it meets. */
export function compileFilter(filter: FilterNode): CompiledFilter {
  const cache = new Map<number, PacketPredicate>();
  const forLinkType = (linkType: number): PacketPredicate => {
    let fn = cache.get(linkType);
    if (!fn) {
      const body = new CodeGen(layoutOf(linkType)).expr(filter);
      const make = new Function('h', `const { m32, u16, p4, fam, inr } = h;\nreturn function match(d, n, L) { return ${body}; };`);
      fn = make(helpers) as PacketPredicate;
      cache.set(linkType, fn);
    }
    return fn;
  };
  let lastType = -1;
  let last: PacketPredicate = () => false;
  return {
    forLinkType,
    matches(view: PacketView): boolean {
      if (view.linkType !== lastType) {
        last = forLinkType(view.linkType);
        lastType = view.linkType;
      }
      return last(view.data, view.caplen, view.origLen);
    },
    source: (linkType) => new CodeGen(layoutOf(linkType)).expr(filter),
  };
}

const hex = (v: number): string => `0x${v.toString(16)}`;

/**
 * The 32-bit word at `o` under `mask` equals `value`. A full mask compiles to byte compares
 * (the first differing byte exits; a byte past caplen is undefined, never equal).
 */
function word(o: number, mask: number, value: number): string {
  if (mask !== -1) return `m32(d, n, ${o}, ${mask}, ${value})`;
  return `(${[24, 16, 8, 0].map((shift, i) => `d[${o + i}] === ${(value >>> shift) & 255}`).join(' && ')})`;
}

/** Emits one JS expression; `level` counts `vlan` primitives already emitted (libpcap's offset shift). */
class CodeGen {
  private level = 0;

  constructor(private readonly layout: Layout) {}

  private get net(): number {
    return this.layout.netAt + 4 * this.level;
  }

  private get typeAt(): number {
    return this.layout.typeAt + 4 * this.level;
  }

  expr(f: FilterNode): string {
    switch (f.kind) {
      case 'all':
        return 'true';
      case 'not':
        return `!${this.expr(f.operand)}`;
      case 'and':
      case 'or': {
        const left = this.expr(f.left);
        const right = this.expr(f.right);
        return `(${left} ${f.kind === 'and' ? '&&' : '||'} ${right})`;
      }
      case 'length':
        return f.op === 'less' ? `(L <= ${f.value})` : `(L >= ${f.value})`;
      case 'link':
        return this.isProto(f.proto);
      case 'vlan':
        return this.vlan(f.id);
      case 'proto':
        return this.proto(f.proto, f.layer);
      case 'address':
        return this.address(f);
      case 'port':
        return this.port(f);
    }
  }

  /** The network-layer protocol test at the current position. */
  private isProto(p: 'ip' | 'ip6' | 'arp' | 'rarp'): string {
    const L = this.layout;
    const t = this.typeAt;
    switch (L.kind) {
      case 'typed':
        return `(d[${t}] === ${hex(ETHER[p] >> 8)} && d[${t + 1}] === ${hex(ETHER[p] & 255)})`;
      case 'ppp':
        return p === 'ip' || p === 'ip6' ? `(d[${t}] === 0 && d[${t + 1}] === ${hex(PPP_PROTO[p])})` : 'false';
      case 'raw':
        return p === 'ip' ? `((d[0] & 0xf0) === 0x40)` : p === 'ip6' ? `((d[0] & 0xf0) === 0x60)` : 'false';
      case 'null':
        return p === 'ip' ? 'fam(d, n, 2)' : p === 'ip6' ? '(fam(d, n, 24) || fam(d, n, 28) || fam(d, n, 30))' : 'false';
      case 'loop':
        return p === 'ip'
          ? '(n >= 4 && d[0] === 0 && d[1] === 0 && d[2] === 0 && d[3] === 2)'
          : p === 'ip6'
            ? '(n >= 4 && d[0] === 0 && d[1] === 0 && d[2] === 0 && (d[3] === 24 || d[3] === 28 || d[3] === 30))'
            : 'false';
      case 'none':
        return 'false';
    }
  }

  private vlan(id: number | undefined): string {
    if (!this.layout.vlan) {
      this.level++;
      return 'false';
    }
    const t = this.typeAt;
    const tpid = TPIDS.map((v) => `(d[${t}] === ${hex(v >> 8)} && d[${t + 1}] === ${hex(v & 255)})`).join(' || ');
    const idTest = id === undefined ? '' : ` && (u16(d, n, ${t + 2}) & 0xfff) === ${id} && n >= ${t + 4}`;
    this.level++;
    return `((${tpid})${idTest})`;
  }

  private proto(proto: number, layer: 'ip' | 'ip6' | 'any'): string {
    const N = this.net;
    const v4 = `(${this.isProto('ip')} && d[${N + 9}] === ${proto})`;
    const v6 = `(${this.isProto('ip6')} && (d[${N + 6}] === ${proto} || (d[${N + 6}] === 44 && d[${N + 40}] === ${proto})))`;
    if (layer === 'ip') return v4;
    if (layer === 'ip6') return v6;
    return `(${v4} || ${v6})`;
  }

  private address(f: AddressNode): string {
    const N = this.net;
    if (f.net.family === 6) {
      const { bytes, prefix } = f.net;
      const at = (base: number): string => {
        const parts: string[] = [];
        for (let w = 0; w < 4; w++) {
          const bits = Math.max(0, Math.min(32, prefix - 32 * w));
          if (bits === 0) break;
          const mask = bits === 32 ? -1 : (0xffffffff << (32 - bits)) | 0;
          const value = (((bytes[4 * w]! << 24) | (bytes[4 * w + 1]! << 16) | (bytes[4 * w + 2]! << 8) | bytes[4 * w + 3]!) & mask) | 0;
          parts.push(word(base + 4 * w, mask, value));
        }
        return parts.length ? `(${parts.join(' && ')})` : `(n >= ${base + 16})`;
      };
      return `(${this.isProto('ip6')} && ${dirTest(f.dir, at(N + 8), at(N + 24))})`;
    }
    const mask = f.net.mask | 0;
    const value = (f.net.addr & f.net.mask) | 0;
    const at = (o: number): string => word(o, mask, value);
    const alternatives: string[] = [];
    if (f.via === undefined || f.via === 'ip') alternatives.push(`(${this.isProto('ip')} && ${dirTest(f.dir, at(N + 12), at(N + 16))})`);
    for (const p of ['arp', 'rarp'] as const) {
      if (f.via !== undefined && f.via !== p) continue;
      const is = this.isProto(p);
      if (is !== 'false') alternatives.push(`(${is} && ${dirTest(f.dir, at(N + 14), at(N + 24))})`);
    }
    return alternatives.length ? `(${alternatives.join(' || ')})` : 'false';
  }

  private port(f: PortNode): string {
    const N = this.net;
    const protos = f.proto === undefined ? [6, 17, 132] : [{ tcp: 6, udp: 17, sctp: 132 }[f.proto]];
    const inRange = (v: string): string => (f.from === f.to ? `${v} === ${f.from}` : `inr(${v}, ${f.from}, ${f.to})`);
    const protoTest = (at: number): string => `(${protos.map((p) => `d[${at}] === ${p}`).join(' || ')})`;
    const v4 = `(${this.isProto('ip')} && ${protoTest(N + 9)} && (d[${N + 6}] & 0x1f) === 0 && d[${N + 7}] === 0 && ${dirTest(
      f.dir,
      `(${inRange(`p4(d, n, ${N}, 0)`)})`,
      `(${inRange(`p4(d, n, ${N}, 2)`)})`,
    )})`;
    const v6 = `(${this.isProto('ip6')} && ${protoTest(N + 6)} && ${dirTest(
      f.dir,
      `(${inRange(`u16(d, n, ${N + 40})`)})`,
      `(${inRange(`u16(d, n, ${N + 42})`)})`,
    )})`;
    return `(${v4} || ${v6})`;
  }
}

function dirTest(dir: AddressNode['dir'], src: string, dst: string): string {
  switch (dir) {
    case 'src':
      return src;
    case 'dst':
      return dst;
    case 'src or dst':
      return `(${src} || ${dst})`;
    case 'src and dst':
      return `(${src} && ${dst})`;
  }
}
