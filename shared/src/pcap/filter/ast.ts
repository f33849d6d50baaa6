/**
 * The filter AST: what the tcpdump-style text parser and the structured job form both produce,
 * what the compiler turns into a predicate, and what `formatFilter` prints back as canonical text.
 *
 * Semantics follow libpcap 1.10 (see compile.ts for the exact byte-level meaning of each node).
 */

/** Direction qualifier: `src`, `dst`, `src or dst` (the default) and `src and dst`. */
export type Direction = 'src' | 'dst' | 'src or dst' | 'src and dst';

/** An IPv4 network: `addr` and `mask` are unsigned 32-bit ints, `addr & ~mask` is 0. */
export interface Net4 {
  family: 4;
  addr: number;
  mask: number;
}

/** An IPv6 network: 16 address bytes and a prefix length 0..128 (bits past it are 0). */
export interface Net6 {
  family: 6;
  bytes: Uint8Array;
  prefix: number;
}

export type Network = Net4 | Net6;

/**
 * `host`/`net` primitives. `host` is a network with a full mask; `isHost` keeps the spelling for
 * printing. `via` restricts the layer: undefined = IPv4 + ARP + RARP (or IPv6 for an IPv6 address).
 */
export interface AddressNode {
  kind: 'address';
  isHost: boolean;
  dir: Direction;
  net: Network;
  via?: 'ip' | 'ip6' | 'arp' | 'rarp';
}

/** `port`/`portrange` (a port is a range of one); `proto` undefined = TCP, UDP and SCTP. */
export interface PortNode {
  kind: 'port';
  dir: Direction;
  from: number;
  to: number;
  proto?: 'tcp' | 'udp' | 'sctp';
}

/**
 * Transport protocol test: `tcp`, `udp`, `icmp`, `ip proto N`, `ip6 proto N`, `proto N`.
 * `layer` 'ip' = IPv4 only, 'ip6' = IPv6 only (also behind one fragment header), 'any' = both.
 */
export interface ProtoNode {
  kind: 'proto';
  proto: number;
  layer: 'ip' | 'ip6' | 'any';
  /** The keyword it was written as (`tcp`, `icmp6`, …), for printing; undefined for `… proto N`. */
  name?: string;
}

/** Network-layer test: `ip`, `ip6`, `arp`, `rarp`. */
export interface LinkProtoNode {
  kind: 'link';
  proto: 'ip' | 'ip6' | 'arp' | 'rarp';
}

/** `vlan` / `vlan N`: the frame has a VLAN tag here (with that id); shifts what follows (libpcap). */
export interface VlanNode {
  kind: 'vlan';
  id?: number;
}

/** `less N` (wire length <= N) and `greater N` (wire length >= N). */
export interface LengthNode {
  kind: 'length';
  op: 'less' | 'greater';
  value: number;
}

export interface NotNode {
  kind: 'not';
  operand: FilterNode;
}

export interface BinaryNode {
  kind: 'and' | 'or';
  left: FilterNode;
  right: FilterNode;
}

/** Matches every packet (the empty filter, or an empty structured form). */
export interface AllNode {
  kind: 'all';
}

export type FilterNode = AddressNode | PortNode | ProtoNode | LinkProtoNode | VlanNode | LengthNode | NotNode | BinaryNode | AllNode;

/** Builds `left and right` (or the one present when the other is undefined). */
export function andAll(nodes: FilterNode[]): FilterNode {
  if (nodes.length === 0) return { kind: 'all' };
  return nodes.reduce((left, right) => ({ kind: 'and', left, right }));
}

/** Builds `a or b or …`; an empty list is not allowed (nothing would match). */
export function orAll(nodes: FilterNode[]): FilterNode {
  if (nodes.length === 0) throw new Error('orAll needs at least one operand');
  return nodes.reduce((left, right) => ({ kind: 'or', left, right }));
}

/**
 * The filter as applied "through VLAN tags": `F or (vlan and (F or (vlan and F)))`, the form that
 * matches untagged, 802.1Q and QinQ frames alike (see /work/shared/pcaps/README.md, Lessons).
 */
export function throughVlanTags(f: FilterNode): FilterNode {
  if (f.kind === 'all') return f;
  const vlan: FilterNode = { kind: 'vlan' };
  return {
    kind: 'or',
    left: f,
    right: { kind: 'and', left: vlan, right: { kind: 'or', left: f, right: { kind: 'and', left: vlan, right: f } } },
  };
}

/** True when any node of `f` satisfies `pred`. */
export function someNode(f: FilterNode, pred: (n: FilterNode) => boolean): boolean {
  if (pred(f)) return true;
  if (f.kind === 'not') return someNode(f.operand, pred);
  if (f.kind === 'and' || f.kind === 'or') return someNode(f.left, pred) || someNode(f.right, pred);
  return false;
}
