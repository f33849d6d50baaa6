/**
 * Issue 15 C: GET /metrics and the AsyncAPI document on a real collector process.
 *
 * - /api/v1/metrics answers 401 without the token, with a wrong one and with a user-style API token;
 *   metrics.listen (a listener of its own) asks for the token too when it is set.
 * - A scrape is valid text exposition (every sample line belongs to a family declared by # HELP and
 *   # TYPE, names and labels in Prometheus' grammar, values numbers) with prom-client's content type.
 * - Real ingest over MQTT (a sensor's state, health reports, a payload that is not CBOR) moves the
 *   counters by exactly what was sent; sensors by status, the sensor's last-seen age, broker clients,
 *   HTTP durations by route pattern (never the raw path), jobs by state; the pg pool on PostgreSQL.
 * - The mosquitto_sub recipes of docs/mqtt.md, run as written, receive the retained sensor status.
 *
 * One collector per backend (PGlite, PostgreSQL); ~15-25 s each on a loaded 2-core machine.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import client from 'prom-client';
import { topics } from '@pcapmesh/shared/wire';
import {
  BACKENDS,
  Collector,
  MessageFactory,
  connectClient,
  eventually,
  freePort,
  healthBody,
  integrationTest,
  prepareBackend,
  repoRoot,
  requireTool,
} from './harness.js';

const run = promisify(execFile);
const TOKEN = 'metrics-token-0123456789abcdef';
const HEALTH_REPORTS = 5;

type Sample = { name: string; labels: Record<string, string>; value: number };

/**
 * Parses the Prometheus text format 0.0.4 strictly: throws naming the line that breaks it. Every
 * sample must belong to a family declared with # HELP and # TYPE before it (histograms: _bucket,
 * _sum, _count; a bucket needs `le`).
 */
function parseExposition(text: string): Sample[] {
  const types = new Map<string, string>();
  const helps = new Set<string>();
  const samples: Sample[] = [];
  const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*';
  const sampleLine = new RegExp(`^(${NAME})(?:\\{(.*)\\})? (\\S+)$`);
  const labelPair = /^([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(?:,|$)/;
  for (const [i, line] of text.split('\n').entries()) {
    const where = `line ${i + 1}: ${JSON.stringify(line)}`;
    if (line === '') continue;
    let m = new RegExp(`^# HELP (${NAME}) .*$`).exec(line);
    if (m) {
      helps.add(m[1]!);
      continue;
    }
    m = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`).exec(line);
    if (m) {
      assert.ok(helps.has(m[1]!), `${where}: TYPE before HELP`);
      types.set(m[1]!, m[2]!);
      continue;
    }
    m = sampleLine.exec(line);
    assert.ok(m, `${where}: not a sample line`);
    const [, name, labelText, valueText] = m;
    const family = [name!, name!.replace(/_(bucket|sum|count)$/, '')].find((f) => types.has(f));
    assert.ok(family !== undefined, `${where}: no # TYPE for ${name}`);
    if (family !== name) assert.equal(types.get(family), 'histogram', `${where}: suffix on a ${types.get(family)}`);
    const labels: Record<string, string> = {};
    let rest = labelText ?? '';
    while (rest !== '') {
      const pair = labelPair.exec(rest);
      assert.ok(pair, `${where}: bad labels at ${JSON.stringify(rest)}`);
      labels[pair[1]!] = pair[2]!;
      rest = rest.slice(pair[0].length);
    }
    if (name!.endsWith('_bucket')) assert.ok('le' in labels, `${where}: bucket without le`);
    const value = Number(valueText === '+Inf' ? Infinity : valueText === '-Inf' ? -Infinity : valueText);
    assert.ok(!Number.isNaN(value) || valueText === 'NaN', `${where}: value ${valueText} is not a number`);
    samples.push({ name: name!, labels, value });
  }
  return samples;
}

function value(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  return samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
}

/** The `mosquitto_sub` lines of docs/mqtt.md's recipes block. */
function recipes(): string[] {
  const doc = readFileSync(`${repoRoot}/docs/mqtt.md`, 'utf8');
  const section = doc.slice(doc.indexOf('## Recipes (`mosquitto_sub`)'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block.split('\n').filter((l) => l.startsWith('mosquitto_sub '));
}

for (const backendName of BACKENDS) {
  integrationTest(`metrics: protected, valid exposition, moves with real ingest; AsyncAPI; mosquitto_sub recipes [${backendName}]`, async (scope) => {
    const mosquittoSub = requireTool(scope.t, 'mosquitto_sub');
    if (!mosquittoSub) return;
    const backend = await prepareBackend(scope, backendName);
    if (!backend) return;
    const listenPort = await freePort();
    const collector = await Collector.create(scope, { backend, extraConfig: { metrics: { token: TOKEN, listen: `127.0.0.1:${listenPort}` } } });
    const secret = await collector.addSensor('alpha');
    await collector.start();
    const base = `${collector.api.baseUrl}/api/v1`;
    const get = (url: string, token?: string) =>
      fetch(url, { headers: token === undefined ? {} : { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(20_000) });

    // Never public: no token, a wrong one, the API token (a different credential) → 401; the own listener too.
    for (const token of [undefined, 'wrong-token-0123456789', collector.apiToken]) {
      const res = await get(`${base}/metrics`, token);
      assert.equal(res.status, 401, `GET /api/v1/metrics with ${token === undefined ? 'no token' : 'a wrong token'}`);
      assert.match(((await res.json()) as { error: { message: string } }).error.message, /metrics\.token/);
    }
    assert.equal((await get(`http://127.0.0.1:${listenPort}/metrics`)).status, 401, 'metrics.listen asks for the token when it is set');
    const scrape = async (url = `${base}/metrics`): Promise<Sample[]> => {
      const res = await get(url, TOKEN);
      assert.equal(res.status, 200, `scrape of ${url}`);
      assert.equal(res.headers.get('content-type'), client.register.contentType, 'prom-client’s exposition content type');
      return parseExposition(await res.text());
    };
    const before = await scrape();
    assert.deepEqual(
      (await scrape(`http://127.0.0.1:${listenPort}/metrics`)).map((s) => s.name).filter((n) => n.startsWith('pcapmesh_ingest')),
      before.map((s) => s.name).filter((n) => n.startsWith('pcapmesh_ingest')),
      'metrics.listen serves the same families',
    );
    const health0 = value(before, 'pcapmesh_ingest_messages_total', { kind: 'health' }) ?? 0;
    const notCbor0 = value(before, 'pcapmesh_ingest_refused_total', { reason: 'not-cbor' }) ?? 0;
    assert.equal(value(before, 'pcapmesh_sensors', { status: 'online' }), 0);
    assert.equal(value(before, 'pcapmesh_jobs', { state: 'complete' }), 0, 'jobs by state: every state present');

    // Real ingest: the sensor's birth, health reports, and one payload that is not CBOR.
    const mqtt = await connectClient({ url: collector.mqttUrl, username: 'alpha', password: secret });
    const messages = new MessageFactory(1);
    await mqtt.publishAsync(topics.sensor('alpha', 'state'), messages.encode('state', { status: 'online', bdSeq: 1, version: 'metrics-test' }), {
      qos: 1,
      retain: true,
    });
    for (let i = 0; i < HEALTH_REPORTS; i++) await mqtt.publishAsync(topics.sensor('alpha', 'health'), messages.encode('health', healthBody(i)), { qos: 1 });
    await mqtt.publishAsync(topics.sensor('alpha', 'health'), Buffer.from([0xff, 0x00, 0x13]), { qos: 1 });
    await collector.api.waitForStatus('alpha', 'online', 30_000);

    const after = await eventually(
      async () => {
        const s = await scrape();
        const health = value(s, 'pcapmesh_ingest_messages_total', { kind: 'health' }) ?? 0;
        const refused = value(s, 'pcapmesh_ingest_refused_total', { reason: 'not-cbor' }) ?? 0;
        return health - health0 >= HEALTH_REPORTS && refused - notCbor0 >= 1 ? s : undefined;
      },
      { what: `${HEALTH_REPORTS} health reports and 1 not-cbor refusal in /metrics`, timeoutMs: 60_000 },
    );
    assert.equal((value(after, 'pcapmesh_ingest_messages_total', { kind: 'health' }) ?? 0) - health0, HEALTH_REPORTS, 'health reports counted once each');
    assert.equal((value(after, 'pcapmesh_ingest_refused_total', { reason: 'not-cbor' }) ?? 0) - notCbor0, 1, 'the bad payload counted by its reason');
    assert.equal(value(after, 'pcapmesh_sensors', { status: 'online' }), 1, 'sensors by status');
    const age = value(after, 'pcapmesh_sensor_last_seen_age_seconds', { sensor: 'alpha' });
    assert.ok(age !== undefined && age >= 0 && age < 600, `alpha's last-seen age: ${age}`);
    assert.ok((value(after, 'pcapmesh_broker_clients') ?? 0) >= 1, 'the sensor’s connection is counted');
    assert.ok(
      after.some((s) => s.name === 'pcapmesh_broker_refused_total' && s.labels.limit === 'busy'),
      'broker refusals by limit',
    );
    assert.ok(
      after.some((s) => s.name === 'pcapmesh_login_throttle_total' && s.labels.event === 'failures'),
      'login throttle counters',
    );
    // HTTP durations by route pattern: waitForStatus asked GET /sensors/alpha/status.
    const routes = new Set(after.filter((s) => s.name === 'pcapmesh_http_request_duration_seconds_count').map((s) => s.labels.route));
    assert.ok(routes.has('/api/v1/sensors/:name/status'), `route patterns: ${[...routes].join(', ')}`);
    assert.ok(![...routes].some((r) => r?.includes('alpha')), 'no raw path (sensor name) in a route label');
    if (backendName === 'postgres') assert.ok((value(after, 'pcapmesh_db_pool_connections') ?? 0) >= 1, 'pg pool connections');
    else assert.equal(value(after, 'pcapmesh_db_pool_connections'), undefined, 'no pool on PGlite');
    await mqtt.endAsync();

    // The AsyncAPI document: public like openapi.json, every channel with an address.
    const asyncapi = (await (await get(`${base}/asyncapi.json`)).json()) as { asyncapi: string; channels: Record<string, { address: string }> };
    assert.equal(asyncapi.asyncapi, '3.0.0');
    assert.ok(Object.values(asyncapi.channels).some((c) => c.address === 'pcapmesh/v1/events/sensors/{sensor}/status'));

    // docs/mqtt.md's mosquitto_sub recipes, as written, with an integration account.
    const created = await fetch(`${base}/admin/integrations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${collector.apiToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'ops' }),
    });
    assert.equal(created.status, 201);
    const { secret: integrationSecret } = (await created.json()) as { secret: string };
    const lines = recipes();
    assert.equal(lines.length, 2, 'docs/mqtt.md has the two recipes');
    const env = { ...process.env, HOST: '127.0.0.1', PORT: String(collector.mqttPort), NAME: 'ops', SECRET: integrationSecret, SENSOR: 'alpha' };
    // The feed: the retained status of alpha arrives first (-C 1 -W 20 added so it ends).
    const feed = await run('bash', ['-c', `${lines[0]} -C 1 -W 20`], { env, timeout: 30_000 });
    assert.match(feed.stdout, /^pcapmesh\/v1\/events\/sensors\/alpha\/status \{.*"type":"sensor.status".*\}\n$/s);
    const one = await run('bash', ['-c', lines[1]!], { env, timeout: 30_000 });
    const event = JSON.parse(one.stdout) as { type: string; sensor: string; status: string };
    assert.deepEqual([event.type, event.sensor, event.status], ['sensor.status', 'alpha', 'online']);

    await collector.stop();
  });
}
