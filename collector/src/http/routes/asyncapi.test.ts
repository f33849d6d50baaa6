/**
 * The AsyncAPI 3.0 document (asyncapi-document.ts), checked offline against the shape of the
 * specification: required members, every channel with an address whose parameters are declared,
 * every $ref resolving inside the document, operations pointing at their channel's messages, and
 * every topic shape of shared/src/wire/topics.ts present. The payload schemas accept real messages
 * (checked with the zod schema the code decodes with, which the JSON Schema was generated from)
 * and the document is what GET /api/v1/asyncapi.json serves, without a token.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { COMMANDS, SENSOR_CHANNELS, TOPIC_PREFIX, topics, parseTopic } from '@pcapmesh/shared/wire';
import { createTestHttp, type TestHttp } from '../app.fixture.js';
import { API_PREFIX } from '../app.js';
import { asyncApiDocument } from './asyncapi-document.js';

type Json = { [key: string]: unknown };
const doc = asyncApiDocument({ version: '9.9.9' }) as Json & {
  channels: Record<string, { address: string; messages: Record<string, { $ref: string }>; parameters?: Record<string, Json> }>;
  operations: Record<string, { action: string; channel: { $ref: string }; messages: { $ref: string }[] }>;
  components: { messages: Record<string, { payload: { $ref: string }; contentType: string }>; schemas: Record<string, Json> };
};

/** Resolves a local JSON pointer (`#/a/b`) in the document; throws naming the pointer when it does not. */
function resolve(ref: string): unknown {
  assert.ok(ref.startsWith('#/'), `${ref} is a local reference`);
  let node: unknown = doc;
  for (const part of ref.slice(2).split('/')) {
    const key = part.replace(/~1/g, '/').replace(/~0/g, '~');
    assert.ok(node !== null && typeof node === 'object' && key in node, `${ref} does not resolve (at ${key})`);
    node = (node as Json)[key];
  }
  return node;
}

function refsIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) for (const n of node) refsIn(n, out);
  else if (node !== null && typeof node === 'object') {
    for (const [k, v] of Object.entries(node)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

test('AsyncAPI 3.0.0 shape: info, channels with addresses and declared parameters, operations, components', () => {
  assert.equal(doc.asyncapi, '3.0.0');
  const info = doc.info as Json;
  assert.equal(typeof info.title, 'string');
  assert.equal(info.version, '9.9.9');
  assert.ok(Object.keys(doc.channels).length > 0);
  for (const [id, channel] of Object.entries(doc.channels)) {
    assert.match(id, /^[A-Za-z0-9.\-_]+$/, `channel id ${id}`);
    assert.ok(channel.address.startsWith(`${TOPIC_PREFIX}/`), `${id}: address ${channel.address}`);
    assert.doesNotMatch(channel.address, /[+#]/, `${id}: an address has parameters, not wildcards`);
    const params = [...channel.address.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
    assert.deepEqual(Object.keys(channel.parameters ?? {}).sort(), [...params].sort(), `${id}: every {parameter} declared, no other`);
    assert.ok(Object.keys(channel.messages).length > 0, `${id} has a message`);
    for (const m of Object.values(channel.messages)) assert.match(m.$ref, /^#\/components\/messages\//);
  }
  for (const [id, op] of Object.entries(doc.operations)) {
    assert.ok(op.action === 'send' || op.action === 'receive', `${id}: action ${op.action}`);
    const channel = resolve(op.channel.$ref);
    for (const m of op.messages) {
      assert.ok(m.$ref.startsWith(`${op.channel.$ref}/messages/`), `${id}: its messages are its channel's`);
      resolve(m.$ref);
    }
    assert.ok(channel);
  }
  for (const [name, message] of Object.entries(doc.components.messages)) {
    assert.match(message.payload.$ref, /^#\/components\/schemas\//, `${name} payload references a schema`);
    assert.ok(['application/cbor', 'application/json'].includes(message.contentType));
  }
  for (const ref of refsIn(doc)) resolve(ref);
  assert.doesNotMatch(JSON.stringify(doc), /"\$schema"|"\$defs"|"definitions"/, 'components carry no nested dialect or definitions');
});

test('every topic of shared/src/wire/topics.ts is a channel (with parameters filled in it parses to the same kind)', () => {
  const addresses = Object.values(doc.channels).map((c) => c.address);
  const concrete = (address: string) => address.replace('{sensor}', 'alpha').replace(/\{(task|request|job)\}/, 'x-1');
  const expected = [
    ...SENSOR_CHANNELS.map((ch) => topics.sensor('alpha', ch)),
    topics.taskStatus('alpha', 'x-1'),
    topics.estimate('alpha', 'x-1'),
    ...COMMANDS.map((c) => topics.command('alpha', c)),
    topics.event('sensors', 'alpha', 'status'),
    topics.event('jobs', 'x-1', 'status'),
    topics.event('network', 'subnets'),
  ];
  assert.deepEqual(addresses.map(concrete).sort(), [...expected].sort());
  for (const address of addresses) assert.notEqual(parseTopic(concrete(address)), null, `${address} is in the topic tree`);
  const events = Object.values(doc.components.messages).filter((m) => m.contentType === 'application/json');
  assert.equal(events.length, 3, 'the events/ topics are JSON, the agent topics CBOR');
});

test('payload schemas: the health schema names the fields of a health report, required ones required', () => {
  const health = doc.components.schemas.SensorHealth as { type: string; properties: Record<string, Json>; required: string[] };
  assert.equal(health.type, 'object');
  for (const field of ['v', 'sentAt', 'seq', 'cpu', 'memory', 'disks']) assert.ok(field in health.properties, `health.${field}`);
  assert.ok(health.required.includes('cpu'));
  const status = resolve(doc.components.messages.SensorStatusEvent!.payload.$ref) as { properties: { type: { const?: string; enum?: string[] } } };
  assert.ok(status.properties.type.const === 'sensor.status' || status.properties.type.enum?.[0] === 'sensor.status');
});

let t: TestHttp;
before(async () => {
  t = await createTestHttp();
});
after(async () => {
  await t.close();
});

test('GET /api/v1/asyncapi.json is public like openapi.json and serves this document; it is in the OpenAPI document', async () => {
  const res = await t.app.request(`${API_PREFIX}/asyncapi.json`);
  assert.equal(res.status, 200);
  const served = (await res.json()) as Json;
  assert.equal(served.asyncapi, '3.0.0');
  assert.deepEqual(Object.keys(served.channels as Json), Object.keys(doc.channels));
  const openapi = (await (await t.app.request(`${API_PREFIX}/openapi.json`)).json()) as { paths: Record<string, unknown> };
  assert.ok(`${API_PREFIX}/asyncapi.json` in openapi.paths, 'documented in openapi.json');
});
