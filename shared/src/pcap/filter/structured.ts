/**
 * The structured filter of a job (what the API and the web form send) → the same AST the text
 * parser builds. Every present field must hold; within a field any entry may match:
 *
 * | field      | entries                                   | meaning                                   |
 * |------------|-------------------------------------------|-------------------------------------------|
 * | `ip`       | addresses or CIDRs (v4/v6)                | `host A or net N` (either direction)      |
 * | `src`/`dst`| addresses or CIDRs                        | `src host A` / `dst net N`                |
 * | `ports`    | numbers, names (`https`), ranges `"a-b"`  | `port P or portrange a-b` (either dir.)   |
 * | `srcPorts`/`dstPorts` | as `ports`                     | `src port P` / `dst portrange a-b`        |
 * | `protocol` | tcp, udp, sctp, icmp, icmp6, ip, ip6, arp, or a number | `tcp`, …, `proto N`          |
 * | `vlan`     | a VLAN id 0..4095                         | `vlan N`                                  |
 * | `hosts`/`nets` | addresses / CIDRs, one group (any matches) | `host A or net N`, in `direction`      |
 * | `direction`| `src`, `dst` or `either` (default)        | applies to `hosts`, `nets` and `ports`    |
 *
 * `hosts`, `nets` and `direction` are the job API's form ("packets to or from these hosts or nets on
 * these ports"): `{ hosts: ['10.1.2.3'], ports: [443], direction: 'dst' }` is `dst host 10.1.2.3 and dst
 * port 443`. They combine with the other fields like any other field.
 *
 * With `protocol` tcp/udp/sctp, ports are that protocol's (`tcp port 443`). An empty form matches
 * everything. A bad entry throws FilterFieldError naming the field and the entry.
 *
 * @example
 * structuredToFilter({ ip: ['10.1.2.3'], ports: [443], protocol: 'tcp' })
 * // same AST as parseFilter('(host 10.1.2.3) and (tcp port 443) and tcp')
 */
import { andAll, orAll, type FilterNode } from './ast.js';
import { parseFilter } from './parser.js';

export interface StructuredFilter {
  ip?: string | string[];
  src?: string | string[];
  dst?: string | string[];
  ports?: number | string | Array<number | string>;
  srcPorts?: number | string | Array<number | string>;
  dstPorts?: number | string | Array<number | string>;
  protocol?: string | number;
  vlan?: number;
  hosts?: string | string[];
  nets?: string | string[];
  /** Which side `hosts`, `nets` and `ports` must be on; default either. */
  direction?: 'src' | 'dst' | 'either';
}

const DIRECTIONS = ['src', 'dst', 'either'];

/** A structured-filter field the compiler refuses; `field` names it. */
export class FilterFieldError extends Error {
  constructor(
    readonly field: string,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`filter field '${field}': ${message}`, options);
    this.name = 'FilterFieldError';
  }
}

/** One operand: an address, a network, a port, a name, a range; nothing that could smuggle syntax. */
const ENTRY = /^[0-9A-Za-z.:/_-]+$/;
const TRANSPORTS = new Set(['tcp', 'udp', 'sctp']);
const PROTOCOLS = new Set(['tcp', 'udp', 'sctp', 'icmp', 'icmp6', 'ip', 'ip6', 'arp']);

export function structuredToFilter(s: StructuredFilter): FilterNode {
  const parts: FilterNode[] = [];
  const proto = s.protocol === undefined ? undefined : String(s.protocol).toLowerCase();
  const portProto = proto && TRANSPORTS.has(proto) ? `${proto} ` : '';
  if (s.direction !== undefined && !DIRECTIONS.includes(s.direction)) {
    throw new FilterFieldError('direction', `'${s.direction}' is not one of ${DIRECTIONS.join(', ')}`);
  }
  const side = s.direction === 'src' || s.direction === 'dst' ? `${s.direction} ` : '';
  /** The entries of one field, each compiled on its own (so an entry cannot smuggle syntax). */
  const entriesOf = (name: keyof StructuredFilter, value: unknown, text: (entry: string) => string): FilterNode[] => {
    if (value === undefined) return [];
    const entries = (Array.isArray(value) ? value : [value]).map(String);
    if (entries.length === 0) throw new FilterFieldError(name, 'is an empty list (omit the field to match any)');
    return entries.map((entry) => {
      if (!ENTRY.test(entry)) throw new FilterFieldError(name, `'${entry}' is not a single address, network, port or range`);
      try {
        return parseFilter(text(entry));
      } catch (err) {
        throw new FilterFieldError(name, `'${entry}': ${(err as Error).message}`, { cause: err });
      }
    });
  };
  const field = (name: keyof StructuredFilter, value: unknown, text: (entry: string) => string): void => {
    if (value !== undefined) parts.push(orAll(entriesOf(name, value, text)));
  };
  const address = (dir: string) => (entry: string) => `${dir}${entry.includes('/') ? 'net' : 'host'} ${entry}`;
  const port = (dir: string) => (entry: string) => `${portProto}${dir}${/^[^-]+-.+$/.test(entry) ? 'portrange' : 'port'} ${entry}`;
  field('ip', s.ip, address(''));
  // hosts and nets form one group: a packet to or from any of them.
  if (s.hosts !== undefined || s.nets !== undefined) {
    const hosts = entriesOf('hosts', s.hosts, (entry) => {
      if (entry.includes('/')) throw new FilterFieldError('hosts', `'${entry}' is a network: put it in nets`);
      return `${side}host ${entry}`;
    });
    parts.push(orAll([...hosts, ...entriesOf('nets', s.nets, (entry) => `${side}net ${entry}`)]));
  }
  field('src', s.src, address('src '));
  field('dst', s.dst, address('dst '));
  field('ports', s.ports, port(side));
  field('srcPorts', s.srcPorts, port('src '));
  field('dstPorts', s.dstPorts, port('dst '));
  if (proto !== undefined) {
    if (PROTOCOLS.has(proto)) parts.push(parseFilter(proto));
    else if (/^[0-9]+$/.test(proto) && Number(proto) <= 255) parts.push(parseFilter(`proto ${proto}`));
    else throw new FilterFieldError('protocol', `'${s.protocol}' is not one of ${[...PROTOCOLS].join(', ')} or a number 0..255`);
  }
  if (s.vlan !== undefined) {
    if (!Number.isInteger(s.vlan) || s.vlan < 0 || s.vlan > 4095) throw new FilterFieldError('vlan', `'${s.vlan}' is not a VLAN id 0..4095`);
    // First: a `vlan` shifts the primitives after it (libpcap), so the others test the tagged payload.
    parts.unshift({ kind: 'vlan', id: s.vlan });
  }
  return andAll(parts);
}
