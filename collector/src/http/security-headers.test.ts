import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createTestHttp, type TestHttp } from './app.fixture.js';

const PROXY = '10.9.9.9';
let t: TestHttp;
before(async () => {
  t = await createTestHttp({ trustedProxies: [PROXY] });
});
after(() => t.close());

const webDir = fileURLToPath(new URL('../../../web/', import.meta.url));

function csp(res: Response): Map<string, string> {
  const value = res.headers.get('content-security-policy');
  assert.ok(value, 'a Content-Security-Policy header');
  return new Map(
    value
      .split(';')
      .map((d) => d.trim())
      .filter(Boolean)
      .map((d) => [d.split(/\s+/)[0]!, d.split(/\s+/).slice(1).join(' ')]),
  );
}

for (const path of ['/', '/jobs/new', '/api/v1/sensors', '/api/v1/openapi.json']) {
  test(`${path}: CSP script-src 'self' and the headers a scanner expects`, async () => {
    const res = await t.app.request(path, { headers: { authorization: `Bearer ${t.token}` } });
    const policy = csp(res);
    assert.equal(policy.get('script-src'), "'self'", 'no inline or eval scripts');
    assert.equal(policy.get('default-src'), "'self'");
    assert.equal(policy.get('object-src'), "'none'");
    assert.equal(policy.get('frame-ancestors'), "'none'");
    assert.equal(policy.get('base-uri'), "'self'");
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(res.headers.get('x-frame-options'), 'SAMEORIGIN');
    assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
    assert.equal(res.headers.get('cross-origin-opener-policy'), 'same-origin');
    assert.match(res.headers.get('permissions-policy') ?? '', /camera=\(\)/);
  });
}

test('Strict-Transport-Security only where the browser is on https (RFC 6797 §7.2)', async () => {
  const get = (url: string, headers: Record<string, string>, peer?: string) =>
    t.app.request(url, { headers }, peer ? { incoming: { socket: { remoteAddress: peer } } } : undefined);
  const hsts = (res: Response) => res.headers.get('strict-transport-security');
  assert.equal(hsts(await get('http://localhost/api/v1/health', {})), null, 'plain HTTP: none');
  assert.match(hsts(await get('https://localhost/api/v1/health', {})) ?? '', /^max-age=\d+; includeSubDomains$/, 'over TLS');
  const forwarded = { 'x-forwarded-proto': 'https' };
  assert.match(hsts(await get('http://localhost/api/v1/health', forwarded, PROXY)) ?? '', /max-age=\d+/, 'trusted proxy on https');
  assert.equal(hsts(await get('http://localhost/api/v1/health', forwarded, '10.1.1.1')), null, 'any other peer cannot claim https');
});

test('the dashboard has no inline script (source and, when built, dist)', () => {
  for (const file of ['index.html', 'dist/index.html']) {
    const path = webDir + file;
    if (file.startsWith('dist') && !existsSync(path)) continue;
    const html = readFileSync(path, 'utf8');
    const scripts = [...html.matchAll(/<script\b([^>]*)>([\s\S]*?)<\/script>/gi)];
    assert.ok(scripts.length > 0, `${file} loads its scripts`);
    for (const [, attrs, body] of scripts) {
      assert.match(attrs!, /\bsrc=/, `${file}: every <script> has a src`);
      assert.equal(body!.trim(), '', `${file}: no inline script body`);
    }
    assert.doesNotMatch(html, /\son[a-z]+\s*=/i, `${file}: no inline event handlers`);
  }
});
