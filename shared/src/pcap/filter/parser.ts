/**
 * Recursive-descent parser for the tcpdump (pcap-filter) expression language, subset documented
 * in errors.ts. Grammar and rules follow libpcap 1.10's grammar.y:
 *
 *   expr      := term (('and' | '&&' | 'or' | '||') (term | id))*    — and/or: EQUAL precedence, left-assoc
 *   term      := ('not' | '!') term | '(' expr ')' | primitive
 *   primitive := [proto] [dir] [type] id | proto-abbrev | 'vlan' [N] | 'less' N | 'greater' N
 *
 * Implied qualifiers: a bare id after and/or/not reuses the qualifiers of the previous primitive
 * (`host 1.2.3.4 or 5.6.7.8`, `tcp port 80 or 443`, `port 22 and not 23`); after `( … )` the
 * qualifiers in force before the parenthesis apply.
 *
 * @example
 * parseFilter('tcp port 80 or 443 and not src net 10.0.0.0/8')
 */
import type { AddressNode, Direction, FilterNode, PortNode } from './ast.js';
import { hasHostBits6, parseIpv4, parseIpv4Network, parseIpv6, parseNumber, prefixMask4 } from './address.js';
import { FilterSyntaxError, FilterUnsupportedError } from './errors.js';
import { PORT_NAMES } from './ports.js';
import { tokenize, type Token } from './lexer.js';

type ProtoQual = 'ip' | 'ip6' | 'arp' | 'rarp' | 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmp6' | 'igmp' | 'pim' | 'vrrp';
type TypeQual = 'host' | 'net' | 'port' | 'portrange';

/** Qualifiers a bare id inherits; null after a primitive that takes no id (`tcp`, `vlan`, …). */
interface Quals {
  proto?: ProtoQual;
  dir?: Direction;
  type?: TypeQual;
}

/** Protocol abbreviations as libpcap compiles them: number and IP layer. */
const PROTO_ABBREV: Record<string, { proto: number; layer: 'ip' | 'ip6' | 'any' }> = {
  tcp: { proto: 6, layer: 'any' },
  udp: { proto: 17, layer: 'any' },
  sctp: { proto: 132, layer: 'any' },
  icmp: { proto: 1, layer: 'ip' },
  icmp6: { proto: 58, layer: 'ip6' },
  igmp: { proto: 2, layer: 'ip' },
  pim: { proto: 103, layer: 'any' },
  vrrp: { proto: 112, layer: 'ip' },
};
const LINK_PROTOS = new Set(['ip', 'ip6', 'arp', 'rarp']);
const TYPE_QUALS = new Set(['host', 'net', 'port', 'portrange']);
/** Protocol names accepted after `proto` (tcpdump wants them escaped: `ip proto \tcp`). */
const PROTO_NUMBERS: Record<string, number> = { icmp: 1, igmp: 2, tcp: 6, udp: 17, icmp6: 58, sctp: 132, pim: 103, vrrp: 112, esp: 50, ah: 51, gre: 47 };
const UNSUPPORTED = new Set([
  'ether',
  'gateway',
  'broadcast',
  'multicast',
  'mpls',
  'pppoed',
  'pppoes',
  'geneve',
  'len',
  'inbound',
  'outbound',
  'ifname',
  'on',
  'rnr',
  'rulenum',
  'reason',
  'rset',
  'srnr',
  'subrulenum',
  'action',
  'wlan',
  'type',
  'subtype',
  'dir',
  'llc',
  'iso',
  'esis',
  'isis',
  'clnp',
  'stp',
  'ipx',
  'netbeui',
  'atalk',
  'aarp',
  'decnet',
  'lat',
  'sca',
  'moprc',
  'mopdl',
  'protochain',
  'fddi',
  'tr',
  'wlan',
  'ra',
  'ta',
  'addr1',
  'addr2',
  'addr3',
  'addr4',
  'radio',
  'lane',
  'oamf4',
  'oamf4ec',
  'oamf4sc',
  'metac',
  'metaconnect',
  'bcc',
  'sc',
  'ilmic',
  'connectmsg',
  'vpi',
  'vci',
  'igrp',
  'carp',
  'ah',
  'esp',
  'ip6multicast',
  'hdlc',
  'iso',
  'slip',
  'link',
]);

/** Parses tcpdump filter text into an AST; empty text matches everything. */
export function parseFilter(text: string): FilterNode {
  return new Parser(tokenize(text)).parseAll();
}

class Parser {
  private i = 0;

  constructor(private readonly tokens: Token[]) {}

  parseAll(): FilterNode {
    if (this.peek().kind === 'end') return { kind: 'all' };
    const { node } = this.expr({ type: undefined });
    const t = this.peek();
    if (t.kind !== 'end') this.fail(t, t.kind === ')' ? 'end of filter (unbalanced ")")' : '"and", "or" or the end of the filter');
    return node;
  }

  private peek(ahead = 0): Token {
    return this.tokens[Math.min(this.i + ahead, this.tokens.length - 1)]!;
  }

  private take(): Token {
    const t = this.peek();
    if (this.i < this.tokens.length - 1) this.i++;
    return t;
  }

  private fail(t: Token, expected: string): never {
    throw new FilterSyntaxError(t.position, expected, t.kind === 'end' ? 'the end of the filter' : `'${t.text}'`);
  }

  private expr(inherited: Quals | null): { node: FilterNode; quals: Quals | null } {
    let { node, quals } = this.term(inherited);
    for (let t = this.peek(); t.kind === 'and' || t.kind === 'or'; t = this.peek()) {
      this.take();
      const right = this.term(quals);
      node = { kind: t.kind, left: node, right: right.node };
      quals = right.quals;
    }
    return { node, quals };
  }

  private term(inherited: Quals | null): { node: FilterNode; quals: Quals | null } {
    const t = this.peek();
    if (t.kind === 'not') {
      this.take();
      const inner = this.term(inherited);
      return { node: { kind: 'not', operand: inner.node }, quals: inner.quals };
    }
    if (t.kind === '(') {
      this.take();
      const inner = this.expr(inherited);
      if (this.peek().kind !== ')') this.fail(this.peek(), '")" to close the "(" at ' + t.position);
      this.take();
      return { node: inner.node, quals: inherited };
    }
    if (t.kind !== 'word') this.fail(t, 'a primitive (host, net, port, tcp, …), "not" or "("');
    return this.primitive(inherited);
  }

  private primitive(inherited: Quals | null): { node: FilterNode; quals: Quals | null } {
    const t = this.take();
    const word = t.text;
    if (UNSUPPORTED.has(word)) throw new FilterUnsupportedError(t.position, `'${word}'`);
    if (word === 'less' || word === 'greater') {
      const value = this.number(`a length after '${word}'`);
      return { node: { kind: 'length', op: word, value }, quals: null };
    }
    if (word === 'vlan') {
      const next = this.peek();
      if (next.kind === 'word' && parseNumber(next.text) !== null) {
        this.take();
        const id = parseNumber(next.text)!;
        if (id > 4095) throw new FilterSyntaxError(next.position, 'a VLAN id 0..4095', `'${next.text}'`);
        return { node: { kind: 'vlan', id }, quals: null };
      }
      return { node: { kind: 'vlan' }, quals: null };
    }
    const quals: Quals = {};
    let at: Token = t;
    if (LINK_PROTOS.has(word) || word in PROTO_ABBREV) {
      quals.proto = word as ProtoQual;
      const next = this.peek();
      if (next.kind === 'word' && next.text === 'proto') {
        this.take();
        return { node: this.protoNumber(quals.proto, next), quals: null };
      }
      if (next.kind !== 'word' || !(TYPE_QUALS.has(next.text) || next.text === 'src' || next.text === 'dst')) {
        if (LINK_PROTOS.has(word)) return { node: { kind: 'link', proto: word as 'ip' }, quals: null };
        const abbrev = PROTO_ABBREV[word]!;
        return { node: { kind: 'proto', ...abbrev, name: word }, quals: null };
      }
      at = this.take();
    }
    if (at.text === 'proto') return { node: this.protoNumber(undefined, at), quals: null };
    if (at.text === 'src' || at.text === 'dst') {
      quals.dir = at.text;
      const op = this.peek();
      const other = this.peek(1);
      if ((op.kind === 'and' || op.kind === 'or') && other.kind === 'word' && other.text === (at.text === 'src' ? 'dst' : 'src')) {
        this.take();
        this.take();
        quals.dir = op.kind === 'and' ? 'src and dst' : 'src or dst';
      }
      const next = this.peek();
      if (next.kind === 'word' && TYPE_QUALS.has(next.text)) at = this.take();
      else return { node: this.id(quals, at), quals };
    }
    if (TYPE_QUALS.has(at.text)) {
      quals.type = at.text as TypeQual;
      return { node: this.id(quals, at), quals };
    }
    if (at !== t) this.fail(at, 'host, net, port, portrange, proto, src or dst');
    // A bare id: the qualifiers of the previous primitive apply (or `host` at the very start).
    if (inherited === null) this.fail(t, 'a primitive (host, net, port, tcp, …) — a bare value cannot follow this one');
    this.i--;
    return { node: this.id(inherited, t), quals: inherited };
  }

  private number(expected: string): number {
    const t = this.take();
    const value = t.kind === 'word' ? parseNumber(t.text) : null;
    if (value === null) this.fail(t, expected);
    return value;
  }

  private protoNumber(layer: ProtoQual | undefined, at: Token): FilterNode {
    const t = this.take();
    const text = t.text.startsWith('\\') ? t.text.slice(1) : t.text;
    const proto = t.kind === 'word' ? (parseNumber(text) ?? PROTO_NUMBERS[text] ?? null) : null;
    if (proto === null || proto > 255) this.fail(t, `a protocol number 0..255 or name after '${at.text}'`);
    if (layer !== undefined && layer !== 'ip' && layer !== 'ip6') throw new FilterUnsupportedError(at.position, `'${layer} proto'`);
    return { kind: 'proto', proto, layer: layer ?? 'any' };
  }

  /** The operand of a qualified primitive (`quals.type` undefined means host). */
  private id(quals: Quals, after: Token): FilterNode {
    const t = this.take();
    if (t.kind !== 'word') this.fail(t, `a value after '${after.text}'`);
    const dir = quals.dir ?? 'src or dst';
    switch (quals.type) {
      case 'port':
      case 'portrange':
        return this.port(quals, dir, t);
      case 'net':
        return this.net(quals, dir, t);
      default:
        return this.host(quals, dir, t, after);
    }
  }

  private via(quals: Quals, t: Token, family: 4 | 6): AddressNode['via'] {
    const p = quals.proto;
    if (p === undefined) return undefined;
    if (family === 6 && p === 'ip6') return p;
    if (family === 4 && (p === 'ip' || p === 'arp' || p === 'rarp')) return p;
    throw new FilterSyntaxError(
      t.position,
      family === 6 ? "no qualifier or 'ip6' before an IPv6 address" : "no qualifier or 'ip', 'arp', 'rarp' before an IPv4 address",
      `'${p}'`,
    );
  }

  private host(quals: Quals, dir: Direction, t: Token, after: Token): FilterNode {
    if (this.peek().kind === '/' || (this.peek().kind === 'word' && this.peek().text === 'mask')) {
      this.fail(this.peek(), `the end of the host (a mask belongs to 'net', not 'host')`);
    }
    const v4 = parseIpv4(t.text);
    if (v4 !== null) return { kind: 'address', isHost: true, dir, net: { family: 4, addr: v4, mask: 0xffffffff }, via: this.via(quals, t, 4) };
    const v6 = parseIpv6(t.text);
    if (v6 !== null) return { kind: 'address', isHost: true, dir, net: { family: 6, bytes: v6, prefix: 128 }, via: this.via(quals, t, 6) };
    if (after === t) return this.fail(t, 'a primitive (host, net, port, tcp, …) or an address');
    return this.fail(t, `an IPv4 or IPv6 address after '${after.text}' (host names are not resolved)`);
  }

  private net(quals: Quals, dir: Direction, t: Token): FilterNode {
    const v6 = parseIpv6(t.text);
    if (v6 !== null) {
      let prefix = 128;
      if (this.peek().kind === '/') {
        this.take();
        prefix = this.number('a prefix length 0..128 after "/"');
        if (prefix > 128) this.fail(this.tokens[this.i - 1]!, 'a prefix length 0..128');
      }
      if (hasHostBits6(v6, prefix)) this.fail(t, `a network address without bits set past /${prefix}`);
      return { kind: 'address', isHost: false, dir, net: { family: 6, bytes: v6, prefix }, via: this.via(quals, t, 6) };
    }
    const v4 = parseIpv4Network(t.text);
    if (v4 === null) this.fail(t, "an IPv4 or IPv6 network after 'net' (e.g. 10.0.0.0/8)");
    let mask = prefixMask4(8 * v4.parts);
    const next = this.peek();
    if (next.kind === '/') {
      this.take();
      const prefix = this.number('a prefix length 0..32 after "/"');
      if (prefix > 32) this.fail(this.tokens[this.i - 1]!, 'a prefix length 0..32');
      mask = prefixMask4(prefix);
    } else if (next.kind === 'word' && next.text === 'mask') {
      this.take();
      const m = this.take();
      const value = m.kind === 'word' ? parseIpv4(m.text) : null;
      if (value === null) this.fail(m, "a dotted mask after 'mask' (e.g. 255.255.0.0)");
      mask = value;
    }
    if ((v4.addr & ~mask) !== 0) this.fail(t, `a network address without host bits (mask ${formatMask(mask)})`);
    return { kind: 'address', isHost: false, dir, net: { family: 4, addr: v4.addr, mask }, via: this.via(quals, t, 4) };
  }

  private port(quals: Quals, dir: Direction, t: Token): PortNode {
    const p = quals.proto;
    if (p !== undefined && p !== 'tcp' && p !== 'udp' && p !== 'sctp') {
      throw new FilterSyntaxError(t.position, "no qualifier or 'tcp', 'udp', 'sctp' before a port", `'${p}'`);
    }
    let proto: PortNode['proto'] = p;
    const one = (text: string): number => {
      const n = parseNumber(text);
      if (n !== null) {
        if (n > 65535) this.fail(t, 'a port number 0..65535');
        return n;
      }
      const named = PORT_NAMES[text];
      if (!named) this.fail(t, `a port number or a known port name after '${quals.type}'`);
      if (named.proto && proto && named.proto !== proto) this.fail(t, `a ${proto} port ('${text}' is ${named.proto} only)`);
      if (named.proto) proto = proto ?? named.proto;
      return named.port;
    };
    if (quals.type === 'portrange') {
      const dash = t.text.indexOf('-', 1);
      if (dash < 0) this.fail(t, "a range like 1024-65535 after 'portrange'");
      const a = one(t.text.slice(0, dash));
      const b = one(t.text.slice(dash + 1));
      return { kind: 'port', dir, from: Math.min(a, b), to: Math.max(a, b), proto };
    }
    const port = one(t.text);
    return { kind: 'port', dir, from: port, to: port, proto };
  }
}

function formatMask(mask: number): string {
  return `${mask >>> 24}.${(mask >>> 16) & 255}.${(mask >>> 8) & 255}.${mask & 255}`;
}
