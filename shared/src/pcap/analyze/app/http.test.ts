import assert from 'node:assert/strict';
import { test } from 'node:test';
import { httpRequestHost } from './http.js';

const bytes = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));

test('Host of a GET, any case, trimmed and lowercased, port kept', () => {
  const req = bytes('GET /a?b=c HTTP/1.1\r\nUser-Agent: x\r\nhOsT:  WWW.Example.com:8080 \r\nAccept: */*\r\n\r\n');
  assert.equal(httpRequestHost(req, 0, req.length), 'www.example.com:8080');
});

test('other methods and HTTP/1.0 work', () => {
  const req = bytes('POST /submit HTTP/1.0\r\nHost: api.test\r\nContent-Length: 2\r\n\r\nhi');
  assert.equal(httpRequestHost(req, 0, req.length), 'api.test');
});

test('no Host before the blank line, responses, and non-HTTP give null', () => {
  for (const text of [
    'GET / HTTP/1.1\r\nAccept: */*\r\n\r\nHost: late.test\r\n',
    'HTTP/1.1 200 OK\r\nHost: nope.test\r\n\r\n',
    'GETTER / HTTP/1.1\r\nHost: nope.test\r\n\r\n',
    'GET / SIP/2.0\r\nHost: nope.test\r\n\r\n',
    'GET / HTTP/1.1\r\nUser-Agent: cut-before-host',
  ]) {
    const b = bytes(text);
    assert.equal(httpRequestHost(b, 0, b.length), null, JSON.stringify(text));
  }
});

test('reads at an offset and within the given length only', () => {
  const req = bytes('xxxxGET / HTTP/1.1\r\nHost: a.test\r\n\r\n');
  assert.equal(httpRequestHost(req, 4, req.length - 4), 'a.test');
  assert.equal(httpRequestHost(req, 4, 20), null);
});
