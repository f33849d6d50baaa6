import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dnsQueryName } from './dns.js';

/** A query for www.Example.com A, written out byte by byte (RFC 1035 §4.1). */
const QUERY = Uint8Array.from([
  0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 3, 0x77, 0x77, 0x77, 7, 0x45, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 3, 0x63, 0x6f, 0x6d,
  0, 0x00, 0x01, 0x00, 0x01,
]);

test('reads the question name of a UDP query, lowercased', () => {
  assert.equal(dnsQueryName(QUERY, 0, QUERY.length, false), 'www.example.com');
});

test('reads a query at an offset inside a larger buffer', () => {
  const buf = new Uint8Array(QUERY.length + 50);
  buf.set(QUERY, 42);
  assert.equal(dnsQueryName(buf, 42, QUERY.length, false), 'www.example.com');
});

test('over TCP the message follows a 2-byte length', () => {
  const tcp = Uint8Array.from([0, QUERY.length, ...QUERY]);
  assert.equal(dnsQueryName(tcp, 0, tcp.length, true), 'www.example.com');
  assert.equal(dnsQueryName(QUERY, 0, QUERY.length, true), null, 'no length prefix: not a TCP DNS message');
});

test('responses are not counted (QR set)', () => {
  const response = QUERY.slice();
  response[2] = 0x81;
  assert.equal(dnsQueryName(response, 0, response.length, false), null);
});

test('cut-short names, bad label types and pointer loops give null', () => {
  assert.equal(dnsQueryName(QUERY, 0, 20, false), null);
  const badLabel = QUERY.slice();
  badLabel[12] = 0x80;
  assert.equal(dnsQueryName(badLabel, 0, badLabel.length, false), null);
  const loop = QUERY.slice();
  loop[12] = 0xc0;
  loop[13] = 12; // points at itself
  assert.equal(dnsQueryName(loop, 0, loop.length, false), null);
});

test('the root name and odd bytes are printable', () => {
  const root = Uint8Array.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 2, 0, 1]);
  assert.equal(dnsQueryName(root, 0, root.length, false), '.');
  const odd = Uint8Array.from([0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 2, 0x61, 0x07, 0, 0, 1, 0, 1]);
  assert.equal(dnsQueryName(odd, 0, odd.length, false), 'a\\007');
});
