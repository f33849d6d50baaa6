import { test } from 'node:test';
import assert from 'node:assert/strict';
import { structuredToFilter, FilterFieldError } from './structured.js';
import { formatFilter } from './format.js';
import { parseFilter } from './parser.js';

test('structured form compiles to the AST of the equivalent text', () => {
  const ast = structuredToFilter({ ip: ['10.1.2.3', '10.9.0.0/16'], dstPorts: [443, '8000-8080'], protocol: 'tcp' });
  assert.deepEqual(ast, parseFilter('(host 10.1.2.3 or net 10.9.0.0/16) and (tcp dst port 443 or tcp dst portrange 8000-8080) and tcp'));
  assert.equal(formatFilter(structuredToFilter({ src: '2001:db8::1', dst: '192.168.0.0/24', ports: 'domain' })), 'src host 2001:db8::1 and dst net 192.168.0.0/24 and port 53');
  assert.equal(formatFilter(structuredToFilter({ vlan: 10, protocol: 17, srcPorts: 53 })), 'vlan 10 and src port 53 and proto 17');
  assert.deepEqual(structuredToFilter({}), { kind: 'all' });
});

test('bad entries name the field and the entry', () => {
  const cases: Array<[object, RegExp]> = [
    [{ ip: 'example.com' }, /field 'ip': 'example.com'.*host names are not resolved/],
    [{ ip: '1.2.3.4 or port 22' }, /field 'ip': '1.2.3.4 or port 22' is not a single address/],
    [{ ports: [] }, /field 'ports': is an empty list/],
    [{ ports: 70000 }, /field 'ports': '70000'/],
    [{ protocol: 'gre!' }, /field 'protocol'/],
    [{ vlan: 4096 }, /field 'vlan'/],
    [{ protocol: 'udp', ports: 'http' }, /'http' is tcp only/],
  ];
  for (const [form, message] of cases) assert.throws(() => structuredToFilter(form), (e: unknown) => e instanceof FilterFieldError && message.test(e.message));
});
