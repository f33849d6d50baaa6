/**
 * A conservative summary of a filter for index skipping: given what a block (or file) of
 * packets may contain, says whether any packet in it may match. "false" is a promise (no packet
 * can match); "true" only means "read it".
 *
 * The index records, per block, the IPv4 addresses (IP and ARP/RARP sender/target), IPv6
 * addresses, TCP/UDP/SCTP ports and IP protocol numbers that `decodePacket` reports. A method the
 * index does not provide counts as "may contain". Negations, `vlan`, lengths and link protocols
 * always answer "may"; `proto N` for IPv6 extension-header numbers too (the decoder reports the
 * final protocol, libpcap may test the first).
 *
 * @example
 * const mayMatch = filterSummary(parseFilter('host 10.0.0.1 and port 53'));
 * if (!mayMatch(block)) reader.seek(block.end);
 */
import type { FilterNode } from './ast.js';
import { someNode } from './ast.js';

export interface BlockContents {
  mayHaveIpv4?(addr: number, mask: number): boolean;
  mayHaveIpv6?(bytes: Uint8Array, prefix: number): boolean;
  mayHavePort?(from: number, to: number): boolean;
  mayHaveIpProto?(proto: number): boolean;
}

/** IPv6 extension headers (and "no next header"): a packet may carry them before its transport. */
const EXTENSION_PROTOS = new Set([0, 43, 44, 50, 51, 59, 60, 135, 139, 140, 253, 254]);

export type BlockPredicate = (block: BlockContents) => boolean;

/** Builds the may-match test of `filter` (the user's filter, before `throughVlanTags`). */
export function filterSummary(filter: FilterNode): BlockPredicate {
  // A `vlan` shifts the offsets of what follows it: what the later tests read is no longer the
  // decoded address or port, so such filters never skip.
  if (someNode(filter, (n) => n.kind === 'vlan')) return () => true;
  const test = (f: FilterNode, b: BlockContents): boolean => {
    switch (f.kind) {
      case 'and':
        return test(f.left, b) && test(f.right, b);
      case 'or':
        return test(f.left, b) || test(f.right, b);
      case 'address':
        if (f.net.family === 4) return b.mayHaveIpv4 ? b.mayHaveIpv4(f.net.addr, f.net.mask) : true;
        return b.mayHaveIpv6 ? b.mayHaveIpv6(f.net.bytes, f.net.prefix) : true;
      case 'port':
        return b.mayHavePort ? b.mayHavePort(f.from, f.to) : true;
      case 'proto':
        return EXTENSION_PROTOS.has(f.proto) || !b.mayHaveIpProto ? true : b.mayHaveIpProto(f.proto);
      default:
        return true;
    }
  };
  return (block) => test(filter, block);
}
