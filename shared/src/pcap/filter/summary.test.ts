import { test } from 'node:test';
import assert from 'node:assert/strict';
import { filterSummary, type BlockContents } from './summary.js';
import { parseFilter } from './parser.js';
import { parseIpv4 } from './address.js';

/** A block that holds exactly these addresses, ports and protocols. */
function block(addrs: string[], ports: number[], protos: number[]): BlockContents {
  const v4 = addrs.map((a) => parseIpv4(a)!);
  return {
    mayHaveIpv4: (addr, mask) => v4.some((a) => (a & mask) >>> 0 === addr),
    mayHaveIpv6: () => false,
    mayHavePort: (from, to) => ports.some((p) => p >= from && p <= to),
    mayHaveIpProto: (p) => protos.includes(p),
  };
}

test('summary skips only blocks that cannot match', () => {
  const b = block(['10.0.0.1', '192.168.1.2'], [53, 443], [6, 17]);
  const may = (f: string): boolean => filterSummary(parseFilter(f))(b);
  assert.equal(may('host 10.0.0.1'), true);
  assert.equal(may('host 10.0.0.2'), false);
  assert.equal(may('net 10.0.0.0/8 and port 443'), true);
  assert.equal(may('net 10.0.0.0/8 and port 80'), false);
  assert.equal(may('host 10.0.0.2 or tcp'), true);
  assert.equal(may('icmp'), false);
  assert.equal(may('not host 10.0.0.1'), true, 'a negation never skips');
  assert.equal(may('host 2001:db8::1'), false);
  assert.equal(may('ip6 proto 0'), true, 'extension-header numbers never skip');
  assert.equal(may('vlan and host 10.0.0.2'), true, 'vlan shifts offsets: never skip');
  assert.equal(filterSummary(parseFilter('host 10.0.0.2'))({}), true, 'an index without sets never skips');
});
