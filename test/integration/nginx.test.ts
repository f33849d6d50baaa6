/**
 * The reverse-proxy example (packaging/nginx/pcapmesh.conf), run as shipped with nginx from Debian
 * in front of a real collector: only the listen ports, the certificate paths and the upstream port
 * are rewritten (each rewrite must apply, so the example cannot drift from this test). nginx runs
 * in the foreground with a prefix and configuration of its own in the test's scratch dir, on
 * loopback ports of its own — never the system service.
 *
 * Through the proxy: plain HTTP is redirected to HTTPS; a browser login answers with a Secure
 * refresh cookie (the collector believes nginx's X-Forwarded-Proto: http.trustedProxies) and HSTS;
 * the live feed's WebSocket upgrade works (hello frame); a binary upload and download (the avatar,
 * 200 KiB of random bytes) arrive byte for byte.
 */
import assert from 'node:assert/strict';
import { randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { certsInit } from '../../collector/src/cli/certs.js';
import { Collector, eventually, freePort, integrationTest, prepareBackend, repoRoot, requireTool } from './harness.js';
import { httpsRequest } from './harness/https.js';

const ADMIN_PASSWORD = 'nginx-test-password-1';

/** The example with test ports and paths; throws when a line to rewrite is no longer in it. */
function exampleConfig(opts: { httpPort: number; httpsPort: number; upstreamPort: number; tlsDir: string }): string {
  let text = readFileSync(join(repoRoot, 'packaging/nginx/pcapmesh.conf'), 'utf8');
  const rewrite = (from: string | RegExp, to: string) => {
    const next = text.replace(from, to);
    assert.notEqual(next, text, `packaging/nginx/pcapmesh.conf no longer has ${String(from)}`);
    text = next;
  };
  rewrite(/^\s*listen \[::\]:80;\n/m, ''); // the test machine may have no IPv6
  rewrite(/^\s*listen \[::\]:443 ssl;\n/m, '');
  rewrite('listen 80;', `listen 127.0.0.1:${opts.httpPort};`);
  rewrite('listen 443 ssl;', `listen 127.0.0.1:${opts.httpsPort} ssl;`);
  rewrite('/etc/pcapmesh/tls/server.crt', join(opts.tlsDir, 'server.crt'));
  rewrite('/etc/pcapmesh/tls/server.key', join(opts.tlsDir, 'server.key'));
  rewrite('server 127.0.0.1:8080;', `server 127.0.0.1:${opts.upstreamPort};`);
  return text;
}

integrationTest('nginx example: TLS termination, redirect, login, live feed over WebSocket, binary upload and download', async (scope) => {
  const nginx = requireTool(scope.t, 'nginx');
  if (nginx === null || requireTool(scope.t, 'openssl') === null) return;
  const backend = await prepareBackend(scope, 'pglite');
  if (!backend) return;
  const tlsDir = join(scope.dir, 'tls');
  await certsInit(tlsDir, { hosts: ['localhost', '127.0.0.1'] });
  const ca = readFileSync(join(tlsDir, 'ca.crt'));

  const collector = await Collector.create(scope, {
    backend,
    extraConfig: { http: { trustedProxies: ['127.0.0.1'] }, auth: { adminPassword: ADMIN_PASSWORD } },
  });
  await collector.start();

  // nginx: its own prefix (temp paths, pid, logs) in the scratch dir; workers may run as nobody, so the dir is traversable.
  const prefix = join(scope.dir, 'nginx');
  mkdirSync(prefix, { recursive: true });
  chmodSync(scope.dir, 0o755);
  chmodSync(prefix, 0o755);
  const [httpPort, httpsPort] = [await freePort(), await freePort()];
  writeFileSync(join(prefix, 'pcapmesh.conf'), exampleConfig({ httpPort, httpsPort, upstreamPort: collector.httpPort, tlsDir }));
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((d) => `${d}_temp_path ${join(prefix, d)};`).join('\n  ');
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `worker_processes 1;
pid ${join(prefix, 'nginx.pid')};
error_log ${join(prefix, 'error.log')} info;
events { worker_connections 64; }
http {
  access_log ${join(prefix, 'access.log')};
  ${temp}
  include ${join(prefix, 'pcapmesh.conf')};
}
`,
  );
  const proxy = scope.spawn({
    name: 'nginx',
    command: nginx,
    args: ['-p', prefix, '-e', join(prefix, 'error.log'), '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off;'],
    cwd: prefix,
  });
  scope.defer(() => void proxy.stop('SIGQUIT').catch(() => undefined));
  const base = `https://127.0.0.1:${httpsPort}/api/v1`;
  const health = await eventually(
    async () => {
      const res = await httpsRequest(`${base}/health`, { ca, timeoutMs: 5_000 });
      return res.status === 200 ? res : undefined;
    },
    { what: 'the collector answering through nginx', timeoutMs: 60_000, intervalMs: 250 },
  );
  assert.equal(health.fingerprint, new X509Certificate(readFileSync(join(tlsDir, 'server.crt'))).fingerprint256);

  // Plain HTTP redirects to HTTPS.
  const redirect = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
    const req = httpRequest(`http://127.0.0.1:${httpPort}/api/v1/health`, { agent: false }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, location: res.headers.location });
    });
    req.on('error', reject);
    req.end();
  });
  assert.equal(redirect.status, 301);
  assert.equal(redirect.location, `https://127.0.0.1/api/v1/health`);

  // A browser login: Secure refresh cookie (X-Forwarded-Proto from a trusted proxy) and HSTS.
  const login = await httpsRequest(`${base}/login`, {
    ca,
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin', password: ADMIN_PASSWORD }),
  });
  assert.equal(login.status, 200, login.body.toString());
  const { accessToken } = login.json<{ accessToken: string }>();
  const cookies = ([] as string[]).concat(login.headers['set-cookie'] ?? []);
  const refresh = cookies.find((c) => c.startsWith('pcapmesh_refresh='));
  assert.ok(refresh, `a refresh cookie is set: ${cookies.join(' | ')}`);
  assert.match(refresh, /;\s*Secure/i, 'the refresh cookie is Secure behind the TLS proxy');
  assert.match(String(login.headers['strict-transport-security'] ?? ''), /max-age=\d+/);

  // The live feed through the proxy: the WebSocket upgrade passes, the hello frame arrives.
  const hello = await new Promise<Record<string, unknown>>((resolve, reject) => {
    const ws = new WebSocket(`wss://127.0.0.1:${httpsPort}/api/v1/ws`, ['pcapmesh.v1', `bearer.${accessToken}`], { ca });
    const timer = setTimeout(() => (ws.terminate(), reject(new Error('no hello frame through nginx in 30 s'))), 30_000);
    ws.once('message', (data: Buffer) => {
      clearTimeout(timer);
      ws.close();
      resolve(JSON.parse(data.toString('utf8')) as Record<string, unknown>);
    });
    ws.once('error', (err) => (clearTimeout(timer), reject(err)));
  });
  assert.equal(hello.type, 'hello');

  // Binary both ways: a 200 KiB "PNG" (the magic, then random bytes) up and down, byte for byte.
  const image = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), randomBytes(200 * 1024)]);
  const auth = { authorization: `Bearer ${accessToken}` };
  const put = await httpsRequest(`${base}/preferences/avatar`, {
    ca,
    method: 'PUT',
    headers: { ...auth, 'content-type': 'application/octet-stream' },
    body: image,
  });
  assert.equal(put.status, 204, put.body.toString());
  const got = await httpsRequest(`${base}/preferences/avatar`, { ca, headers: auth });
  assert.equal(got.status, 200);
  assert.equal(got.headers['content-type'], 'image/png');
  assert.ok(got.body.equals(image), `the download differs from the upload (${got.body.length} of ${image.length} bytes)`);

  await collector.stop();
});
