/**
 * AST → canonical tcpdump text: qualifiers spelled out only when not the default, IPv6 in
 * RFC 5952 form, parentheses where the left-associative and/or needs them. The output parses
 * back to the same AST and is accepted by tcpdump itself.
 *
 * @example
 * formatFilter(parseFilter('host 1.2.3.4 or 5.6.7.8 && !port 22')) // 'host 1.2.3.4 or host 5.6.7.8 and not port 22'
 */
import type { FilterNode, Network } from './ast.js';
import { formatIpv4, formatIpv6 } from '../decode.js';

export function formatFilter(f: FilterNode): string {
  switch (f.kind) {
    case 'all':
      return '';
    case 'not':
      return `not ${wrap(f.operand, true)}`;
    case 'and':
    case 'or':
      // Equal precedence, left-associative: a binary right operand always needs parentheses;
      // a left one of the other operator gets them for the reader's sake.
      return `${f.left.kind !== f.kind ? wrap(f.left, true) : formatFilter(f.left)} ${f.kind} ${wrap(f.right, true)}`;
    case 'length':
      return `${f.op} ${f.value}`;
    case 'link':
      return f.proto;
    case 'vlan':
      return f.id === undefined ? 'vlan' : `vlan ${f.id}`;
    case 'proto':
      if (f.name) return f.name;
      return `${f.layer === 'any' ? '' : `${f.layer} `}proto ${f.proto}`;
    case 'address': {
      const qual = [f.via, f.dir === 'src or dst' ? undefined : f.dir, f.isHost ? 'host' : 'net'].filter(Boolean).join(' ');
      return `${qual} ${formatNetwork(f.net, f.isHost)}`;
    }
    case 'port': {
      const type = f.from === f.to ? 'port' : 'portrange';
      const qual = [f.proto, f.dir === 'src or dst' ? undefined : f.dir, type].filter(Boolean).join(' ');
      return `${qual} ${f.from === f.to ? f.from : `${f.from}-${f.to}`}`;
    }
  }
}

function wrap(f: FilterNode, parens: boolean): string {
  const text = formatFilter(f);
  return parens && (f.kind === 'and' || f.kind === 'or') ? `(${text})` : text;
}

function formatNetwork(net: Network, isHost: boolean): string {
  if (net.family === 6) return isHost ? formatIpv6(net.bytes, 0) : `${formatIpv6(net.bytes, 0)}/${net.prefix}`;
  if (isHost) return formatIpv4(net.addr);
  let prefix = 0;
  while (prefix < 32 && net.mask & (0x80000000 >>> prefix)) prefix++;
  const contiguous = prefix === 32 ? net.mask >>> 0 === 0xffffffff : ((net.mask << prefix) | 0) === 0;
  return contiguous ? `${formatIpv4(net.addr)}/${prefix}` : `${formatIpv4(net.addr)} mask ${formatIpv4(net.mask >>> 0)}`;
}
