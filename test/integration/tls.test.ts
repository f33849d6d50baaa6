/**
 * TLS as an operator runs it (#15): `pcapmesh collector` with certificates from `pcapmesh certs`,
 * real agent processes, real sockets.
 *
 * 1. HTTPS with HSTS; the certificate files replaced and SIGHUP sent: new connections get the new
 *    certificate. MQTTS with client certificates (mqtt.tls.clientCaFile): an agent with its own
 *    certificate comes online; the same sensor with another sensor's certificate is refused.
 * 2. Bad input refuses the start with one line naming the key and exit status 2: a certificate path
 *    that does not exist, a key of another certificate, a port in use (collector), a client
 *    certificate that does not exist (agent).
 */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { certsInit, certsSensor } from '../../collector/src/cli/certs.js';
import {
  AGENT_MAIN,
  Agent,
  COLLECTOR_MAIN,
  Collector,
  NODE_TS_ARGS,
  READY_LINE,
  eventually,
  freePort,
  integrationTest,
  prepareBackend,
  repoRoot,
  requireTool,
  type TestScope,
} from './harness.js';
import { httpsRequest } from './harness/https.js';

const fingerprintOf = (file: string): string => new X509Certificate(readFileSync(file)).fingerprint256;

/** A CA with a server certificate for localhost and client certificates for alpha and beta. */
async function makeCertificates(dir: string): Promise<void> {
  await certsInit(dir, { hosts: ['localhost', '127.0.0.1'] });
  await certsSensor(dir, 'alpha');
  await certsSensor(dir, 'beta');
}

integrationTest('TLS: HTTPS reloaded on SIGHUP; MQTTS client certificates: own certificate online, another sensor’s refused', async (scope) => {
  if (requireTool(scope.t, 'openssl') === null) return;
  const backend = await prepareBackend(scope, 'pglite');
  if (!backend) return;
  const tls = join(scope.dir, 'tls');
  const next = join(scope.dir, 'tls-next');
  await makeCertificates(tls);
  await certsInit(next, { hosts: ['localhost', '127.0.0.1'] });
  // The HTTP listener serves copies that the test replaces; the broker keeps the first server certificate.
  const live = { certFile: join(scope.dir, 'http.crt'), keyFile: join(scope.dir, 'http.key') };
  copyFileSync(join(tls, 'server.crt'), live.certFile);
  copyFileSync(join(tls, 'server.key'), live.keyFile);
  const mqttsPort = await freePort();
  const collector = await Collector.create(scope, {
    backend,
    extraConfig: {
      http: { tls: live },
      mqtt: { tls: { certFile: join(tls, 'server.crt'), keyFile: join(tls, 'server.key'), port: mqttsPort, clientCaFile: join(tls, 'ca.crt') } },
    },
  });
  const secret = await collector.addSensor('alpha');
  // Started directly: the harness's start() expects plain HTTP.
  const proc = scope.spawn({
    name: 'collector-tls',
    command: process.execPath,
    args: [...NODE_TS_ARGS, COLLECTOR_MAIN, 'collector', '--config', collector.configFile],
    cwd: repoRoot,
  });
  const ready = JSON.parse(await proc.waitForLine(READY_LINE, 180_000)) as { http: string; mqtts?: number };
  assert.equal(ready.http, `https://127.0.0.1:${collector.httpPort}`);
  assert.equal(ready.mqtts, mqttsPort);
  const cas = [readFileSync(join(tls, 'ca.crt')), readFileSync(join(next, 'ca.crt'))];
  const api = (path: string) => httpsRequest(`${ready.http}/api/v1${path}`, { ca: cas, headers: { authorization: `Bearer ${collector.apiToken}` } });

  const health = await api('/health');
  assert.equal(health.status, 200);
  assert.equal(health.fingerprint, fingerprintOf(join(tls, 'server.crt')));
  assert.match(String(health.headers['strict-transport-security'] ?? ''), /max-age=\d+/);

  // An agent with its own client certificate (and its secret) comes online over MQTTS.
  const agentTls = (cert: string) => ({
    caFile: join(tls, 'ca.crt'),
    certFile: join(tls, 'sensors', `${cert}.crt`),
    keyFile: join(tls, 'sensors', `${cert}.key`),
  });
  const mqttUrl = `mqtts://127.0.0.1:${mqttsPort}`; // an IP SAN of the server certificate: no name resolution
  const alpha = new Agent(scope, { name: 'alpha', secret, mqttUrl, extraConfig: { mqtt: { tls: agentTls('alpha') } } });
  alpha.start();
  await alpha.process.waitForLine(/"event":"ready"/, 120_000);
  await eventually(
    async () => {
      const res = await api('/sensors/alpha');
      return res.json<{ status?: string }>().status === 'online' ? true : undefined;
    },
    { what: 'alpha online over MQTTS with its certificate', timeoutMs: 60_000, intervalMs: 500 },
  );
  await alpha.stop();

  // The same sensor and secret with beta's certificate: refused at CONNECT, never online.
  const impostor = new Agent(scope, {
    name: 'alpha',
    secret,
    mqttUrl,
    extraConfig: { stateDir: join(scope.dir, 'impostor-state'), mqtt: { tls: agentTls('beta') } },
  });
  impostor.start();
  await eventually(async () => (/client certificate CN is not the username/.test(proc.output()) ? true : undefined), {
    what: 'the collector refusing alpha with beta’s certificate',
    timeoutMs: 60_000,
    intervalMs: 250,
  });
  assert.doesNotMatch(impostor.process.output(), /"event":"ready"/, 'the impostor never got online');
  await impostor.stop();

  // New certificate files and SIGHUP: the next connection gets the new certificate.
  copyFileSync(join(next, 'server.crt'), live.certFile);
  copyFileSync(join(next, 'server.key'), live.keyFile);
  proc.signal('SIGHUP');
  await eventually(async () => ((await api('/health')).fingerprint === fingerprintOf(join(next, 'server.crt')) ? true : undefined), {
    what: 'the new certificate served after SIGHUP',
    timeoutMs: 30_000,
    intervalMs: 250,
  });
  const exit = await proc.stop('SIGTERM');
  assert.equal(exit.code, 0, `the collector did not stop cleanly:\n${proc.tail()}`);
});

/** Runs a program with a config file until it exits by itself; its exit code and output. */
async function refusedStart(scope: TestScope, name: string, main: string, args: string[], config: unknown): Promise<{ code: number | null; output: string }> {
  const file = join(scope.dir, `${name}.yaml`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  const proc = scope.spawn({ name, command: process.execPath, args: [...NODE_TS_ARGS, main, ...args, '--config', file], cwd: scope.dir });
  const timer = setTimeout(() => proc.killGroup(), 180_000);
  const exit = await proc.exited;
  clearTimeout(timer);
  assert.equal(exit.signal, null, `${name} was killed, it should exit by itself:\n${proc.tail()}`);
  return { code: exit.code, output: proc.output() };
}

function assertOneLine(result: { code: number | null; output: string }, line: RegExp): void {
  assert.equal(result.code, 2, `exit status 2 expected:\n${result.output}`);
  // The harness prefixes each stderr line with "[stderr] ".
  const matching = result.output.split('\n').filter((l) => line.test(l.replace(/^\[stderr\] /, '')));
  assert.equal(matching.length, 1, `one line matching ${line} expected:\n${result.output}`);
  assert.doesNotMatch(result.output, /^\s+at .+:\d+:\d+\)?$/m, `a message, not a stack trace:\n${result.output}`);
}

integrationTest(
  'TLS bad input: a missing certificate, a key of another certificate, a port in use, a missing client certificate — one line, exit 2',
  async (scope) => {
    if (requireTool(scope.t, 'openssl') === null) return;
    const tls = join(scope.dir, 'tls');
    await makeCertificates(tls);
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    scope.defer(() => void holder.close());
    const busy = (holder.address() as AddressInfo).port;
    const collectorConfig = (name: string, http: Record<string, unknown>) => ({
      dataDir: join(scope.dir, name),
      database: { url: 'memory://' },
      http: { host: '127.0.0.1', port: 0, ...http },
      mqtt: { port: 0 },
    });
    const [missing, mismatch, inUse, agent] = await Promise.all([
      refusedStart(
        scope,
        'missing-cert',
        COLLECTOR_MAIN,
        ['collector'],
        collectorConfig('a', { tls: { certFile: join(tls, 'nope.crt'), keyFile: join(tls, 'server.key') } }),
      ),
      refusedStart(
        scope,
        'key-mismatch',
        COLLECTOR_MAIN,
        ['collector'],
        collectorConfig('b', { tls: { certFile: join(tls, 'server.crt'), keyFile: join(tls, 'sensors/alpha.key') } }),
      ),
      refusedStart(scope, 'port-in-use', COLLECTOR_MAIN, ['collector'], collectorConfig('c', { port: busy })),
      refusedStart(scope, 'agent-cert', AGENT_MAIN, [], {
        name: 'alpha',
        stateDir: join(scope.dir, 'agent-state'),
        capture: { enabled: false },
        mqtt: { url: 'mqtts://127.0.0.1:1', password: 'x', tls: { certFile: join(tls, 'sensors/none.crt'), keyFile: join(tls, 'sensors/alpha.key') } },
      }),
    ]);
    assertOneLine(missing, /^pcapmesh: invalid configuration: http\.tls\.certFile: cannot read .*nope\.crt \(no such file\)$/);
    assertOneLine(mismatch, /^pcapmesh: invalid configuration: http\.tls\.keyFile: .*alpha\.key does not match the certificate in http\.tls\.certFile/);
    assertOneLine(inUse, new RegExp(`^pcapmesh: invalid configuration: http\\.port: 127\\.0\\.0\\.1:${busy} is already in use \\(EADDRINUSE\\)$`));
    assertOneLine(agent, /^pcapmesh-agent: invalid configuration: mqtt\.tls\.certFile: cannot read .*none\.crt \(ENOENT\)$/);
  },
);
