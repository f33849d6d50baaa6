/**
 * Broker-side accounts on a real Mosquitto 2 with its dynamic security plugin (mqtt.accounts:
 * dynamic-security), through a real collector on PostgreSQL and its HTTP API: enrolment creates
 * the account with its ACL (own topics only, client id = name), rotate changes the password,
 * revoke deletes the account and disconnects the session, a restart reconciles the broker with the
 * database; a Mosquitto without the plugin refuses the start saying what to configure.
 */
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connectAsync, type MqttClient } from 'mqtt';
import { pino } from 'pino';
import { requireTool } from '@pcapmesh/shared/util/testing';
import { encodeMessage, Sequencer, topics } from '@pcapmesh/shared/wire';
import { createCollector, type Collector } from '../app.js';
import { sensorAdd } from '../cli/sensor.js';
import { collectorConfig } from '../config.js';
import { createTestDatabase, TEST_DATABASE_URL_ENV } from '../testing/databases.js';
import { inCi } from '@pcapmesh/shared/util/testing';
import { sensorAcls, sensorRole } from './dynsec-acl.js';
import { openDynsecClient, type DynsecClient } from './dynsec-client.js';
import { startTestMosquitto, type TestMosquitto } from './dynsec.fixture.js';

const log = pino({ level: 'silent' });

function tools(t: TestContext): { mosquitto: string; mosquittoCtrl: string } | null {
  const mosquitto = requireTool(t, 'mosquitto');
  const mosquittoCtrl = mosquitto && requireTool(t, 'mosquitto_ctrl');
  return mosquitto && mosquittoCtrl ? { mosquitto, mosquittoCtrl } : null;
}

async function eventually<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function sensorClient(broker: TestMosquitto, name: string, password: string, clientId = name): Promise<MqttClient> {
  return connectAsync(broker.url, { clientId, username: name, password, protocolVersion: 5, reconnectPeriod: 0, connectTimeout: 15_000 }, false);
}

/** The collector on `dbUrl` managing accounts at `broker`, with an API helper. */
function configFor(broker: TestMosquitto, dbUrl: string, dataDir: string) {
  return collectorConfig({
    dataDir,
    http: { port: 0 },
    database: { url: dbUrl },
    mqtt: { url: broker.url, username: broker.admin.username, password: broker.admin.password, accounts: 'dynamic-security' },
  });
}

function collectorOn(broker: TestMosquitto, dbUrl: string, dataDir: string): Collector {
  return createCollector(configFor(broker, dbUrl, dataDir), { log });
}

/** What `fn` writes to stdout, kept from the test's own output. */
async function captureStdout(fn: () => Promise<void>): Promise<string> {
  const original = process.stdout.write.bind(process.stdout);
  let out = '';
  process.stdout.write = ((chunk: string | Uint8Array) => {
    out += chunk.toString();
    return true;
  }) as typeof process.stdout.write;
  try {
    await fn();
  } finally {
    process.stdout.write = original;
  }
  return out;
}

function api(collector: Collector, dataDir: string) {
  const token = readFileSync(join(dataDir, 'api-token'), 'utf8').trim();
  return async <T>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> => {
    const res = await fetch(`${collector.httpUrl}/api/v1${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : null) as T };
  };
}

const closed = (client: MqttClient) => new Promise<void>((resolve) => client.once('close', () => resolve()));
const birth = (seq: Sequencer) => Buffer.from(encodeMessage('state', seq.stamp('state', { status: 'online', bdSeq: 1, version: '0.1.0', interfaces: [] })));

test('dynamic security: enrol, own topics only, rotate, revoke disconnects, restart reconciles [postgres]', { timeout: 240_000 }, async (t) => {
  const found = tools(t);
  if (!found) return;
  if (!process.env[TEST_DATABASE_URL_ENV]) {
    if (inCi()) throw new Error(`${TEST_DATABASE_URL_ENV} is not set; CI=true requires PostgreSQL`);
    t.skip(`${TEST_DATABASE_URL_ENV} is not set (scripts/services.sh starts PostgreSQL)`);
    return;
  }
  const broker = await startTestMosquitto(found, { plugin: true });
  const database = await createTestDatabase('postgres');
  const dataDir = mkdtempSync(join(tmpdir(), 'pcapmesh-dynsec-collector-'));
  const open: MqttClient[] = [];
  let collector = collectorOn(broker, database.url, dataDir);
  let admin: DynsecClient | undefined;
  try {
    await collector.start();
    let call = api(collector, dataDir);
    const enrol = async (name: string): Promise<string> => {
      const created = await call<{ enrolment: { token: string } }>('POST', '/admin/sensors', { name });
      assert.equal(created.status, 201, JSON.stringify(created.body));
      const enrolled = await call<{ secret: string }>('POST', '/enroll', { token: created.body.enrolment.token });
      assert.equal(enrolled.status, 200, JSON.stringify(enrolled.body));
      return enrolled.body.secret;
    };
    const [secretA, secretB, secretC] = [await enrol('edge-a'), await enrol('edge-b'), await enrol('edge-c')];

    // Enrolled: the sensor connects with its name as client id and publishes its own topics, which the collector ingests.
    const a = await sensorClient(broker, 'edge-a', secretA);
    open.push(a);
    await a.publishAsync(topics.sensor('edge-a', 'state'), birth(new Sequencer(1)), { qos: 1 });
    await eventually(
      async () => ((await call<{ status: string }>('GET', '/sensors/edge-a/status')).body.status === 'online' ? true : undefined),
      'edge-a online',
    );
    // Another sensor's topics and commands are refused by the broker; so is a foreign client id.
    await assert.rejects(a.publishAsync(topics.sensor('edge-b', 'state'), birth(new Sequencer(1)), { qos: 1 }), /not authori[sz]ed/i);
    await assert.rejects(a.subscribeAsync(topics.filters.sensorCommands('edge-b'), { qos: 1 }), /not authori[sz]ed/i);
    assert.equal((await a.subscribeAsync(topics.filters.sensorCommands('edge-a'), { qos: 1 }))[0]?.qos, 1);
    await assert.rejects(sensorClient(broker, 'edge-a', secretA, 'edge-a-other'), /not authori[sz]ed/i);
    assert.equal((await call<{ status: string }>('GET', '/sensors/edge-b/status')).body.status, 'unknown');

    // Rotate: the connected session ends, the old secret is refused, the new one works.
    const aClosed = closed(a);
    const rotated = await call<{ secret: string }>('POST', '/admin/sensors/edge-a/rotate');
    assert.equal(rotated.status, 200, JSON.stringify(rotated.body));
    await aClosed;
    await assert.rejects(sensorClient(broker, 'edge-a', secretA), /not authori[sz]ed/i);
    const a2 = await sensorClient(broker, 'edge-a', rotated.body.secret);
    await a2.endAsync();

    // Revoke: the connected sensor is disconnected and cannot come back.
    const b = await sensorClient(broker, 'edge-b', secretB);
    open.push(b);
    const bClosed = closed(b);
    assert.equal((await call('POST', '/admin/sensors/edge-b/revoke')).status, 204);
    await bClosed;
    await assert.rejects(sensorClient(broker, 'edge-b', secretB), /not authori[sz]ed/i);

    // An integration account: reads events only; deleting it ends its session.
    const created = await call<{ secret: string }>('POST', '/admin/integrations', { name: 'ops' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const ops = await connectAsync(
      broker.url,
      { clientId: 'integration:ops:feed', username: 'integration:ops', password: created.body.secret, protocolVersion: 5, reconnectPeriod: 0 },
      false,
    );
    open.push(ops);
    assert.equal((await ops.subscribeAsync(topics.filters.allEvents, { qos: 1 }))[0]?.qos, 1);
    await assert.rejects(ops.subscribeAsync(topics.filters.allSensors, { qos: 1 }), /not authori[sz]ed/i);
    await assert.rejects(ops.publishAsync(topics.event('sensors', 'edge-a', 'status'), '{}', { qos: 1 }), /not authori[sz]ed/i);
    const opsClosed = closed(ops);
    assert.equal((await call('DELETE', '/admin/integrations/ops')).status, 204);
    await opsClosed;

    // While the collector is down the broker drifts: edge-a's role loses an ACL, revoked edge-b gets
    // an account again, edge-c's account is lost, and a marked account no sensor has appears.
    await collector.stop();
    admin = await openDynsecClient({ url: broker.url, ...broker.admin, clientId: 'test-admin', log });
    const [firstAcl] = sensorAcls('edge-a');
    const drift = await admin.run([
      { command: 'removeRoleACL', rolename: sensorRole('edge-a'), acltype: firstAcl!.acltype, topic: firstAcl!.topic },
      { command: 'createClient', username: 'edge-b', password: secretB },
      { command: 'deleteClient', username: 'edge-c' },
      { command: 'createClient', username: 'ghost', password: 'ghost-secret', textname: 'pcapmesh sensor' },
    ]);
    assert.deepEqual(
      drift.map((r) => r.error),
      [undefined, undefined, undefined, undefined],
    );
    (await sensorClient(broker, 'edge-b', secretB)).end(true);

    collector = collectorOn(broker, database.url, dataDir);
    await collector.start();
    call = api(collector, dataDir);
    const after = await admin.run([
      { command: 'getRole', rolename: sensorRole('edge-a') },
      { command: 'getClient', username: 'edge-b' },
      { command: 'getClient', username: 'ghost' },
      { command: 'getClient', username: 'edge-c' },
    ]);
    const acls = (after[0]?.data?.role as { acls: { acltype: string; topic: string }[] }).acls.map((x) => `${x.acltype} ${x.topic}`);
    assert.deepEqual(
      acls.sort(),
      sensorAcls('edge-a')
        .map((x) => `${x.acltype} ${x.topic}`)
        .sort(),
      'edge-a role restored',
    );
    assert.equal(after[1]?.error, 'Client not found', 'revoked edge-b deleted');
    assert.equal(after[2]?.error, 'Client not found', 'marked account without a sensor deleted');
    assert.equal((after[3]?.data?.client as { clientid: string }).clientid, 'edge-c', 'edge-c recreated');
    await assert.rejects(sensorClient(broker, 'edge-c', secretC), /not authori[sz]ed/i, 'a recreated account has no password');
    await assert.rejects(sensorClient(broker, 'edge-b', secretB), /not authori[sz]ed/i);
    // edge-a (its password untouched by reconciliation) publishes again; edge-c works once rotated.
    const a3 = await sensorClient(broker, 'edge-a', rotated.body.secret);
    open.push(a3);
    await a3.publishAsync(topics.sensor('edge-a', 'state'), birth(new Sequencer(5)), { qos: 1 });
    const rotatedC = await call<{ secret: string }>('POST', '/admin/sensors/edge-c/rotate');
    (await sensorClient(broker, 'edge-c', rotatedC.body.secret)).end(true);

    // `pcapmesh sensor add` sets the printed secret at the broker too.
    const printed = await captureStdout(() => sensorAdd({ config: configFor(broker, database.url, dataDir), log }, 'edge-d', undefined));
    const secretD = /^secret: (\S+)$/m.exec(printed)?.[1];
    assert.ok(secretD, 'sensor add printed a secret');
    (await sensorClient(broker, 'edge-d', secretD)).end(true);
  } finally {
    for (const c of open) c.end(true);
    await admin?.close();
    await collector.stop();
    await database.drop();
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});

test('a Mosquitto without the dynamic security plugin refuses the start, saying what to configure', { timeout: 120_000 }, async (t) => {
  const found = tools(t);
  if (!found) return;
  const broker = await startTestMosquitto(found, { plugin: false });
  const dataDir = mkdtempSync(join(tmpdir(), 'pcapmesh-dynsec-collector-'));
  const collector = collectorOn(broker, 'memory://', dataDir);
  try {
    await assert.rejects(collector.start(), (err: Error) => {
      assert.match(err.message, /broker accounts/);
      assert.match(err.message, /nothing answered on \$CONTROL\/dynamic-security\/v1/);
      assert.match(err.message, /mosquitto_dynamic_security\.so/);
      assert.match(err.message, /mqtt\.accounts: manual/);
      assert.doesNotMatch(err.message, new RegExp(broker.admin.password));
      return true;
    });
  } finally {
    await collector.stop();
    await broker.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
});
