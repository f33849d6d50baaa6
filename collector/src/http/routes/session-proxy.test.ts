/**
 * Finding 5 of #14: behind a TLS-terminating proxy the refresh cookie is Secure — X-Forwarded-Proto
 * is believed only from `http.trustedProxies`, so no other client can switch it.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createTestHttp, USER_PASSWORD, type TestHttp } from '../app.fixture.js';
import { API_PREFIX } from '../app.js';

const PROXY = '10.9.8.7';
let t: TestHttp;
before(async () => {
  t = await createTestHttp({ trustedProxies: [PROXY], limits: { maxFailuresPerAddress: 1000 } });
});
after(() => t.close());

/** A browser login arriving from `peer` with the given X-Forwarded-Proto; returns its Set-Cookie header. */
async function loginCookie(peer: string, forwardedProto?: string): Promise<string> {
  const res = await t.app.request(
    `${API_PREFIX}/login`,
    {
      method: 'POST',
      body: JSON.stringify({ username: 'viewer1', password: USER_PASSWORD }),
      headers: { 'content-type': 'application/json', ...(forwardedProto ? { 'x-forwarded-proto': forwardedProto } : {}) },
    },
    { incoming: { socket: { remoteAddress: peer } } },
  );
  assert.equal(res.status, 200);
  const cookie = res.headers.get('set-cookie') ?? '';
  assert.match(cookie, /pcapmesh_refresh=/);
  return cookie;
}

test('the refresh cookie is Secure when the trusted proxy says https', async () => {
  assert.match(await loginCookie(PROXY, 'https'), /;\s*Secure/i);
  assert.match(await loginCookie(`::ffff:${PROXY}`, 'https, http'), /;\s*Secure/i, 'dual-stack form of the address, first value counts');
});

test('X-Forwarded-Proto from any other peer, or http from the proxy, is not believed', async () => {
  assert.doesNotMatch(await loginCookie('10.9.8.6', 'https'), /Secure/i);
  assert.doesNotMatch(await loginCookie(PROXY, 'http'), /Secure/i);
  assert.doesNotMatch(await loginCookie(PROXY), /Secure/i);
});
