import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFilter } from './parser.js';
import { formatFilter } from './format.js';
import { FilterSyntaxError, FilterUnsupportedError } from './errors.js';

const canon = (text: string): string => formatFilter(parseFilter(text));

test('and/or have equal precedence and associate to the left; not binds tighter', () => {
  assert.equal(canon('tcp or udp and port 53'), '(tcp or udp) and port 53');
  assert.equal(canon('tcp and udp or icmp'), '(tcp and udp) or icmp');
  assert.equal(canon('not tcp and udp'), 'not tcp and udp');
  assert.equal(canon('!(tcp || udp) && arp'), 'not (tcp or udp) and arp');
  assert.equal(canon('tcp or (udp and port 53)'), 'tcp or (udp and port 53)');
  assert.equal(parseFilter('tcp or udp and icmp').kind, 'and');
});

test("implied qualifiers repeat the previous primitive's", () => {
  assert.equal(canon('host 1.2.3.4 or 5.6.7.8'), 'host 1.2.3.4 or host 5.6.7.8');
  assert.equal(canon('tcp dst port 80 or 443'), 'tcp dst port 80 or tcp dst port 443');
  assert.equal(canon('port 22 and not 23'), 'port 22 and not port 23');
  assert.equal(canon('src net 10.0.0.0/8 or 192.168'), 'src net 10.0.0.0/8 or src net 192.168.0.0/16');
  // After parentheses, the qualifiers in force before them apply.
  assert.equal(canon('host 1.1.1.1 and (port 1 or 2) or 3.3.3.3'), '(host 1.1.1.1 and (port 1 or port 2)) or host 3.3.3.3');
  // A bare address at the very start is a host.
  assert.equal(canon('10.0.0.1'), 'host 10.0.0.1');
});

test('primitives and qualifiers', () => {
  const cases: Array<[string, string]> = [
    ['src or dst host 10.0.0.1', 'host 10.0.0.1'],
    ['src and dst host 10.0.0.1', 'src and dst host 10.0.0.1'],
    ['ip src 10.0.0.1', 'ip src host 10.0.0.1'],
    ['arp host 10.0.0.1', 'arp host 10.0.0.1'],
    ['net 10.0.0.0 mask 255.0.0.0', 'net 10.0.0.0/8'],
    ['net 10.0.0.0 mask 255.0.255.0', 'net 10.0.0.0 mask 255.0.255.0'],
    ['net 10', 'net 10.0.0.0/8'],
    ['dst net 2001:db8::/32', 'dst net 2001:db8::/32'],
    ['host 2001:0db8:0:0:0:0:0:1', 'host 2001:db8::1'],
    ['ip6 host ::ffff:1.2.3.4', 'ip6 host ::ffff:102:304'],
    ['port http', 'tcp port 80'],
    ['port domain', 'port 53'],
    ['udp port 0x35', 'udp port 53'],
    ['portrange 1024-1', 'portrange 1-1024'],
    ['tcp src portrange ssh-http', 'tcp src portrange 22-80'],
    ['ip proto 17', 'ip proto 17'],
    ['ip6 proto \\tcp', 'ip6 proto 6'],
    ['proto 47', 'proto 47'],
    ['icmp or icmp6 or sctp or igmp', 'icmp or icmp6 or sctp or igmp'],
    ['vlan 100 and vlan', 'vlan 100 and vlan'],
    ['less 64 or greater 1500', 'less 64 or greater 1500'],
    ['ip and ip6 and arp and rarp', 'ip and ip6 and arp and rarp'],
    ['', ''],
  ];
  for (const [input, output] of cases) assert.equal(canon(input), output, input);
});

test('canonical text parses back to the same AST', () => {
  for (const f of ['host 1.2.3.4 or 5.6.7.8 and not port 22', 'vlan 10 and (tcp or udp) and net 10.1.0.0 mask 255.255.0.0', 'not not ip6 net fe80::/10']) {
    const once = parseFilter(f);
    assert.deepEqual(parseFilter(formatFilter(once)), once);
  }
});

test('syntax errors name the position and what was expected', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['port x', 5, /^at 5: expected a port number or a known port name after 'port', got 'x'$/],
    ['host', 4, /expected a value after 'host', got the end of the filter/],
    ['tcp and (udp', 12, /expected "\)" to close the "\(" at 8/],
    ['tcp )', 4, /unbalanced/],
    ['host 1.2.3.4/8', 12, /a mask belongs to 'net'/],
    ['net 10.0.0.1/8', 4, /without host bits/],
    ['net 10.0.0.0/33', 13, /prefix length 0..32/],
    ['port 70000', 5, /0..65535/],
    ['udp port http', 9, /'http' is tcp only/],
    ['host example.com', 5, /host names are not resolved/],
    ['tcp 80', 4, /expected "and", "or" or the end of the filter, got '80'/],
    ['tcp and 80', 8, /bare value cannot follow/],
    ['tcp host 1.2.3.4', 9, /before an IPv4 address/],
    ['ip port 80', 8, /before a port/],
    ['vlan 5000', 5, /VLAN id 0..4095/],
    ['a$b', 1, /got '\$'/],
    ['tcp and', 7, /got the end of the filter/],
    ['ip proto 300', 9, /protocol number 0..255/],
  ];
  for (const [text, position, message] of cases) {
    assert.throws(
      () => parseFilter(text),
      (err: unknown) => {
        assert.ok(err instanceof FilterSyntaxError, `${text}: ${String(err)}`);
        assert.equal(err.position, position, `${text}: ${err.message}`);
        assert.match(err.message, message);
        return true;
      },
    );
  }
});

test('recognised but unsupported primitives say so', () => {
  for (const text of ['gateway 1.2.3.4', 'ether host 00:11:22:33:44:55', 'tcp and len > 5', 'mpls']) {
    assert.throws(() => parseFilter(text), FilterUnsupportedError, text);
  }
});
