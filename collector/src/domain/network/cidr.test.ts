import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalCidr, overlaps, parseCidr } from './cidr.js';

test('canonical CIDRs: IPv4, IPv6 compressed and lower-case, bare addresses as host routes', () => {
  const ok = (text: string) => {
    const r = parseCidr(text);
    assert.ok(r.ok, `${text}: ${r.ok ? '' : r.error}`);
    return r.cidr.text;
  };
  assert.equal(ok('10.1.2.0/24'), '10.1.2.0/24');
  assert.equal(ok('0.0.0.0/0'), '0.0.0.0/0');
  assert.equal(ok('192.0.2.7'), '192.0.2.7/32');
  assert.equal(ok('2001:DB8:0:0::/64'), '2001:db8::/64');
  assert.equal(ok('2001:db8:0:1:0:0:0:0/64'), '2001:db8:0:1::/64');
  assert.equal(ok('::/0'), '::/0');
  assert.equal(ok('::ffff:10.0.0.0/120'), '::ffff:a00:0/120');
  assert.equal(ok('fe80::1'), 'fe80::1/128');
});

test('bad CIDRs say what is wrong', () => {
  const err = (text: string) => {
    const r = parseCidr(text);
    assert.ok(!r.ok, `${text} should be refused`);
    return r.error;
  };
  assert.match(err('10.1.2.0/33'), /prefix length 33 out of range 0-32/);
  assert.match(err('2001:db8::/129'), /prefix length 129 out of range 0-128/);
  assert.match(err('10.1.2.0/x'), /prefix length must be a number/);
  assert.match(err('10.1.2/24'), /not an IPv4 or IPv6 address/);
  assert.match(err('10.1.256.0/24'), /not an IPv4 or IPv6 address/);
  assert.match(err('1:2:3:4:5:6:7:8:9/64'), /not an IPv4 or IPv6 address/);
  assert.match(err('1::2::3/64'), /not an IPv4 or IPv6 address/);
  assert.match(err('hello'), /not an IPv4 or IPv6 address/);
  assert.equal(err('10.1.2.5/24'), 'host bits set: the network is 10.1.2.0/24');
});

test('ingest form masks host bits and turns anything else into other', () => {
  assert.equal(canonicalCidr('10.1.2.5/24'), '10.1.2.0/24');
  assert.equal(canonicalCidr('2001:DB8::1/64'), '2001:db8::/64');
  assert.equal(canonicalCidr('other'), 'other');
  assert.equal(canonicalCidr('10.1.2.0'), 'other');
  assert.equal(canonicalCidr('junk/99'), 'other');
});

test('overlap: containment either way, never across families', () => {
  const c = (t: string) => {
    const r = parseCidr(t);
    if (!r.ok) throw new Error(r.error);
    return r.cidr;
  };
  assert.equal(overlaps(c('10.1.0.0/16'), c('10.1.2.0/24')), true);
  assert.equal(overlaps(c('10.1.2.0/24'), c('10.1.0.0/16')), true);
  assert.equal(overlaps(c('10.1.2.0/24'), c('10.1.3.0/24')), false);
  assert.equal(overlaps(c('::/0'), c('10.0.0.0/8')), false);
});
