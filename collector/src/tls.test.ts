/**
 * Certificates: `pcapmesh certs` (real openssl), the checks that refuse bad certificate files at
 * start (tls-files.ts), and the HTTPS server — HSTS, and a new certificate for new connections
 * after setTls (what SIGHUP does). A port in use is refused naming http.port or mqtt.port.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { request } from 'node:https';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import type { TLSSocket } from 'node:tls';
import { join } from 'node:path';
import { Hono } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { pino } from 'pino';
import { requireTool } from '@pcapmesh/shared/util/testing';
import { certsInit, certsSensor } from './cli/certs.js';
import { collectorConfig, ConfigError, publicUrlOf } from './config.js';
import { startEmbeddedBroker } from './broker/embedded.js';
import { startHttpServer } from './http/server.js';
import type { AppEnv } from './http/env.js';
import { readCaFile, readTlsPair } from './tls-files.js';

const log = pino({ level: 'silent' });

function scratch(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-tls-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** GET over a new TLS connection (no keep-alive): status, headers and the served certificate's fingerprint. */
function get(url: string, ca: Buffer[]): Promise<{ status: number; hsts: string | undefined; fingerprint: string }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca, agent: false, servername: 'localhost' }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, hsts: res.headers['strict-transport-security'] as string | undefined, fingerprint }));
    });
    req.on('error', reject);
    req.end();
  });
}

function assertProblem(fn: () => unknown, key: string, reason: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `a ConfigError, got ${String(err)}`);
    assert.equal(err.problems.length, 1);
    assert.ok(err.problems[0]!.startsWith(`${key}: `), `names ${key}: ${err.problems[0]}`);
    assert.match(err.problems[0]!, reason);
    return true;
  });
}

test('certs init and certs sensor: a CA, a server certificate with the SANs given, client certificates; keys 0600', async (t) => {
  if (requireTool(t, 'openssl') === null) return;
  const dir = scratch(t);
  await certsInit(dir, { hosts: ['collector.example.org', 'localhost', '127.0.0.1'] });
  await certsSensor(dir, 'edge-1');
  const ca = new X509Certificate(readFileSync(join(dir, 'ca.crt')));
  const server = new X509Certificate(readFileSync(join(dir, 'server.crt')));
  const sensor = new X509Certificate(readFileSync(join(dir, 'sensors/edge-1.crt')));
  assert.ok(ca.ca, 'the CA certificate is a CA');
  assert.ok(server.verify(ca.publicKey) && sensor.verify(ca.publicKey), 'both are signed by the CA');
  assert.ok(!server.ca && !sensor.ca);
  assert.equal(server.subjectAltName, 'DNS:collector.example.org, DNS:localhost, IP Address:127.0.0.1');
  assert.match(server.subject, /CN=collector\.example\.org/);
  assert.match(sensor.subject, /CN=edge-1/);
  assert.ok(server.keyUsage?.includes('1.3.6.1.5.5.7.3.1'), 'serverAuth');
  assert.ok(sensor.keyUsage?.includes('1.3.6.1.5.5.7.3.2'), 'clientAuth');
  for (const key of ['ca.key', 'server.key', 'sensors/edge-1.key']) assert.equal(statSync(join(dir, key)).mode & 0o777, 0o600, `${key} is 0600`);
  // The pairs are usable as configured files.
  readTlsPair({ certFile: join(dir, 'server.crt'), keyFile: join(dir, 'server.key') }, 'http.tls');
  readCaFile(join(dir, 'ca.crt'), 'mqtt.tls.clientCaFile');
  // Nothing is replaced without --force; bad names are refused.
  await assert.rejects(certsInit(dir, { hosts: ['localhost'] }), /exists: pass --force/);
  await assert.rejects(certsSensor(dir, 'edge-1'), /exists: pass --force/);
  await assert.rejects(certsSensor(dir, 'bad/name'), /sensor name "bad\/name" is not valid/);
  await assert.rejects(certsInit(join(dir, 'other'), { hosts: ['bad host'] }), /--host "bad host"/);
  await assert.rejects(certsSensor(join(dir, 'none'), 'edge-2'), /ca\.crt not found/);
});

test('bad certificate files are refused naming the key: unreadable, not PEM, a key of another certificate, not a CA', async (t) => {
  if (requireTool(t, 'openssl') === null) return;
  const dir = scratch(t);
  await certsInit(dir, { hosts: ['localhost'] });
  await certsSensor(dir, 'edge-1');
  const cert = join(dir, 'server.crt');
  assertProblem(
    () => readTlsPair({ certFile: join(dir, 'missing.crt'), keyFile: join(dir, 'server.key') }, 'http.tls'),
    'http.tls.certFile',
    /missing\.crt \(no such file\)/,
  );
  assertProblem(() => readTlsPair({ certFile: cert, keyFile: join(dir, 'missing.key') }, 'mqtt.tls'), 'mqtt.tls.keyFile', /no such file/);
  assertProblem(() => readTlsPair({ certFile: cert, keyFile: dir }, 'http.tls'), 'http.tls.keyFile', /is a directory/);
  writeFileSync(join(dir, 'junk.pem'), 'not a certificate\n');
  assertProblem(
    () => readTlsPair({ certFile: join(dir, 'junk.pem'), keyFile: join(dir, 'server.key') }, 'http.tls'),
    'http.tls.certFile',
    /holds no PEM certificate/,
  );
  assertProblem(() => readTlsPair({ certFile: cert, keyFile: join(dir, 'junk.pem') }, 'http.tls'), 'http.tls.keyFile', /holds no PEM private key/);
  assertProblem(
    () => readTlsPair({ certFile: cert, keyFile: join(dir, 'sensors/edge-1.key') }, 'http.tls'),
    'http.tls.keyFile',
    /does not match the certificate in http\.tls\.certFile/,
  );
  assertProblem(() => readCaFile(cert, 'mqtt.tls.clientCaFile'), 'mqtt.tls.clientCaFile', /is not a CA certificate/);
});

test('HTTPS: HSTS on every answer; after setTls new connections get the new certificate; a bad pair keeps the old one', async (t) => {
  if (requireTool(t, 'openssl') === null) return;
  const [first, second] = [scratch(t), scratch(t)];
  await certsInit(first, { hosts: ['localhost', '127.0.0.1'] });
  await certsInit(second, { hosts: ['localhost', '127.0.0.1'] });
  const live = join(scratch(t), 'live');
  const files = { certFile: `${live}.crt`, keyFile: `${live}.key` };
  copyFileSync(join(first, 'server.crt'), files.certFile);
  copyFileSync(join(first, 'server.key'), files.keyFile);
  const app = new Hono<AppEnv>();
  app.use(secureHeaders());
  app.get('/ping', (c) => c.text('pong'));
  const server = await startHttpServer(app, { host: '127.0.0.1', port: 0, log, tls: readTlsPair(files, 'http.tls') });
  t.after(() => server.close());
  assert.match(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);
  const cas = [readFileSync(join(first, 'ca.crt')), readFileSync(join(second, 'ca.crt'))];
  const fingerprint = (dir: string) => new X509Certificate(readFileSync(join(dir, 'server.crt'))).fingerprint256;

  const before = await get(`${server.url}/ping`, cas);
  assert.equal(before.status, 200);
  assert.match(before.hsts ?? '', /^max-age=\d+/);
  assert.equal(before.fingerprint, fingerprint(first));

  // Replace the files, reload: the next connection shows the new certificate.
  copyFileSync(join(second, 'server.crt'), files.certFile);
  copyFileSync(join(second, 'server.key'), files.keyFile);
  server.setTls(readTlsPair(files, 'http.tls'));
  assert.equal((await get(`${server.url}/ping`, cas)).fingerprint, fingerprint(second));
  // A key that does not belong is refused before it reaches the server, which keeps serving.
  copyFileSync(join(first, 'server.key'), files.keyFile);
  assert.throws(() => readTlsPair(files, 'http.tls'), ConfigError);
  assert.equal((await get(`${server.url}/ping`, cas)).fingerprint, fingerprint(second));
});

test('a port in use is refused as a ConfigError naming http.port', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.after(() => holder.close());
  const port = (holder.address() as AddressInfo).port;
  await assert.rejects(startHttpServer(new Hono<AppEnv>(), { host: '127.0.0.1', port, log }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems, [`http.port: 127.0.0.1:${port} is already in use (EADDRINUSE)`]);
    return true;
  });
});

test('an MQTT port in use is refused as a ConfigError naming mqtt.port', async (t) => {
  const holder = createServer();
  await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
  t.after(() => holder.close());
  const port = (holder.address() as AddressInfo).port;
  await assert.rejects(startEmbeddedBroker({ host: '127.0.0.1', port, log, policy: { verifySecret: () => Promise.resolve(false) } }), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.deepEqual(err.problems, [`mqtt.port: 127.0.0.1:${port} is already in use (EADDRINUSE)`]);
    return true;
  });
});

test('config: certificate and key come together, a client CA needs the MQTTS listener, log.format is one of three; https in the default public URL', () => {
  const problems = (input: Parameters<typeof collectorConfig>[0]): string[] => {
    try {
      collectorConfig(input);
      return [];
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.problems;
    }
  };
  assert.deepEqual(problems({ http: { tls: { certFile: '/etc/pcapmesh/tls/server.crt' } } }), [
    'http.tls.keyFile: required when the other of certFile/keyFile is set',
  ]);
  assert.deepEqual(problems({ mqtt: { tls: { keyFile: '/k' } } }), ['mqtt.tls.certFile: required when the other of certFile/keyFile is set']);
  assert.match(problems({ mqtt: { tls: { clientCaFile: '/ca.crt' } } }).join(), /^mqtt\.tls\.clientCaFile: needs mqtt\.tls\.certFile/);
  assert.match(problems({ log: { format: 'fancy' as 'json' } }).join(), /^log\.format: /);
  assert.deepEqual(problems({ http: { tls: { certFile: '/c', keyFile: '/k' } }, log: { format: 'pretty' } }), []);
  assert.equal(publicUrlOf(collectorConfig({ http: { port: 8443, tls: { certFile: '/c', keyFile: '/k' } } })), 'https://127.0.0.1:8443');
  assert.equal(publicUrlOf(collectorConfig({ http: { port: 8080 } })), 'http://127.0.0.1:8080');
});
