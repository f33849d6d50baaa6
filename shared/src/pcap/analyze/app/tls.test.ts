import assert from 'node:assert/strict';
import { test } from 'node:test';
import { tlsClientHelloSni } from './tls.js';

/** A minimal TLS 1.2 ClientHello with an ALPN extension before server_name "Api.Example.org". */
function clientHello(name = 'Api.Example.org'): Uint8Array {
  const host = [...name].map((c) => c.charCodeAt(0));
  const sni = [0x00, 0x00, 0, host.length + 5, 0, host.length + 3, 0, 0, host.length, ...host];
  const alpn = [0x00, 0x10, 0, 5, 0, 3, 2, 0x68, 0x32];
  const ext = [...alpn, ...sni];
  const body = [
    0x03,
    0x03,
    ...new Array<number>(32).fill(7), // version, random
    0, // empty session id
    0,
    4,
    0x13,
    0x01,
    0xc0,
    0x2f, // two cipher suites
    1,
    0, // null compression
    ext.length >> 8,
    ext.length & 0xff,
    ...ext,
  ];
  const hs = [1, 0, body.length >> 8, body.length & 0xff, ...body];
  return Uint8Array.from([0x16, 0x03, 0x01, hs.length >> 8, hs.length & 0xff, ...hs]);
}

test('finds server_name after other extensions, lowercased', () => {
  const hello = clientHello();
  assert.equal(tlsClientHelloSni(hello, 0, hello.length), 'api.example.org');
});

test('a ClientHello cut before the SNI (split across segments) gives null', () => {
  const hello = clientHello();
  assert.equal(tlsClientHelloSni(hello, 0, hello.length - 4), null);
  assert.equal(tlsClientHelloSni(hello, 0, 30), null);
});

test('other records and handshakes give null', () => {
  const hello = clientHello();
  const serverHello = hello.slice();
  serverHello[5] = 2;
  assert.equal(tlsClientHelloSni(serverHello, 0, serverHello.length), null);
  const appData = hello.slice();
  appData[0] = 0x17;
  assert.equal(tlsClientHelloSni(appData, 0, appData.length), null);
  assert.equal(tlsClientHelloSni(new Uint8Array(100), 0, 100), null);
});

test('reads at an offset', () => {
  const hello = clientHello('x.test');
  const buf = new Uint8Array(hello.length + 54);
  buf.set(hello, 54);
  assert.equal(tlsClientHelloSni(buf, 54, hello.length), 'x.test');
});
