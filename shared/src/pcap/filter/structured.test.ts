import { test } from 'node:test';
import assert from 'node:assert/strict';
import { structuredToFilter, FilterFieldError } from './structured.js';
import { formatFilter } from './format.js';
import { parseFilter } from './parser.js';

test('structured form compiles to the AST of the equivalent text', () => {
  const ast = structuredToFilter({ ip: ['10.1.2.3', '10.9.0.0/16'], dstPorts: [443, '8000-8080'], protocol: 'tcp' });
  assert.deepEqual(ast, parseFilter('(host 10.1.2.3 or net 10.9.0.0/16) and (tcp dst port 443 or tcp dst portrange 8000-8080) and tcp'));
  assert.equal(
    formatFilter(structuredToFilter({ src: '2001:db8::1', dst: '192.168.0.0/24', ports: 'domain' })),
    'src host 2001:db8::1 and dst net 192.168.0.0/24 and port 53',
  );
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
  for (const [form, message] of cases)
    assert.throws(
      () => structuredToFilter(form),
      (e: unknown) => e instanceof FilterFieldError && message.test(e.message),
    );
});

test("the job API's form: hosts and nets in one group, direction for them and the ports", () => {
  const text = (form: object) => formatFilter(structuredToFilter(form));
  assert.equal(text({ hosts: ['10.1.2.3'], ports: [443] }), 'host 10.1.2.3 and port 443');
  assert.equal(
    text({ hosts: ['10.1.2.3', '2001:db8::1'], nets: ['192.168.0.0/16'], direction: 'dst', ports: 53, protocol: 'udp' }),
    '(dst host 10.1.2.3 or dst host 2001:db8::1 or dst net 192.168.0.0/16) and udp dst port 53 and udp',
  );
  assert.equal(text({ nets: '10.0.0.0/8', direction: 'src' }), 'src net 10.0.0.0/8');
  assert.equal(text({ nets: '10.0.0.0/8', direction: 'either' }), 'net 10.0.0.0/8');
  const cases: Array<[object, RegExp]> = [
    [{ hosts: ['10.0.0.0/8'] }, /field 'hosts': '10.0.0.0\/8' is a network: put it in nets/],
    [{ nets: ['10.0.0.300/8'] }, /field 'nets': '10.0.0.300\/8'/],
    [{ hosts: [] }, /field 'hosts': is an empty list/],
    [{ hosts: ['10.0.0.1'], direction: 'up' }, /field 'direction': 'up' is not one of src, dst, either/],
  ];
  for (const [form, message] of cases)
    assert.throws(
      () => structuredToFilter(form),
      (e: unknown) => e instanceof FilterFieldError && message.test(e.message),
    );
});
