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
 * - A read past the captured bytes rejects the whole packet, as libpcap's BPF machine does (a load
 *   out of bounds ends the program with "no match"): `not host X` does not select an IPv4 frame cut
 *   before its addresses, nor any Ethernet frame shorter than 14 bytes. Loads happen in libpcap's
 *   order and widths (EtherType 2 bytes, an address word 4, ports 2). libpcap's optimiser removes
 *   a load whose result cannot change the outcome given the values loaded before it (`arp or host
 *   X` accepts a short ARP frame: the EtherType already decided), so when a load fails the packet
 *   is decided again by `truncatedVerdict` (three-valued, see there); full packets never take
 *   that path. The generated predicate throws SHORT at a failing load; its wrapper catches it.
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

/** Thrown by a generated predicate at a load past the captured bytes (libpcap: reject the packet). */
const SHORT = new Error('load past the captured bytes');
/** Thrown in "known values only" mode by a load the BPF program had not made before (see truncatedVerdict). */
const UNKNOWN = new Error('load not made before');

/** Helpers the generated code calls; small enough for V8 to inline. Each throws SHORT past caplen. */
const helpers = {
  SHORT,
  /** Throws SHORT: the generated code calls it as `(n >= end || s())` before a load ending at `end`. */
  s(): never {
    throw SHORT;
  },
  /** 32-bit word at `o` masked equals `value` (both as signed ints). */
  m32(d: Uint8Array, n: number, o: number, mask: number, value: number): boolean {
    if (o + 4 > n) throw SHORT;
    return (((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) & mask) === value;
  },
  /** Unsigned 16-bit at `o`. */
  u16(d: Uint8Array, n: number, o: number): number {
    if (o + 2 > n) throw SHORT;
    return (d[o]! << 8) | d[o + 1]!;
  },
  /** IPv4 transport port (`which` 0 = source, 2 = destination) after the IHL (libpcap's `ldxb 4*([net]&0xf)`). */
  p4(d: Uint8Array, n: number, net: number, which: number): number {
    if (net >= n) throw SHORT;
    const x = net + ((d[net]! & 15) << 2) + which;
    if (x + 2 > n) throw SHORT;
    return (d[x]! << 8) | d[x + 1]!;
  },
  /** `v` within [from, to]. */
  inr(v: number, from: number, to: number): boolean {
    return v >= from && v <= to;
  },
  /** NULL link header (host byte order of the writer, unknown here): family in either order. */
  fam(d: Uint8Array, n: number, v: number): boolean {
    if (n < 4) throw SHORT;
    return ((d[0]! << 24) | (d[1]! << 16) | (d[2]! << 8) | d[3]!) >>> 0 === v || (d[0]! | (d[1]! << 8) | (d[2]! << 16) | (d[3]! << 24)) >>> 0 === v;
  },
};

/**
 * State of the slow path (truncatedVerdict), one packet at a time: the loads made so far (key
 * start * 65536 + end) and whether only those may be used.
 */
const slowState = { knownOnly: false, known: new Set<number>() };

/** The load [start, end): in bounds and, in "known values only" mode, made before; else throws. */
function load(n: number, start: number, end: number): true {
  const key = start * 65536 + end;
  if (slowState.knownOnly) {
    if (!slowState.known.has(key)) throw UNKNOWN;
    return true;
  }
  if (end > n) throw SHORT;
  slowState.known.add(key); // (-1, 0): the packet length, never out of bounds
  return true;
}

/** The helpers of the slow path: the same contracts, every load through `load`. */
const slowHelpers = {
  ...helpers,
  k: load,
  m32(d: Uint8Array, n: number, o: number, mask: number, value: number): boolean {
    load(n, o, o + 4);
    return (((d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!) & mask) === value;
  },
  u16(d: Uint8Array, n: number, o: number): number {
    load(n, o, o + 2);
    return (d[o]! << 8) | d[o + 1]!;
  },
  p4(d: Uint8Array, n: number, net: number, which: number): number {
    load(n, net, net + 1);
    const x = net + ((d[net]! & 15) << 2) + which;
    load(n, x, x + 2);
    return (d[x]! << 8) | d[x + 1]!;
  },
  fam(d: Uint8Array, n: number, v: number): boolean {
    load(n, 0, 4);
    return helpers.fam(d, n, v);
  },
};

type Verdict = 0 | 1 | 2; // false, true, undecided (a load failed or was not made before)
type SlowNode = (d: Uint8Array, n: number, L: number) => Verdict;

/**
 * The slow path's evaluator of `filter` for one link type: a three-valued walk in libpcap's order.
 * A primitive whose load fails is undecided (2). `A or B` with A undecided is true when B is true
 * from loads already made (libpcap's optimiser then drops A's failing load), else undecided;
 * `A and B` with A undecided is false when B is false from loads already made; `not` keeps
 * undecided. Undecided at the top rejects the packet (the load stayed in the program and failed).
 */
function truncatedVerdict(filter: FilterNode, layout: Layout): (d: Uint8Array, n: number, L: number) => boolean {
  const gen = new CodeGen(layout, true); // one generator, walked in order: `vlan` shifts what follows
  const build = (f: FilterNode): SlowNode => {
    switch (f.kind) {
      case 'not': {
        const x = build(f.operand);
        return (d, n, L) => {
          const v = x(d, n, L);
          return v === 2 ? 2 : v === 1 ? 0 : 1;
        };
      }
      case 'and':
      case 'or': {
        const a = build(f.left);
        const b = build(f.right);
        const decisive = f.kind === 'or' ? 1 : 0;
        return (d, n, L) => {
          const l = a(d, n, L);
          if (l === decisive) return l;
          if (l !== 2) return b(d, n, L);
          const saved = slowState.knownOnly;
          slowState.knownOnly = true;
          const r = b(d, n, L);
          slowState.knownOnly = saved;
          return r === decisive ? r : 2;
        };
      }
      default: {
        const body = gen.expr(f);
        const make = new Function('h', `const { SHORT, s, k, m32, u16, p4, fam, inr } = h;\nreturn function leaf(d, n, L) { return ${body}; };`);
        const leaf = make(slowHelpers) as PacketPredicate;
        return (d, n, L) => {
          try {
            return leaf(d, n, L) ? 1 : 0;
          } catch (e) {
            if (e === SHORT || e === UNKNOWN) return 2;
            throw e;
          }
        };
      }
    }
  };
  const root = build(filter);
  return (d, n, L) => {
    slowState.knownOnly = false;
    slowState.known.clear();
    return root(d, n, L) === 1;
  };
}

/** Compiles a filter for every link type it meets. */
export function compileFilter(filter: FilterNode): CompiledFilter {
  const cache = new Map<number, PacketPredicate>();
  const forLinkType = (linkType: number): PacketPredicate => {
    let fn = cache.get(linkType);
    if (!fn) {
      const layout = layoutOf(linkType);
      const body = new CodeGen(layout, false).expr(filter);
      let slow: PacketPredicate | undefined;
      const truncated: PacketPredicate = (d, n, L) => (slow ??= truncatedVerdict(filter, layout))(d, n, L);
      const make = new Function(
        'h',
        'truncated',
        `const { SHORT, s, m32, u16, p4, fam, inr } = h;\n` +
          `return function match(d, n, L) { try { return ${body}; } catch (e) { if (e === SHORT) return truncated(d, n, L); throw e; } };`,
      );
      fn = make(helpers, truncated) as PacketPredicate;
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
    source: (linkType) => new CodeGen(layoutOf(linkType), false).expr(filter),
  };
}

const hex = (v: number): string => `0x${v.toString(16)}`;

/**
 * Emits one JS expression; `level` counts `vlan` primitives already emitted (libpcap's offset shift).
 * `slow`: every load goes through the slow path's `k` (see truncatedVerdict), not an inline check.
 */
class CodeGen {
  private level = 0;

  constructor(
    private readonly layout: Layout,
    private readonly slow: boolean,
  ) {}

  /** The check of the load [start, end): true, or SHORT (UNKNOWN) is thrown. */
  private need(start: number, end: number): string {
    return this.slow ? `k(n, ${start}, ${end})` : `(n >= ${end} || s())`;
  }

  /** The 32-bit word at `o` under `mask` equals `value`; a full mask compiles to byte compares. */
  private word(o: number, mask: number, value: number): string {
    if (mask !== -1) return `m32(d, n, ${o}, ${mask}, ${value})`;
    return `(${this.need(o, o + 4)} && ${[24, 16, 8, 0].map((shift, i) => `d[${o + i}] === ${(value >>> shift) & 255}`).join(' && ')})`;
  }

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
      case 'length': {
        // libpcap's `ld #pktlen` is a value the optimiser knows only once loaded: a pseudo-load for the slow path.
        const test = f.op === 'less' ? `(L <= ${f.value})` : `(L >= ${f.value})`;
        return this.slow ? `(${this.need(-1, 0)} && ${test})` : test;
      }
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
        return `(${this.need(t, t + 2)} && d[${t}] === ${hex(ETHER[p] >> 8)} && d[${t + 1}] === ${hex(ETHER[p] & 255)})`;
      case 'ppp':
        return p === 'ip' || p === 'ip6' ? `(${this.need(t, t + 2)} && d[${t}] === 0 && d[${t + 1}] === ${hex(PPP_PROTO[p])})` : 'false';
      case 'raw':
        return p === 'ip' ? `(${this.need(0, 1)} && (d[0] & 0xf0) === 0x40)` : p === 'ip6' ? `(${this.need(0, 1)} && (d[0] & 0xf0) === 0x60)` : 'false';
      case 'null':
        return p === 'ip' ? 'fam(d, n, 2)' : p === 'ip6' ? '(fam(d, n, 24) || fam(d, n, 28) || fam(d, n, 30))' : 'false';
      case 'loop':
        return p === 'ip'
          ? `(${this.need(0, 4)} && d[0] === 0 && d[1] === 0 && d[2] === 0 && d[3] === 2)`
          : p === 'ip6'
            ? `(${this.need(0, 4)} && d[0] === 0 && d[1] === 0 && d[2] === 0 && (d[3] === 24 || d[3] === 28 || d[3] === 30))`
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
    const idTest = id === undefined ? '' : ` && (u16(d, n, ${t + 2}) & 0xfff) === ${id}`;
    this.level++;
    return `(${this.need(t, t + 2)} && (${tpid})${idTest})`;
  }

  private proto(proto: number, layer: 'ip' | 'ip6' | 'any'): string {
    const N = this.net;
    const v4 = `(${this.isProto('ip')} && ${this.need(N + 9, N + 10)} && d[${N + 9}] === ${proto})`;
    const v6 = `(${this.isProto('ip6')} && ${this.need(N + 6, N + 7)} && (d[${N + 6}] === ${proto} || (d[${N + 6}] === 44 && ${this.need(N + 40, N + 41)} && d[${N + 40}] === ${proto})))`;
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
          parts.push(this.word(base + 4 * w, mask, value));
        }
        return parts.length ? `(${parts.join(' && ')})` : `(n >= ${base + 16})`;
      };
      return `(${this.isProto('ip6')} && ${dirTest(f.dir, at(N + 8), at(N + 24))})`;
    }
    const mask = f.net.mask | 0;
    const value = (f.net.addr & f.net.mask) | 0;
    const at = (o: number): string => this.word(o, mask, value);
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
    const protoTest = (at: number): string => `(${this.need(at, at + 1)} && (${protos.map((p) => `d[${at}] === ${p}`).join(' || ')}))`;
    const v4 = `(${this.isProto('ip')} && ${protoTest(N + 9)} && ${this.need(N + 6, N + 8)} && (d[${N + 6}] & 0x1f) === 0 && d[${N + 7}] === 0 && ${dirTest(
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
