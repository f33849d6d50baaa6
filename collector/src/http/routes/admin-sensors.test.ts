import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { pino } from 'pino';
import { parse } from 'yaml';
import { topics } from '@pcapmesh/shared/wire';
import { createTestHttp, USER_PASSWORD, type TestHttp } from '../app.fixture.js';
import { startHttpServer, type HttpServer } from '../server.js';

const AGENT_MAIN = fileURLToPath(new URL('../../../../agent/src/main.ts', import.meta.url));

let t: TestHttp;
let server: HttpServer;
let admin: string;
let dir: string;

before(async () => {
  t = await createTestHttp();
  server = await startHttpServer(t.app, { host: '127.0.0.1', port: 0, log: pino({ level: 'silent' }) });
  const res = await fetch(`${server.url}/api/v1/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'admin1', password: USER_PASSWORD }),
  });
  admin = ((await res.json()) as { accessToken: string }).accessToken;
  dir = mkdtempSync(join(tmpdir(), 'pcapmesh-enrol-'));
});
after(async () => {
  await server.close();
  await t.close();
  rmSync(dir, { recursive: true, force: true });
});

const api = (method: string, path: string, body?: unknown) =>
  fetch(`${server.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });

/** `pcapmesh-agent enroll …` from the agent's source. */
function agentEnroll(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=pcapmesh-src', '--import', import.meta.resolve('tsx'), AGENT_MAIN, 'enroll', ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Resolves when the client's connection closes. */
const whenClosed = (client: mqtt.MqttClient) => new Promise<void>((resolve) => client.once('close', () => resolve()));

function connect(opts: { clientId: string; username: string; password: string }): Promise<mqtt.MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${t.broker.ports.mqtt}`, { ...opts, reconnectPeriod: 0, protocolVersion: 4 });
  return new Promise((resolve, reject) => {
    client.once('connect', () => resolve(client));
    client.once('error', (err) => {
      client.end(true);
      reject(err);
    });
  });
}

test('enrolment: admin creates a sensor, the agent enrolls once (config 0600), a revoked sensor is disconnected at once', async () => {
  const created = await api('POST', '/admin/sensors', { name: 'edge-9', location: 'lab', expiresInHours: 1 });
  assert.equal(created.status, 201);
  const { sensor, enrolment } = (await created.json()) as { sensor: { name: string }; enrolment: { token: string; expiresAt: string } };
  assert.equal(sensor.name, 'edge-9');
  assert.match(enrolment.token, /^pme_/);
  const config = join(dir, 'agent.yaml');
  writeFileSync(config, '# site agent\nlocation: lab\nmqtt:\n  url: mqtt://127.0.0.1:1883\n');

  const first = await agentEnroll(['--collector', server.url, '--token', enrolment.token, '--config', config]);
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(JSON.parse(first.stdout), { event: 'enrolled', sensor: 'edge-9', config });
  assert.equal(statSync(config).mode & 0o777, 0o600);
  const written = parse(readFileSync(config, 'utf8')) as { name: string; location: string; collectorUrl: string; mqtt: { url: string; password: string } };
  assert.equal(written.name, 'edge-9');
  assert.equal(written.location, 'lab', 'other keys kept');
  assert.equal(written.collectorUrl, server.url);
  assert.match(readFileSync(config, 'utf8'), /^# site agent/, 'comments kept');
  assert.ok(!first.stdout.includes(written.mqtt.password) && !first.stderr.includes(written.mqtt.password), 'secret never printed');

  const second = await agentEnroll(['--collector', server.url, '--token', enrolment.token, '--config', join(dir, 'other.yaml')]);
  assert.equal(second.code, 1, 'an enrolment token works once');
  assert.match(second.stderr, /enrolment refused \(HTTP 401\): enrolment token unknown, already used or expired/);
  const usage = await agentEnroll(['--collector', 'not-a-url', '--token', 'x']);
  assert.equal(usage.code, 2);

  const client = await connect({ clientId: 'edge-9', username: 'edge-9', password: written.mqtt.password });
  const closed = whenClosed(client);
  assert.equal((await api('POST', '/admin/sensors/edge-9/revoke')).status, 204);
  await closed;
  client.end(true);
  await assert.rejects(connect({ clientId: 'edge-9', username: 'edge-9', password: written.mqtt.password }), /Bad username or password|Connection refused/i);

  const rotated = (await (await api('POST', '/admin/sensors/edge-9/rotate')).json()) as { secret: string };
  const again = await connect({ clientId: 'edge-9', username: 'edge-9', password: rotated.secret });
  again.end(true);
  // The failed redemption above is not audited (a row per guess would let anyone fill the log).
  const audit = await t.accounts.audit.list({ action: 'sensor.', limit: 20 });
  assert.deepEqual(audit.entries.map((e) => [e.action, e.outcome]).reverse(), [
    ['sensor.create', 'ok'],
    ['sensor.enroll', 'ok'],
    ['sensor.revoke', 'ok'],
    ['sensor.rotate', 'ok'],
  ]);
});

test('integration accounts subscribe to events only, never publish, and are cut off when deleted', async () => {
  const res = await api('POST', '/admin/integrations', { name: 'siem' });
  assert.equal(res.status, 201);
  const account = (await res.json()) as { username: string; secret: string };
  assert.equal(account.username, 'integration:siem');
  await assert.rejects(connect({ clientId: 'edge-1', username: account.username, password: account.secret }), /Identifier rejected|refused/i);
  const client = await connect({ clientId: 'integration:siem:1', username: account.username, password: account.secret });
  const granted = await client.subscribeAsync(topics.filters.allEvents);
  assert.deepEqual(
    granted.map((g) => g.qos),
    [0],
    'events/# granted',
  );
  await assert.rejects(client.subscribeAsync(topics.filters.allSensors), /Subscribe error/, 'sensors/# refused (SUBACK 0x80)');
  const closed = whenClosed(client);
  assert.equal((await api('DELETE', '/admin/integrations/siem')).status, 204);
  await closed;
  client.end(true);
  await assert.rejects(connect({ clientId: 'integration:siem:1', username: account.username, password: account.secret }));
  const publisher = await (async () => {
    const again = (await (await api('POST', '/admin/integrations', { name: 'siem2' })).json()) as { username: string; secret: string };
    return connect({ clientId: 'integration:siem2', username: again.username, password: again.secret });
  })();
  const dropped = whenClosed(publisher);
  publisher.publish(topics.sensor('edge-1', 'state'), Buffer.from('x'), { qos: 1 });
  await dropped;
  publisher.end(true);
});
