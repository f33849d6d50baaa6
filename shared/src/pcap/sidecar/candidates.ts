/**
 * What a filter selects in an index block, from the index alone: nothing, some packets (from the
 * posting lists), or the whole block (the index cannot narrow it) — and whether that answer is
 * exact or only a superset. Extract reads the candidates (and applies the real filter to them);
 * estimate counts them.
 *
 * Leaves: `host`/`net` use the posting lists (a `net` unions the lists of the block's addresses
 * under it when the block keeps an exact address list); ports, protocols and the other primitives
 * use the block summary (none, or the whole block). Combinations: `and` intersects, `or` unites,
 * `not` of a proven-empty leaf is the whole block, anything else the index cannot decide reads the
 * whole block. A filter with `vlan` anywhere reads every block (offsets shift after a tag).
 *
 * Exact means: the packets whose decoded addresses satisfy the filter — what tcpdump selects with
 * the through-VLAN-tags form, except packets with more than two VLAN tags (the decoder sees
 * through up to eight, the filter through two): the answer is then an upper bound in fact. Likewise
 * a frame cut short before a field the filter reads, which libpcap (and extract) rejects even under
 * `not` (filter/compile.ts): a block answered "all" by `not` counts it.
 *
 * @example
 * const select = compileCandidates(parseFilter('host 10.0.0.1 and port 53'));
 * const c = select(block); // { kind: 'some', list: { offsets, lengths }, exact: false }
 */
import type { AddressNode, FilterNode } from '../filter/ast.js';
import { someNode } from '../filter/ast.js';
import { filterSummary } from '../filter/summary.js';
import { ipv6Key, type IndexBlock } from './block-summary.js';
import { intersect, union, type PostingList } from './postings.js';

export type Candidates = { kind: 'none' } | { kind: 'all'; exact: boolean } | { kind: 'some'; list: PostingList; exact: boolean };

/**
 * One address whose posting list alone answers the filter (`host A`, `src host A`, `ip6 host B`…):
 * the planner and estimate then count and plan straight from the encoded list (plan.ts) instead of
 * asking the selector for arrays. `exact` as for the selector's answers.
 */
export type SingleAddress = { family: 4; addr: number; exact: boolean } | { family: 6; bytes: Uint8Array; key: number; exact: boolean };

/** The per-block selector; `single` is set when the filter is one full address (see SingleAddress). */
export type CandidateSelector = ((block: IndexBlock) => Candidates) & { readonly single?: SingleAddress };

const NONE: Candidates = { kind: 'none' };
const ALL_EXACT: Candidates = { kind: 'all', exact: true };
const ALL_UNSURE: Candidates = { kind: 'all', exact: false };

/** Builds the per-block selector of `filter` (the user's filter, before throughVlanTags). */
export function compileCandidates(filter: FilterNode): CandidateSelector {
  if (filter.kind === 'all') return () => ALL_EXACT;
  if (someNode(filter, (n) => n.kind === 'vlan')) return () => ALL_UNSURE;
  const select = compile(filter);
  const single = singleAddress(filter);
  return single ? Object.assign(select, { single }) : select;
}

/** The filter's one full address (a /32 or /128 `host`/`net`, any direction or layer), or null. */
export function singleAddress(filter: FilterNode): SingleAddress | null {
  if (filter.kind !== 'address') return null;
  const exact = filter.dir === 'src or dst' && filter.via === undefined;
  const net = filter.net;
  if (net.family === 6) return net.prefix === 128 ? { family: 6, bytes: net.bytes, key: ipv6Key(net.bytes, 0), exact } : null;
  return net.mask >>> 0 === 0xffff_ffff ? { family: 4, addr: net.addr >>> 0, exact } : null;
}

function compile(f: FilterNode): CandidateSelector {
  switch (f.kind) {
    case 'all':
      return () => ALL_EXACT;
    case 'and': {
      const left = compile(f.left);
      const right = compile(f.right);
      return (b) => {
        const l = left(b);
        if (l.kind === 'none') return NONE;
        const r = right(b);
        if (r.kind === 'none') return NONE;
        if (l.kind === 'all') return r.kind === 'all' ? (l.exact && r.exact ? ALL_EXACT : ALL_UNSURE) : { ...r, exact: r.exact && l.exact };
        if (r.kind === 'all') return { ...l, exact: l.exact && r.exact };
        // Both are supersets of their matches, so their intersection is one of the conjunction's.
        const list = intersect(l.list, r.list);
        return list.offsets.length === 0 ? NONE : { kind: 'some', list, exact: l.exact && r.exact };
      };
    }
    case 'or': {
      const left = compile(f.left);
      const right = compile(f.right);
      return (b) => {
        const l = left(b);
        if (l.kind === 'all' && l.exact) return l;
        const r = right(b);
        if (l.kind === 'none') return r;
        if (r.kind === 'none') return l;
        if (l.kind === 'all' || r.kind === 'all') return r.kind === 'all' && r.exact ? ALL_EXACT : ALL_UNSURE;
        return { kind: 'some', list: union(l.list, r.list), exact: l.exact && r.exact };
      };
    }
    case 'not': {
      const operand = compile(f.operand);
      return (b) => {
        const c = operand(b);
        if (c.kind === 'none') return ALL_EXACT;
        if (c.kind === 'all' && c.exact) return NONE;
        return ALL_UNSURE;
      };
    }
    case 'address':
      return address(f);
    default: {
      // Ports, protocols, link protocols, lengths: the block summary rules the block in or out.
      const mayMatch = filterSummary(f);
      return (b) => (mayMatch(b) ? ALL_UNSURE : NONE);
    }
  }
}

function address(f: AddressNode): CandidateSelector {
  // The lists know "this packet has the address", not its direction or layer: `src host`,
  // `ip host` select fewer packets than the list.
  const exact = f.dir === 'src or dst' && f.via === undefined;
  const net = f.net;
  if (net.family === 6) {
    return (b) => {
      if (!b.mayHaveIpv6(net.bytes, net.prefix)) return NONE;
      if (net.prefix < 128) return ALL_UNSURE;
      const list = b.packetsOfIpv6(net.bytes);
      return list ? { kind: 'some', list, exact } : ALL_UNSURE;
    };
  }
  const full = net.mask >>> 0 === 0xffff_ffff;
  return (b) => {
    if (!b.mayHaveIpv4(net.addr, net.mask)) return NONE;
    if (full) {
      const list = b.packetsOfIpv4(net.addr);
      return list ? { kind: 'some', list, exact } : ALL_UNSURE;
    }
    const keys = b.ipv4In(net.addr, net.mask);
    if (keys === null) return ALL_UNSURE;
    let list: PostingList = { offsets: [], lengths: [] };
    for (const key of keys) {
      const one = b.packetsOfIpv4(key);
      if (!one) return ALL_UNSURE;
      list = union(list, one);
    }
    return { kind: 'some', list, exact };
  };
}
