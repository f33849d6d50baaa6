/**
 * The generator on small operations: components from `.meta({ id })`, io input vs output, the
 * errors it refuses to paper over (one id for two schemas, an unknown tag or status, a route
 * declared twice), and what it tidies away.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { openApiDocument } from './document.js';
import { time } from './kit.js';
import { defineOperation, type OperationSpec } from './operation.js';

const Thing = z.strictObject({ name: z.string(), at: time, size: z.number().int() }).meta({ id: 'TestThing' });

const getThing = defineOperation({
  method: 'get',
  path: '/things/{name}',
  id: 'getThing',
  tag: 'meta',
  permission: 'read',
  summary: 'A thing',
  params: z.object({ name: z.string().min(1).describe('the thing’s name') }),
  query: z.object({ limit: z.coerce.number().int().min(1).default(10) }),
  responses: { 200: { description: 'the thing', schema: Thing } },
  errors: [404],
});

const doc = (ops: OperationSpec[]) => openApiDocument(ops, { version: '1', prefix: '/api' });

test('schemas with an id become components; parameters come from the params and query schemas (input side)', () => {
  const d = doc([getThing]);
  const op = d.paths['/api/things/{name}']!.get!;
  assert.deepEqual((op.responses as Record<string, unknown>)['200'], {
    description: 'the thing',
    content: { 'application/json': { schema: { $ref: '#/components/schemas/TestThing' } } },
  });
  assert.deepEqual(
    d.components.schemas.TestThing,
    {
      type: 'object',
      properties: { name: { type: 'string' }, at: { type: 'string', format: 'date-time', description: 'ISO 8601, UTC' }, size: { type: 'integer' } },
      required: ['name', 'at', 'size'],
      additionalProperties: false,
    },
    'no RFC 3339 regex beside date-time, no ±2^53 bounds on an int',
  );
  assert.deepEqual(op.parameters, [
    { name: 'name', in: 'path', required: true, schema: { type: 'string', minLength: 1 }, description: 'the thing’s name' },
    { name: 'limit', in: 'query', required: false, schema: { default: 10, type: 'integer', minimum: 1 } },
  ]);
  assert.deepEqual(Object.keys(op.responses as object), ['200', '401', '404', '500'], '401 from the permission, 500 always');
  assert.equal(op['x-permission'], 'read');
});

test('one id standing for two different schemas is refused, naming the id', () => {
  // A schema whose request side differs from its response side (a default), used both ways under one id.
  const Defaulted = z.strictObject({ n: z.number().default(1) }).meta({ id: 'TestDefaulted' });
  const put = defineOperation({
    method: 'put',
    path: '/d',
    id: 'putD',
    tag: 'meta',
    permission: 'admin',
    summary: 'd',
    body: { schema: Defaulted },
    responses: { 200: { description: 'd', schema: Defaulted } },
  });
  assert.throws(() => doc([put]), /schema TestDefaulted \(used by putD, as output\) differs from an earlier use/);
  const input = defineOperation({ ...put, id: 'putInput', responses: { 204: { description: 'done' } } });
  assert.doesNotThrow(() => doc([input]), 'used one way only, the id is fine');
});

test('an unknown tag, an error status without a response, a path documented twice: each refused by name', () => {
  assert.throws(() => doc([{ ...getThing, tag: 'nope' }]), /getThing has tag nope/);
  assert.throws(() => doc([{ ...getThing, errors: [418] }]), /getThing names status 418/);
  assert.throws(() => doc([getThing, { ...getThing, id: 'again' }]), /GET \/things\/\{name\} documented twice/);
});

test('zod schemas inside raw content and extensions are converted and collected', () => {
  const op = defineOperation({
    method: 'get',
    path: '/raw',
    id: 'raw',
    tag: 'meta',
    permission: 'public',
    summary: 'raw',
    responses: { 200: { description: 'either', content: { 'application/json': { schema: Thing }, 'text/plain': { schema: { type: 'string' } } } } },
    extensions: { 'x-messages': { oneOf: [Thing] } },
  });
  const d = doc([op]);
  const got = d.paths['/api/raw']!.get!;
  assert.deepEqual((got.responses as Record<string, { content: unknown }>)['200']!.content, {
    'application/json': { schema: { $ref: '#/components/schemas/TestThing' } },
    'text/plain': { schema: { type: 'string' } },
  });
  assert.deepEqual(got['x-messages'], { oneOf: [{ $ref: '#/components/schemas/TestThing' }] });
  assert.ok(d.components.schemas.TestThing);
});
