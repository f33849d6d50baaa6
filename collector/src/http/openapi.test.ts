/**
 * The OpenAPI document against the real app: every served route documented and every documented
 * operation served (same method, path and permission), the document well formed, served as is,
 * and its schemas agreeing with the real handlers — request bodies the schema rejects are refused
 * with 400, bodies it accepts are taken, and real answers carry exactly the documented fields,
 * checked twice: against the document's JSON Schema and against the operation's zod schema
 * (openapi/conformance.fixture.ts). A deliberately drifting answer (a field too many, one missing)
 * is caught by both.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Hono } from 'hono';
import { pino } from 'pino';
import { PERMISSIONS, type Permission } from '../domain/accounts/roles.js';
import { birth, health, pcap } from '../domain/sensors/sensors.fixture.js';
import { createTestHttp, USER_PASSWORD, type TestHttp } from './app.fixture.js';
import { availableSensor, completedJob } from './jobs.fixture.js';
import { API_PREFIX } from './app.js';
import { createPermit, permissionOf } from './auth.js';
import type { AppEnv } from './env.js';
import { onError } from './errors.js';
import { documentedResponse, jsonSchemaProblems, refsIn, resolvePointer, zodProblems } from './openapi/conformance.fixture.js';
import { openApiDocument, type Json, type OpenApiDocument } from './openapi/document.js';
import { createRoute, type OperationSpec } from './openapi/operation.js';
import { getMe } from './routes/session.js';

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

let t: TestHttp;
let doc: OpenApiDocument;
const bearer: Record<string, string> = {};

before(async () => {
  t = await createTestHttp();
  doc = openApiDocument(t.operations, { version: '9.9.9', prefix: API_PREFIX });
  for (const username of ['admin1', 'viewer1']) bearer[username] = await t.accessTokenOf(username);
});
after(() => t.close());

// ─── helpers ─────────────────────────────────────────────────────────────────────────────────────

/** "GET /api/v1/sensors/{name}" → the permission its permit() declares, for every method route (not `use()` middleware such as the dashboard fallback). */
function servedRoutes(app: Hono<AppEnv>): Map<string, Permission | undefined> {
  const served = new Map<string, Permission | undefined>();
  for (const route of app.routes) {
    if (route.method === 'ALL') continue;
    const key = `${route.method} ${route.path.replace(/:([A-Za-z0-9_]+)/g, '{$1}')}`;
    const level = permissionOf(route.handler);
    if (level !== undefined || !served.has(key)) served.set(key, level ?? served.get(key));
  }
  return served;
}

/** "GET /api/v1/sensors/{name}" → the operation object. */
function documentedOperations(d: OpenApiDocument): Map<string, Json> {
  const ops = new Map<string, Json>();
  for (const [path, item] of Object.entries(d.paths)) {
    for (const [method, op] of Object.entries(item)) ops.set(`${method.toUpperCase()} ${path}`, op);
  }
  return ops;
}

function drift(app: Hono<AppEnv>, d: OpenApiDocument): { undocumented: string[]; unserved: string[] } {
  const served = servedRoutes(app);
  const documented = documentedOperations(d);
  return {
    undocumented: [...served.keys()].filter((key) => !documented.has(key)).sort(),
    unserved: [...documented.keys()].filter((key) => !served.has(key)).sort(),
  };
}

/** Checks against the document's JSON Schema (refs resolved in `doc`). */
const check = (schema: Json, value: unknown, opts: { strict: boolean }): string[] => jsonSchemaProblems(doc, schema, value, opts);

/** The mounted operation of `method` and `template` ('/sensors/{name}'). */
function opOf(method: string, template: string): OperationSpec {
  const op = t.operations.find((o) => o.method === method.toLowerCase() && o.path === template);
  assert.ok(op, `${method} ${template} is mounted with route()`);
  return op;
}

/** The schema of an operation's request body (application/json). */
function requestSchema(method: string, path: string): Json {
  const op = doc.paths[API_PREFIX + path]?.[method as 'get'];
  const content = (op?.requestBody as { content?: Record<string, { schema: Json }> } | undefined)?.content;
  assert.ok(content?.['application/json'], `${method} ${path} documents a JSON request body`);
  return content['application/json'].schema;
}

/** The document's schema of an operation's response with `status` (application/json). */
const responseSchema = (method: string, path: string, status: number): Json | undefined =>
  documentedResponse(doc, API_PREFIX, { method: method as OperationSpec['method'], path }, status);

async function call(method: string, path: string, opts: { as?: string; body?: unknown } = {}): Promise<Response> {
  const headers: Record<string, string> = {};
  if (opts.as) headers.authorization = `Bearer ${bearer[opts.as]}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  return t.app.request(`${API_PREFIX}${path}`, { method, headers, ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }) });
}

/** Calls the route and checks its status and (JSON) body against the document and against the operation's zod schema. */
async function conforms(method: string, path: string, template: string, expected: number, opts: { as?: string; body?: unknown } = {}): Promise<unknown> {
  const res = await call(method, path, opts);
  const text = await res.text();
  assert.equal(res.status, expected, `${method} ${path}: ${text}`);
  const schema = responseSchema(method.toLowerCase(), template, expected);
  if (schema === undefined) {
    assert.equal(text, '', `${method} ${path}: no body documented, none sent`);
    return undefined;
  }
  const body = JSON.parse(text) as unknown;
  assert.deepEqual(check(schema, body, { strict: true }), [], `${method} ${path} answers as the document says`);
  assert.deepEqual(zodProblems(opOf(method, template), expected, body), [], `${method} ${path} answers as its zod schema says`);
  return body;
}

// ─── no drift between app and document ───────────────────────────────────────────────────────────

test('every route the app serves is documented with the same method and path, and every documented operation is served', () => {
  const { undocumented, unserved } = drift(t.app, doc);
  assert.deepEqual(undocumented, [], 'routes not mounted with route() (so undocumented)');
  assert.deepEqual(unserved, [], 'documented operations the app does not serve');
  assert.ok(servedRoutes(t.app).has(`GET ${API_PREFIX}/sensors/{name}/health`), 'path parameters compared in {param} form');
  assert.ok(servedRoutes(t.app).size >= 40, `the walk sees the whole API (${servedRoutes(t.app).size} routes)`);
});

test('the drift check notices a route added to the app and an operation dropped from the document', () => {
  const sample = new Hono<AppEnv>();
  const permit = createPermit({ verify: () => Promise.resolve(null) });
  sample.get(`${API_PREFIX}/health`, permit('public'), (c) => c.text('ok'));
  sample.post(`${API_PREFIX}/jobs/:id/cancel`, permit('analyst'), (c) => c.text('ok'));
  sample.use(async (_c, next) => next());
  const thin: OpenApiDocument = {
    ...doc,
    paths: { [`${API_PREFIX}/health`]: doc.paths[`${API_PREFIX}/health`]!, [`${API_PREFIX}/me`]: doc.paths[`${API_PREFIX}/me`]! },
  };
  assert.deepEqual(drift(sample, thin), { undocumented: [`POST ${API_PREFIX}/jobs/{id}/cancel`], unserved: [`GET ${API_PREFIX}/me`] });
});

test("each operation's x-permission is the level its route enforces, and its description says so", () => {
  const served = servedRoutes(t.app);
  const mismatched: string[] = [];
  for (const [key, op] of documentedOperations(doc)) {
    const level = served.get(key);
    assert.ok(level !== undefined, `${key} declares a permission on the app`);
    if (op['x-permission'] !== level) mismatched.push(`${key}: documented ${String(op['x-permission'])}, enforced ${level}`);
    assert.match(String(op.description), new RegExp(`^Permission: \`${level}\``), `${key} description names its permission`);
    if (level === 'public') assert.deepEqual(op.security, [], `${key} needs no credential`);
    else {
      assert.ok(Array.isArray(op.security) && op.security.length > 0, `${key} needs a credential`);
      assert.ok('401' in (op.responses as Json), `${key} documents 401`);
    }
    if (level === 'admin' || level === 'analyst' || level === 'download') assert.ok('403' in (op.responses as Json), `${key} documents 403`);
  }
  assert.deepEqual(mismatched, []);
});

// ─── structure ───────────────────────────────────────────────────────────────────────────────────

test('the document is structurally valid OpenAPI 3.1', () => {
  assert.match(doc.openapi, /^3\.1\.\d+$/);
  assert.ok(typeof doc.info.title === 'string' && doc.info.title.length > 0, 'info.title');
  assert.equal(doc.info.version, '9.9.9', 'info.version is the collector version');
  const tags = new Set(doc.tags.map((tag) => tag.name));
  const schemes = new Set(Object.keys(doc.components.securitySchemes));
  const operationIds: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    assert.match(path, /^\/[A-Za-z0-9_.{}/-]*$/, `${path}: a path template`);
    assert.doesNotMatch(path, /\/:/, `${path}: {param} form, not :param`);
    for (const [method, op] of Object.entries(item)) {
      const where = `${method.toUpperCase()} ${path}`;
      assert.ok((METHODS as readonly string[]).includes(method), `${where}: an HTTP method`);
      assert.match(String(op.operationId), /^[A-Za-z][A-Za-z0-9_]*$/, `${where}: operationId`);
      operationIds.push(op.operationId as string);
      assert.ok(typeof op.summary === 'string' && op.summary.length > 0, `${where}: summary`);
      assert.ok(PERMISSIONS.includes(op['x-permission'] as Permission), `${where}: x-permission is a level`);
      for (const tag of op.tags as string[]) assert.ok(tags.has(tag), `${where}: tag ${tag} is declared`);
      for (const requirement of op.security as Record<string, unknown>[]) {
        for (const name of Object.keys(requirement)) assert.ok(schemes.has(name), `${where}: security scheme ${name} exists`);
      }
      const params = (op.parameters ?? []) as { name: string; in: string; required?: boolean; schema?: Json }[];
      const seen = new Set<string>();
      for (const p of params) {
        assert.ok(['query', 'header', 'path', 'cookie'].includes(p.in), `${where}: parameter ${p.name} in ${p.in}`);
        assert.ok(p.schema, `${where}: parameter ${p.name} has a schema`);
        assert.ok(!seen.has(`${p.in}:${p.name}`), `${where}: parameter ${p.name} once`);
        seen.add(`${p.in}:${p.name}`);
        if (p.in === 'path') assert.equal(p.required, true, `${where}: path parameter ${p.name} is required`);
      }
      const templated = [...path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]).sort();
      const declared = params
        .filter((p) => p.in === 'path')
        .map((p) => p.name)
        .sort();
      assert.deepEqual(declared, templated, `${where}: path parameters match the template`);
      const body = op.requestBody as { content?: Record<string, unknown> } | undefined;
      if (body) assert.ok(body.content && Object.keys(body.content).length > 0, `${where}: request body has content`);
      const statuses = Object.keys(op.responses as Json);
      assert.ok(statuses.length > 0, `${where}: responses`);
      assert.ok(
        statuses.some((s) => /^[123]\d\d$/.test(s)),
        `${where}: a success response`,
      );
      for (const [status, response] of Object.entries(op.responses as Record<string, Json>)) {
        assert.match(status, /^[1-5]\d\d$/, `${where}: status ${status}`);
        const resolved = (typeof response.$ref === 'string' ? resolvePointer(doc, response.$ref) : response) as Json | undefined;
        assert.ok(typeof resolved?.description === 'string', `${where} ${status}: description`);
        if (Number(status) >= 400)
          assert.deepEqual(
            responseSchema(method, path.slice(API_PREFIX.length), Number(status)),
            { $ref: '#/components/schemas/Error' },
            `${where} ${status}: the error shape`,
          );
      }
    }
  }
  const duplicates = operationIds.filter((id, i) => operationIds.indexOf(id) !== i);
  assert.deepEqual(duplicates, [], 'operationIds are unique');

  const refs = refsIn(doc);
  assert.ok(refs.length > 50, 'the document uses components');
  const dangling = refs.filter(({ ref }) => !ref.startsWith('#/components/') || resolvePointer(doc, ref) === undefined);
  assert.deepEqual(dangling, [], 'every $ref resolves to a component');
  const used = new Set(refs.map(({ ref }) => ref));
  const unused = Object.keys(doc.components.schemas).filter((name) => !used.has(`#/components/schemas/${name}`));
  assert.deepEqual(unused, [], 'every component schema is used');
  assert.ok(!JSON.stringify(doc).includes('"$schema"'), 'embedded schemas carry no $schema');
});

test('the schema checker this file relies on tells a conforming value from a wrong one', () => {
  const schema = doc.components.schemas.ApiTokenCreate!;
  assert.deepEqual(check(schema, { name: 'siem', role: 'viewer' }, { strict: true }), []);
  assert.deepEqual(check(schema, { name: 'SIEM', role: 'root', x: 1 }, { strict: false }), [
    '$.name: does not match ^[a-z0-9][a-z0-9_.-]{0,62}$',
    '$.role: "root" not one of admin, analyst, viewer',
    '$.x: not in the schema',
  ]);
  assert.deepEqual(check({ $ref: '#/components/schemas/Me' }, { id: 'user:1', username: 'a', role: 'admin', kind: 'user', extra: true }, { strict: true }), [
    '$.extra: not in the schema',
  ]);
  assert.deepEqual(check({ $ref: '#/components/schemas/Me' }, { id: 'user:1', username: 'a', role: 'admin' }, { strict: true }), ['$.kind: missing']);
});

// ─── served ──────────────────────────────────────────────────────────────────────────────────────

test('GET /api/v1/openapi.json without a token returns the document as JSON, with no secrets in it', async () => {
  const res = await t.app.request(`${API_PREFIX}/openapi.json`);
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^application\/json/);
  const text = await res.text();
  assert.deepEqual(JSON.parse(text), doc);
  for (const secret of [t.token, USER_PASSWORD, bearer.admin1!]) assert.ok(!text.includes(secret), 'no credential in the document');
});

// ─── schemas against the real handlers ───────────────────────────────────────────────────────────

/** Per operation: bodies its documented schema accepts (with the status the route answers) and bodies it rejects. */
const BODY_CASES: { method: string; path: string; as?: string; accept: { body: unknown; status: number }[]; reject: unknown[] }[] = [
  {
    method: 'POST',
    path: '/admin/api-tokens',
    as: 'admin1',
    accept: [{ body: { name: 'grafana', role: 'viewer' }, status: 201 }],
    reject: [
      { name: 'Grafana!', role: 'viewer' },
      { name: 'siem', role: 'root' },
      { name: 'siem', role: 'viewer', scope: 'all' },
      { role: 'viewer' },
      ['siem'],
    ],
  },
  {
    method: 'POST',
    path: '/login',
    accept: [{ body: { username: 'viewer1', password: USER_PASSWORD, client: 'api' }, status: 200 }],
    reject: [{ username: '', password: 'x' }, { username: 'viewer1' }, { username: 'viewer1', password: 'x', client: 'robot' }],
  },
  {
    method: 'POST',
    path: '/admin/users',
    as: 'admin1',
    accept: [{ body: { username: 'newuser', role: 'analyst', password: 'a long enough password' }, status: 201 }],
    reject: [
      { username: 'other', role: 'boss', password: 'a long enough password' },
      { username: 'other', role: 'viewer' },
      { username: 'other', role: 'viewer', password: 'a long enough password', admin: true },
    ],
  },
  {
    method: 'PUT',
    path: '/preferences',
    as: 'viewer1',
    accept: [
      { body: { theme: 'dark', pageSize: 20 }, status: 200 },
      { body: { avatar: null }, status: 200 },
    ],
    reject: [{ pageSize: 5 }, { theme: 'pink' }, { colour: 'blue' }, { pageSize: 20.5 }],
  },
  {
    method: 'POST',
    path: '/admin/sensors',
    as: 'admin1',
    accept: [{ body: { name: 'edge-7', location: 'lab' }, status: 201 }],
    reject: [{ name: 'edge-8', expiresInHours: 0 }, { name: 'edge-8', location: '' }, { location: 'lab' }, { name: 'edge-8', expiresInHours: 1.5 }],
  },
  {
    method: 'POST',
    path: '/enroll',
    // The schema accepts any token of 1-128 characters; an unknown one is then refused as a credential (401), not as input.
    accept: [{ body: { token: 'pme_unknown' }, status: 401 }],
    reject: [{ token: '' }, {}, { token: 'pme_x', sensor: 'edge-1' }],
  },
];

test('request bodies the documented schema rejects are refused with 400 invalid; bodies it accepts are taken', async () => {
  for (const { method, path, as, accept, reject } of BODY_CASES) {
    const schema = requestSchema(method.toLowerCase(), path);
    for (const body of reject) {
      assert.notDeepEqual(check(schema, body, { strict: false }), [], `${method} ${path}: the schema rejects ${JSON.stringify(body)}`);
      const res = await call(method, path, { ...(as ? { as } : {}), body });
      assert.equal(res.status, 400, `${method} ${path} refuses ${JSON.stringify(body)}`);
      assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'invalid');
    }
    for (const { body, status } of accept) {
      assert.deepEqual(check(schema, body, { strict: false }), [], `${method} ${path}: the schema accepts ${JSON.stringify(body)}`);
      await conforms(method, path, path, status, { ...(as ? { as } : {}), body });
    }
  }
});

/** Query strings of the GETs that require parameters (an address, so the search answers every part). */
const REQUIRED_QUERY: Record<string, string> = { '/search': '?q=10.9.9.9' };

test('every JSON GET answers with exactly the documented shape (sensor with birth, health and availability; a completed job)', async () => {
  const at = Date.now();
  await t.sensors.register({ name: 'edge-1', location: 'lab' });
  await t.sensors.ingestState('edge-1', birth(1, 1, { interfaces: [{ name: 'eth0', managed: true, directory: '/data/pcap' }], capabilities: ['capture'] }));
  await t.sensors.ingestHealth('edge-1', health(2, at - 1_000));
  await t.sensors.ingestPcap(
    'edge-1',
    pcap(3, [
      {
        name: 'eth0',
        directory: '/data/pcap',
        oldest: { sec: Math.floor(at / 1000) - 600, nsec: 5 },
        newest: { sec: Math.floor(at / 1000), nsec: 0 },
        files: 2,
        bytes: 4096,
        gaps: [{ from: { sec: Math.floor(at / 1000) - 300, nsec: 0 }, to: { sec: Math.floor(at / 1000) - 200, nsec: 0 } }],
        problems: [{ file: '/data/pcap/bad.pcap', offset: 24, reason: 'truncated' }],
      },
    ]),
  );
  // A job merged, analysed and signed through the real jobs stack, for /jobs/{id}/… (analysis and manifest exist only then).
  const job = await completedJob(t, 'admin1', [await availableSensor(t, { location: 'lab' })], { name: 'openapi' });
  const fill = (path: string) =>
    path.replace('{name}', 'edge-1').replace('{username}', 'admin1').replace('{id}', job.id).replace('{task}', job.taskList[0]!.id).replace('{n}', '1');
  // 'task' routes take the task's upload token only (the agent's credential).
  const task = job.taskList[0]!;
  bearer.task = await t.jobs.tokens.issue({ taskId: task.id, jobId: job.id, sensor: task.sensor }, new Date(Date.now() + 3_600_000));
  const checked: string[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    const op = item.get;
    if (!op) continue;
    const template = path.slice(API_PREFIX.length);
    const [status] = Object.keys(op.responses as Json);
    if (status !== '200' || responseSchema('get', template, 200) === undefined) continue; // the live feed (101), the avatar image
    await conforms('GET', fill(template) + (REQUIRED_QUERY[template] ?? ''), template, 200, { as: op['x-permission'] === 'task' ? 'task' : 'admin1' });
    checked.push(template);
  }
  assert.ok(checked.length >= 18, `checked ${checked.join(' ')}`);
  const sensor = (await (await call('GET', '/sensors/edge-1', { as: 'admin1' })).json()) as {
    latestHealth: unknown;
    pcap: { sources: unknown[] };
    disks: unknown[];
  };
  assert.ok(sensor.latestHealth !== null && sensor.pcap.sources.length === 1 && sensor.disks.length === 1, 'the nested shapes were exercised');
});

test('the write operations answer as documented', async () => {
  const session = (await conforms('POST', '/login', '/login', 200, { body: { username: 'admin1', password: USER_PASSWORD, client: 'api' } })) as {
    refreshToken: string;
  };
  await conforms('POST', '/refresh', '/refresh', 200, { body: { refreshToken: session.refreshToken } });
  await conforms('POST', '/admin/sensors', '/admin/sensors', 201, { as: 'admin1', body: { name: 'edge-2' } });
  const { token } = (await conforms('POST', '/admin/sensors/edge-2/enrolment', '/admin/sensors/{name}/enrolment', 201, { as: 'admin1', body: {} })) as {
    token: string;
  };
  await conforms('POST', '/enroll', '/enroll', 200, { body: { token } });
  await conforms('POST', '/admin/sensors/edge-2/rotate', '/admin/sensors/{name}/rotate', 200, { as: 'admin1' });
  await conforms('POST', '/admin/sensors/edge-2/revoke', '/admin/sensors/{name}/revoke', 204, { as: 'admin1' });
  await conforms('POST', '/admin/integrations', '/admin/integrations', 201, { as: 'admin1', body: { name: 'siem' } });
  await conforms('POST', '/admin/integrations', '/admin/integrations', 409, { as: 'admin1', body: { name: 'siem' } });
  await conforms('DELETE', '/admin/integrations/siem', '/admin/integrations/{name}', 204, { as: 'admin1' });
  await conforms('PUT', '/admin/users/viewer1', '/admin/users/{username}', 200, { as: 'admin1', body: { role: 'viewer' } });
  await conforms('GET', '/admin/users/nobody', '/admin/users/{username}', 404, { as: 'admin1' });
  await conforms('GET', '/admin/users', '/admin/users', 403, { as: 'viewer1' });
  await conforms('GET', '/sensors', '/sensors', 401);
  await conforms('POST', '/logout', '/logout', 204, { body: { refreshToken: session.refreshToken } });
});

// ─── drift is caught ─────────────────────────────────────────────────────────────────────────────

test('an answer that drifts from its schema (a field too many, one missing, a wrong type) fails both checks', async () => {
  const me = (await conforms('GET', '/me', '/me', 200, { as: 'viewer1' })) as Record<string, unknown>;
  const schema = responseSchema('get', '/me', 200)!;
  const { kind: _, ...missing } = me;
  const drifted: [unknown, string][] = [
    [{ ...me, email: 'x@example.org' }, 'email'],
    [missing, 'kind'],
    [{ ...me, role: 'root' }, 'role'],
  ];
  for (const [body, field] of drifted) {
    assert.match(check(schema, body, { strict: true }).join('; '), new RegExp(field), `the document check names ${field}`);
    assert.match(zodProblems(getMe, 200, body).join('; '), new RegExp(field), `the zod check names ${field}`);
  }
});

test('a handler whose real answer grew a field is caught by both checks', async () => {
  // The real operation mounted on a throwaway app whose handler adds a field its schema lacks
  // (past reply()'s typing, as a cast or plain JavaScript could).
  const sample = new Hono<AppEnv>();
  const operations: OperationSpec[] = [];
  const route = createRoute(createPermit({ verify: () => Promise.resolve({ kind: 'user', id: 'user:1', name: 'u', role: 'viewer' }) }), operations);
  sample.use(async (c, next) => {
    c.set('log', pino({ level: 'silent' }));
    await next();
  });
  route(sample, getMe, (_c, { reply }) => reply(200, { id: 'user:1', username: 'u', role: 'viewer', kind: 'user', password: 'oops' } as never));
  const res = await sample.request(getMe.path, { headers: { authorization: 'Bearer x' } });
  assert.equal(res.status, 200);
  const body = (await res.json()) as unknown;
  const sampleDoc = openApiDocument(operations, { version: '0', prefix: '' });
  assert.deepEqual(jsonSchemaProblems(sampleDoc, documentedResponse(sampleDoc, '', getMe, 200)!, body), ['$.password: not in the schema']);
  assert.deepEqual(zodProblems(getMe, 200, body), ['$: Unrecognized key: "password" (password)']);
});

test('with checkResponses (the app fixture sets it), a reply that drifts from its schema is a 500 naming the operation and the field', async () => {
  const sample = new Hono<AppEnv>();
  const route = createRoute(createPermit({ verify: () => Promise.resolve({ kind: 'user', id: 'user:1', name: 'u', role: 'viewer' }) }), [], {
    checkResponses: true,
  });
  sample.use(async (c, next) => {
    c.set('log', pino({ level: 'silent' }));
    await next();
  });
  sample.onError(onError);
  let answer: unknown = { id: 'user:1', username: 'u', role: 'viewer', kind: 'user' };
  route(sample, getMe, (_c, { reply }) => reply(200, answer as never));
  const get = () => sample.request(getMe.path, { headers: { authorization: 'Bearer x' } });
  assert.equal((await get()).status, 200, 'a conforming answer passes');
  for (const [drifted, named] of [
    [{ id: 'user:1', username: 'u', role: 'viewer', kind: 'user', password: 'oops' }, 'password'],
    [{ username: 'u', role: 'viewer' }, 'kind'],
  ] as const) {
    answer = drifted;
    const res = await get();
    assert.equal(res.status, 500);
    assert.match(
      ((await res.json()) as { error: { message: string } }).error.message,
      new RegExp(`^the 200 answer of getMe does not match its schema: .*${named}`),
    );
  }
});
