import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { pino } from 'pino';
import type { AppEnv } from './env.js';
import { notFound } from './errors.js';
import { IMMUTABLE, NO_CACHE, defaultWebRoot, serveWeb } from './static.js';

let dir: string;
let app: Hono<AppEnv>;
const INDEX = '<!doctype html><title>pcapmesh</title>';
const SCRIPT = 'console.log("app")';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'pcapmesh-static-'));
  mkdirSync(join(dir, 'dist', 'assets'), { recursive: true });
  writeFileSync(join(dir, 'dist', 'index.html'), INDEX);
  writeFileSync(join(dir, 'dist', 'assets', 'index-DvkdGNt-.js'), SCRIPT);
  writeFileSync(join(dir, 'dist', 'assets', 'index-DvkdGNt-.css'), 'body{}');
  writeFileSync(join(dir, 'dist', 'favicon.svg'), '<svg/>');
  writeFileSync(join(dir, 'secret.txt'), 'outside the root');
  app = makeApp(join(dir, 'dist'));
});

after(() => rmSync(dir, { recursive: true, force: true }));

/** The way app.ts wires it: an API route first, then the static middleware, then the 404 mapper. */
function makeApp(root: string): Hono<AppEnv> {
  const a = new Hono<AppEnv>();
  a.use(async (c, next) => {
    c.set('log', pino({ level: 'silent' }));
    await next();
  });
  a.get('/api/v1/health', (c) => c.json({ status: 'ok' }));
  a.use(serveWeb({ root }));
  a.notFound(notFound);
  return a;
}

test('hashed assets are immutable, with their content type', async () => {
  const res = await app.request('/assets/index-DvkdGNt-.js');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), IMMUTABLE);
  assert.match(res.headers.get('content-type') ?? '', /^text\/javascript/);
  assert.equal(await res.text(), SCRIPT);
  const css = await app.request('/assets/index-DvkdGNt-.css');
  assert.match(css.headers.get('content-type') ?? '', /^text\/css/);
});

test('index.html and unhashed files are no-cache and revalidate by ETag', async () => {
  const res = await app.request('/');
  assert.equal(res.status, 200);
  assert.equal(res.headers.get('cache-control'), NO_CACHE);
  assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
  assert.equal(await res.text(), INDEX);
  const icon = await app.request('/favicon.svg');
  assert.equal(icon.headers.get('cache-control'), NO_CACHE);
  const etag = icon.headers.get('etag');
  assert.ok(etag);
  const again = await app.request('/favicon.svg', { headers: { 'if-none-match': etag } });
  assert.equal(again.status, 304);
});

test('client-side routes fall back to index.html; HEAD has no body', async () => {
  for (const path of ['/sensors', '/sensors/edge-1', '/login?next=%2Fsensors']) {
    const res = await app.request(path);
    assert.equal(res.status, 200, path);
    assert.equal(res.headers.get('cache-control'), NO_CACHE, path);
    assert.equal(await res.text(), INDEX, path);
  }
  const head = await app.request('/sensors', { method: 'HEAD' });
  assert.equal(head.status, 200);
  assert.equal(await head.text(), '');
});

test('API paths are never answered with the app: their own 404 stays JSON', async () => {
  assert.equal((await app.request('/api/v1/health')).status, 200);
  for (const path of ['/api/v1/nope', '/api', '/api/']) {
    const res = await app.request(path);
    assert.equal(res.status, 404, path);
    const body = (await res.json()) as { error: { code: string } };
    assert.equal(body.error.code, 'not_found');
  }
  const post = await app.request('/sensors', { method: 'POST' });
  assert.equal(post.status, 404, 'only GET and HEAD are served');
});

test('a missing asset is a 404, not index.html', async () => {
  const res = await app.request('/assets/gone-AbCdEfGh.js');
  assert.equal(res.status, 404);
  assert.match(res.headers.get('content-type') ?? '', /json/);
});

test('traversal and malformed paths never leave the root', async () => {
  for (const path of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/%2e%2e%2fsecret.txt']) {
    const res = await app.request(path);
    const text = await res.text();
    assert.doesNotMatch(text, /outside the root/, path);
  }
  assert.equal((await app.request('/%E0%A4%A')).status, 400);
  assert.equal((await app.request('/a%00b')).status, 400);
});

test('without a build, pages answer 503 naming the fix', async () => {
  const empty = makeApp(join(dir, 'no-such-dist'));
  const res = await empty.request('/sensors');
  assert.equal(res.status, 503);
  const body = (await res.json()) as { error: { message: string } };
  assert.match(body.error.message, /npm run build -w web/);
});

test('the default root is the web workspace build', () => {
  assert.match(defaultWebRoot(), /[/\\]web[/\\]dist$/);
});
