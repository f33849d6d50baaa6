/**
 * Fault suite, attacks (issue 14), against a real collector process (embedded broker, PGlite):
 *
 * - role escalation on every route: the operations of GET /api/v1/openapi.json with their declared
 *   `x-permission`, each called anonymously (401) and with the JWT of every role below it (403);
 * - forged JWTs: `alg: none`, a payload changed under the original signature, a signature of
 *   another key — each refused (401) on a read route and an admin route;
 * - SQL and path-traversal strings in every path and query parameter of every operation (as the
 *   admin API token): never a 5xx, never a file's or a database error's text in the answer, and
 *   the data intact afterwards;
 * - oversized bodies on every operation that takes one (declared and streamed without a length):
 *   413 before any route reads them (the task upload route, which streams under a limit of its
 *   own, refuses the missing task token first);
 * - sensor impersonation over MQTT: another sensor's name, its client id, its topics (publish and
 *   subscribe), a sensor secret used as an API bearer, a revoked sensor's secret — all refused,
 *   and the other sensor's data unchanged.
 */
import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { topics } from '@pcapmesh/shared/wire';
import { Collector, MessageFactory, closed, connectClient, grantedQos, healthBody, integrationTest, prepareBackend } from '../integration/harness.js';
import { JobsClient, login } from '../integration/harness/jobs-api.js';
import { enrolSensors, figure } from './lib/world.js';

type Permission = 'public' | 'read' | 'analyst' | 'download' | 'admin' | 'task';
const ALLOWED: Record<Permission, readonly string[]> = {
  public: ['viewer', 'analyst', 'admin'],
  read: ['viewer', 'analyst', 'admin'],
  analyst: ['analyst', 'admin'],
  download: ['analyst', 'admin'],
  admin: ['admin'],
  task: [],
};

interface Operation {
  method: string;
  path: string;
  id: string;
  permission: Permission;
  params: { name: string; in: 'path' | 'query' }[];
  hasBody: boolean;
}

const INJECTIONS = [
  "' OR '1'='1",
  '1; DROP TABLE sensors; --',
  "x') UNION SELECT secret_hash FROM sensors --",
  '../../../../../../etc/passwd',
  '..%2f..%2f..%2f..%2fetc%2fpasswd',
  '/etc/passwd',
  '..\\..\\..\\windows\\win.ini',
  '%00',
  `${'A'.repeat(5000)}`,
];
const LEAKS = /root:x:0:0|syntax error at or near|unterminated quoted|SQLSTATE|pg_catalog|at .+\.ts:\d+:\d+/;

function operations(doc: { paths: Record<string, Record<string, Record<string, unknown>>> }): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
      const params = ((op.parameters as { name: string; in: string }[] | undefined) ?? []).filter(
        (p) => p.in === 'path' || p.in === 'query',
      ) as Operation['params'];
      out.push({
        method: method.toUpperCase(),
        path,
        id: String(op.operationId),
        permission: op['x-permission'] as Permission,
        params,
        hasBody: op.requestBody !== undefined,
      });
    }
  }
  return out;
}

/** The request URL of `op` with every path parameter (and, when given, query parameter) set to `value`. */
function urlOf(base: string, op: Operation, value: string, withQuery: boolean): string {
  const path = op.path.replace(/\{([^}]+)\}/g, () => encodeURIComponent(value));
  const query = withQuery ? op.params.filter((p) => p.in === 'query').map((p) => `${encodeURIComponent(p.name)}=${encodeURIComponent(value)}`) : [];
  return `${base}${path}${query.length > 0 ? `?${query.join('&')}` : ''}`;
}

/** Like call(), but a connection the server closes while the body is still being sent counts as status 0. */
async function send(url: string, method: string, bearer: string | null, body: Buffer | ReadableStream): Promise<{ status: number; text: string }> {
  try {
    return await call(url, method, bearer, body);
  } catch (err) {
    const code = ((err as Error).cause as { code?: string } | undefined)?.code;
    if (code === 'UND_ERR_SOCKET' || code === 'ECONNRESET' || code === 'EPIPE') return { status: 0, text: '' };
    throw new Error(`${method} ${url}: ${(err as Error).message} (${code ?? String((err as Error).cause)})`, { cause: err });
  }
}

async function call(
  url: string,
  method: string,
  bearer: string | null,
  body?: string | Buffer | ReadableStream,
  headers: Record<string, string> = {},
): Promise<{ status: number; text: string }> {
  const send = () =>
    fetch(url, {
      method,
      headers: { ...(bearer ? { authorization: `Bearer ${bearer}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}), ...headers },
      ...(body !== undefined ? { body, duplex: 'half' } : {}),
      redirect: 'manual',
      signal: AbortSignal.timeout(120_000),
    } as RequestInit);
  let res: Response;
  try {
    res = await send();
  } catch (err) {
    // The server closes a connection after refusing an oversized body; the client's keep-alive pool
    // may hand that closing socket to the next request. Sent again once, as a browser does, when
    // the body can be sent again.
    const code = ((err as Error).cause as { code?: string } | undefined)?.code;
    if (code !== 'UND_ERR_SOCKET' || body instanceof ReadableStream) throw err;
    res = await send();
  }
  return { status: res.status, text: await res.text() };
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

integrationTest(
  'attacks: role escalation on every route, forged JWTs, injection strings in every parameter, oversized bodies, sensor impersonation [pglite]',
  async (scope) => {
    const backend = await prepareBackend(scope, 'pglite');
    if (!backend) return;
    const collector = await Collector.create(scope, { backend });
    await collector.start();
    const { api } = collector;
    const base = `${api.baseUrl}/api/v1`;
    const admin = new JobsClient(api.baseUrl, collector.apiToken);
    const password = `pw-${randomBytes(12).toString('hex')}`;
    for (const role of ['viewer', 'analyst']) await admin.expect(201, 'POST', '/admin/users', { username: `${role}1`, role, password });
    const jwt: Record<string, string> = {
      viewer: await login(api.baseUrl, 'viewer1', password),
      analyst: await login(api.baseUrl, 'analyst1', password),
    };
    const secrets = await enrolSensors(collector, ['alpha', 'beta', 'gamma']);

    const doc = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, Record<string, Record<string, unknown>>> };
    const ops = operations(doc);
    assert.ok(ops.length >= 40, `the OpenAPI document lists the operations (${ops.length})`);
    const undeclared = ops.filter((o) => !(o.permission in ALLOWED)).map((o) => o.id);
    assert.deepEqual(undeclared, [], 'operations without a known x-permission');

    // 1. Role escalation: anonymous and every role below the declared one.
    const escalations: string[] = [];
    let escalationCalls = 0;
    for (const op of ops) {
      if (op.permission === 'public') continue;
      const url = urlOf(api.baseUrl, op, 'probe-1', false);
      const body = op.hasBody ? '{}' : undefined;
      const anonymous = await call(url, op.method, null, body);
      escalationCalls += 1;
      if (anonymous.status !== 401) escalations.push(`${op.method} ${op.path} anonymous → ${anonymous.status}`);
      for (const role of ['viewer', 'analyst'] as const) {
        if (ALLOWED[op.permission].includes(role)) continue;
        const r = await call(url, op.method, jwt[role]!, body);
        escalationCalls += 1;
        const expected = op.permission === 'task' ? [401, 403] : [403];
        if (!expected.includes(r.status)) escalations.push(`${op.method} ${op.path} (${op.permission}) as ${role} → ${r.status}`);
      }
    }
    assert.deepEqual(escalations, [], 'calls below the declared permission that were not refused');

    // 2. Forged JWTs.
    const [header, payload, signature] = jwt.viewer!.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const elevated = { ...claims, role: 'admin' };
    const otherKey = randomBytes(32);
    const hs256 = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(elevated)}`;
    const forged: Record<string, string> = {
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64(elevated)}.`,
      'alg none, original claims': `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      'payload changed under the original signature': `${header}.${b64(elevated)}.${signature}`,
      'signature of another key': `${hs256}.${createHmac('sha256', otherKey).update(hs256).digest('base64url')}`,
      'signature removed': `${header}.${payload}.`,
      'expired long ago': `${header}.${b64({ ...claims, exp: 1 })}.${signature}`,
    };
    const forgedAccepted: string[] = [];
    for (const [name, token] of Object.entries(forged)) {
      for (const path of ['/sensors', '/admin/users']) {
        const r = await call(`${base}${path}`, 'GET', token);
        if (r.status !== 401) forgedAccepted.push(`${name} on ${path} → ${r.status}`);
      }
    }
    assert.deepEqual(forgedAccepted, [], 'forged tokens that were not refused with 401');
    assert.equal((await call(`${base}/sensors`, 'GET', jwt.viewer!)).status, 200, 'the genuine viewer token still works');

    // 3. Injection strings in every parameter, as the admin (the most reach).
    const injected: string[] = [];
    let injectionCalls = 0;
    for (const op of ops.filter((o) => o.params.length > 0)) {
      for (const value of INJECTIONS) {
        const r = await call(urlOf(api.baseUrl, op, value, true), op.method, collector.apiToken, op.hasBody ? '{}' : undefined);
        injectionCalls += 1;
        if (r.status >= 500 || LEAKS.test(r.text))
          injected.push(`${op.method} ${op.path} with ${JSON.stringify(value.slice(0, 40))} → ${r.status}: ${r.text.slice(0, 200)}`);
      }
    }
    assert.deepEqual(injected, [], 'injection strings that caused a server error or leaked');
    const sensorsAfter = await api.get<{ sensors: { name: string }[] }>('/sensors');
    assert.deepEqual(sensorsAfter.sensors.map((s) => s.name).sort(), ['alpha', 'beta', 'gamma'], 'the sensors are intact');
    assert.equal((await call(`${base}/admin/users/viewer1`, 'GET', collector.apiToken)).status, 200, 'the users are intact');

    // 4. Oversized bodies: declared, and streamed without a length.
    const big = Buffer.alloc(2 * 1024 * 1024 + 1, 0x20);
    const oversized: string[] = [];
    let bodyCalls = 0;
    for (const op of ops.filter((o) => o.hasBody)) {
      const url = urlOf(api.baseUrl, op, 'probe-1', false);
      // 0: the server answered before reading the whole body and closed the connection while it was still being sent.
      const expected = op.permission === 'task' ? [0, 401, 403, 413] : [0, 413];
      const declared = await send(url, op.method, collector.apiToken, big);
      const streamed = await send(
        url,
        op.method,
        collector.apiToken,
        new ReadableStream({
          start(c) {
            for (let i = 0; i < 4; i++) c.enqueue(big.subarray(i * 600_000, (i + 1) * 600_000));
            c.close();
          },
        }),
      );
      bodyCalls += 2;
      if (!expected.includes(declared.status)) oversized.push(`${op.method} ${op.path} 2 MiB → ${declared.status}`);
      if (!expected.includes(streamed.status)) oversized.push(`${op.method} ${op.path} 2.4 MiB streamed → ${streamed.status}`);
    }
    const loginBig = await send(`${base}/login`, 'POST', null, big);
    if (loginBig.status !== 413 && loginBig.status !== 0) oversized.push(`POST /login (unauthenticated) 2 MiB → ${loginBig.status}`);
    assert.deepEqual(oversized, [], 'oversized bodies not refused with 413');

    // 5. Sensor impersonation over MQTT (failed logins stay under the per-address limit of 10 a minute).
    const url = collector.mqttUrl;
    await assert.rejects(
      connectClient({ url, username: 'beta', password: secrets.get('alpha')! }),
      /bad user ?name or password|not authori[sz]ed/i,
      "alpha's secret under beta's name",
    );
    await assert.rejects(
      connectClient({ url, username: 'alpha', password: secrets.get('alpha')!, clientId: 'beta' }),
      /identifier rejected|not authori[sz]ed|bad user ?name or password/i,
      "alpha's login with beta's client id",
    );
    assert.equal((await call(`${base}/sensors`, 'GET', secrets.get('alpha')!)).status, 401, 'a sensor secret is no API credential');
    await admin.expect(204, 'POST', '/admin/sensors/gamma/revoke');
    await assert.rejects(
      connectClient({ url, username: 'gamma', password: secrets.get('gamma')! }),
      /bad user ?name or password|not authori[sz]ed/i,
      'a revoked sensor',
    );

    const rejectedBefore = (await api.summary()).ingest.rejected['not-permitted'];
    const alpha = await connectClient({ url, username: 'alpha', password: secrets.get('alpha')! });
    assert.equal(await grantedQos(alpha, topics.filters.sensorCommands('beta')), 128, "alpha subscribing to beta's commands");
    assert.ok(alpha.connected, 'a refused subscription keeps the connection');
    alpha.publish(topics.sensor('beta', 'health'), new MessageFactory().encode('health', healthBody(99)), { qos: 1 });
    await Promise.race([
      closed(alpha),
      // The broker closes at once; 60 s leaves room for a loaded machine.
      new Promise((_, reject) => setTimeout(() => reject(new Error("alpha kept its connection after publishing under beta's topics")), 60_000).unref()),
    ]);
    alpha.end(true);
    await api.waitForRejected('not-permitted', rejectedBefore + 1, 60_000);
    const beta = await api.sensor('beta');
    assert.equal(beta.lastSeen, null, "beta has no data: nothing alpha sent under beta's name was stored");

    assert.ok(collector.process.running, 'the collector survived every attack');
    figure('attacks', {
      operations: ops.length,
      escalationCalls,
      forgedTokens: Object.keys(forged).length,
      injectionCalls,
      oversizedBodyCalls: bodyCalls + 1,
      impersonations: 6,
    });
    await collector.stop();
  },
);
