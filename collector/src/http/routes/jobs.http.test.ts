/**
 * The HTTP concerns of the /jobs routes over a small in-test JobsApi: request parsing (times to the
 * nanosecond, filter and target shapes), status codes, Range arithmetic, rights mapping and the
 * audit entries. The routes over the real JobsService are tested in jobs.test.ts.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { pino } from 'pino';
import { AuditService } from '../../domain/accounts/audit.service.js';
import { mayTouchJob, type Actor, type Role } from '../../domain/accounts/roles.js';
import { DomainError, notFound } from '../../domain/errors.js';
import type { JobDetail, JobPlan, JobRequest, JobsApi } from '../../domain/jobs/jobs.types.js';
import { ManifestSigner } from '../../domain/jobs/manifest.js';
import { openDb, type Db } from '../../storage/db.js';
import { migrate } from '../../storage/migrate.js';
import { createPermit } from '../auth.js';
import { createRoute, type OperationSpec } from '../openapi/operation.js';
import type { AppEnv } from '../env.js';
import { onError } from '../errors.js';
import { jobRoutes, parseRange } from './jobs.js';
import { dryRunSchema, jobDetailSchema, jobPageSchema, manifestSchema, parseInstantNs, submittedSchema } from './jobs.schemas.js';

const JOB = '0190a3c4-1111-7000-8000-000000000001';
const BYTES = Buffer.from(Array.from({ length: 100 }, (_, i) => i));
const SHA = createHash('sha256').update(BYTES).digest('hex');

let dir: string;
let db: Db;
let audit: AuditService;
let app: Hono<AppEnv>;
const submitted: JobRequest[] = [];
/** What each download told the service it sends (the quota's count). */
const served: number[] = [];

function plan(request: JobRequest): JobPlan {
  const ns = (v: bigint) => new Date(Number(v / 1_000_000n)).toISOString();
  return {
    window: { from: ns(request.window.from), to: ns(request.window.to), fromNs: String(request.window.from), toNs: String(request.window.to) },
    filter: 'expression' in request.filter ? (request.filter.expression as string) : 'host 10.0.0.1',
    limits: { maxBytes: 1_000, maxPackets: 10, timeoutSeconds: 60 },
    scheduled: false,
    sensors: [{ sensor: 'edge-1', location: null, status: 'online', coverage: { fraction: 1, gaps: [] }, bytesInWindow: 10, estimate: null, included: true }],
  };
}

function detail(owner: string, p: JobPlan): JobDetail {
  const at = '2026-01-01T00:00:00.000Z';
  return {
    id: JOB,
    name: null,
    owner,
    ownerId: `user:${owner}`,
    status: 'complete',
    reason: null,
    window: p.window,
    filter: { expression: p.filter },
    expression: p.filter,
    targets: { sensors: ['edge-1'] },
    limits: p.limits,
    createdAt: at,
    startedAt: at,
    finishedAt: at,
    deadlineAt: at,
    tasks: { total: 1, pending: 0, running: 0, done: 1, failed: 0, cancelled: 0, skipped: 0 },
    packets: 1,
    bytes: 100,
    result: { fileBytes: BYTES.length, sha256: SHA, packets: 1, bytes: 100, duplicatesRemoved: 0, fileName: 'pcapmesh-x.pcap' },
    expiresAt: null,
    expired: false,
    plan: p,
    taskList: [
      {
        id: 't1',
        job: JOB,
        sensor: 'edge-1',
        status: 'done',
        reason: null,
        attempt: 0,
        dispatchedAt: at,
        startedAt: at,
        finishedAt: at,
        waitUntil: null,
        lastProgressAt: at,
        progress: null,
        result: { packets: 1, bytes: 100, fileBytes: 100, sha256: SHA, truncated: null },
        upload: { size: 100, received: 100, complete: true },
      },
    ],
  };
}

/** One job owned by analyst1; a filter "bad(" is refused the way the real service does. */
function inTestJobs(file: string): JobsApi {
  let job: JobDetail | null = null;
  const find = (actor: Actor, id: string, action: 'read' | 'cancel' | 'download') => {
    if (job === null || id !== job.id) throw notFound(`job ${id}`);
    if (!mayTouchJob(actor, job, action)) throw new DomainError('forbidden', `job ${id} belongs to ${job.owner}`);
    return job;
  };
  return {
    async submit(actor, request) {
      submitted.push(request);
      if ('expression' in request.filter && request.filter.expression === 'bad(')
        throw new DomainError('invalid', 'filter: at 4: expected an expression, got end');
      const p = plan(request);
      if (request.dryRun) return { job: null, plan: p };
      job = detail(actor.name, p);
      return { job, plan: p };
    },
    list: async () => {
      if (job === null) return { jobs: [], next: null };
      const { taskList: _t, plan: _p, ...view } = job;
      return { jobs: [view], next: null };
    },
    get: async (actor, id) => find(actor, id, 'read'),
    tasks: async (actor, id) => find(actor, id, 'read').taskList,
    cancel: async (actor, id) => {
      const { taskList: _t, plan: _p, ...view } = find(actor, id, 'cancel');
      return { ...view, status: 'cancelled' };
    },
    remove: async (actor, id) => void find(actor, id, 'cancel'),
    download: async (actor, id, taskId, bytesServed) => {
      find(actor, id, 'download');
      if (taskId !== undefined && taskId !== 't1') throw notFound(`task ${taskId}`);
      served.push(bytesServed?.(BYTES.length) ?? BYTES.length);
      return { path: file, size: BYTES.length, fileName: 'pcapmesh-x.pcap', contentType: 'application/vnd.tcpdump.pcap' };
    },
    analysis: async () => {
      throw notFound('analysis');
    },
    manifest: async (actor, id) => {
      const j = find(actor, id, 'read');
      const manifest = {
        type: 'pcapmesh.evidence' as const,
        version: 1 as const,
        job: j.id,
        name: null,
        requester: j.owner,
        window: j.window,
        filter: j.expression,
        submittedAt: j.createdAt,
        completedAt: j.createdAt,
        status: j.status,
        sensors: [],
        merged: { fileName: 'pcapmesh-x.pcap', fileBytes: 100, sha256: SHA, packets: 1, duplicatesRemoved: 0 },
        software: { name: 'pcapmesh' as const, version: '1' },
      };
      return { jws: 'eyJhbGciOiJFZERTQSJ9.e30.sig', manifest };
    },
  };
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pcapmesh-jobs-http-'));
  const file = join(dir, 'merged.pcap');
  writeFileSync(file, BYTES);
  db = await openDb({ url: 'memory://' });
  await migrate(db);
  const log = pino({ level: 'silent' });
  audit = new AuditService({ db, log });
  const roles: Record<string, Role> = { admin1: 'admin', analyst1: 'analyst', analyst2: 'analyst', viewer1: 'viewer' };
  const permit = createPermit({ verify: async (token) => (roles[token] ? { kind: 'user', id: `user:${token}`, name: token, role: roles[token] } : null) });
  app = new Hono<AppEnv>();
  app.use(async (c, next) => {
    c.set('log', log);
    await next();
  });
  const operations: OperationSpec[] = [];
  app.route(
    '/api/v1',
    jobRoutes(
      { jobs: inTestJobs(file), manifestKeys: await ManifestSigner.open({ db }), accounts: { audit } },
      { permit, route: createRoute(permit, operations), now: () => new Date() },
    ),
  );
  app.onError(onError);
});
after(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

function call(as: string | null, method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers };
  if (as) headers.authorization = `Bearer ${as}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  return Promise.resolve(app.request(`/api/v1${path}`, { method, headers, ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }) }));
}

async function errorOf(res: Response): Promise<string> {
  return `${res.status} ${((await res.json()) as { error: { message: string } }).error.message}`;
}

const valid = {
  window: { from: '2026-01-02T03:04:05.123456789Z', to: 1767323105000 },
  filter: { expression: 'tcp port 443' },
  targets: { sensors: ['edge-1'] },
};

test('times become nanoseconds: ISO 8601 with zone keeps every fractional digit, epoch ms may be a number or a decimal string', () => {
  assert.equal(parseInstantNs('2026-01-02T03:04:05.123456789Z'), 1767323045123456789n);
  assert.equal(parseInstantNs('2026-01-02T04:04:05.5+01:00'), 1767323045500000000n);
  assert.equal(parseInstantNs('2026-01-02T03:04Z'), 1767323040000000000n);
  assert.equal(parseInstantNs('1767323045123'), 1767323045123000000n);
  assert.equal(parseInstantNs('1767323045123.000456'), 1767323045123000456n);
  for (const bad of ['2026-02-30T00:00:00Z', '2026-01-02T03:04:05', '2026-01-02T25:00:00Z', 'yesterday', '2026-01-02T03:04:05.1234567891Z', '1.1234567']) {
    assert.equal(typeof parseInstantNs(bad), 'string', `${bad} is refused`);
  }
});

test('POST /jobs parses the body, hands the service bigint nanoseconds and answers 201 { job, plan }, audited once', async () => {
  submitted.length = 0;
  const res = await call('analyst1', 'POST', '/jobs', { body: { ...valid, name: 'incident 7', limits: { maxBytes: 5000 } } });
  assert.equal(res.status, 201);
  const body = submittedSchema.parse(await res.json());
  assert.equal(body.job.id, JOB);
  assert.deepEqual(submitted[0]?.window, { from: 1767323045123456789n, to: 1767323105000000000n });
  assert.deepEqual(submitted[0]?.limits, { maxBytes: 5000 });
  assert.equal(submitted[0]?.name, 'incident 7');
  const { entries } = await audit.list({ action: 'job.submit', limit: 10 });
  assert.equal(entries.length, 1);
  assert.equal(entries[0]?.actor, 'analyst1');
  assert.equal(entries[0]?.target, JOB);
  assert.equal(entries[0]?.outcome, 'ok');
});

test('a dry run answers 200 { plan } and is not a submission (not audited)', async () => {
  const before = (await audit.list({ action: 'job.submit', limit: 100 })).entries.length;
  const res = await call('analyst1', 'POST', '/jobs', {
    body: { ...valid, dryRun: true, filter: { ip: ['10.0.0.1'], ports: [443, 'https'] }, targets: { auto: true } },
  });
  assert.equal(res.status, 200);
  dryRunSchema.parse(await res.json());
  assert.deepEqual(submitted.at(-1)?.filter, { ip: ['10.0.0.1'], ports: [443, 'https'] });
  assert.deepEqual(submitted.at(-1)?.targets, { auto: true });
  assert.equal((await audit.list({ action: 'job.submit', limit: 100 })).entries.length, before);
});

test('bad submissions are 400 naming what was wrong; a refused filter keeps its position and the failure is audited', async () => {
  const cases: [unknown, RegExp][] = [
    [{ ...valid, window: { from: '2026-01-02T03:04:05Z', to: '2026-01-02T03:04:05Z' } }, /window\.to: must be after from/],
    [{ ...valid, window: { from: 'noon', to: 1 } }, /window\.from: expected an ISO 8601 time/],
    [{ ...valid, filter: { expression: 'tcp', ip: ['10.0.0.1'] } }, /filter: give either expression or structured fields, not both \(also got ip\)/],
    [{ ...valid, filter: { host: '10.0.0.1' } }, /filter: Unrecognized key: "host"/],
    [{ ...valid, targets: {} }, /targets: name sensors, locations or auto: true/],
    [{ ...valid, targets: { sensors: ['a'], auto: true } }, /targets: give only one of sensors, auto/],
    [{ ...valid, limits: { maxBytes: 0 } }, /limits\.maxBytes/],
    [{ ...valid, dryrun: true }, /Unrecognized key: "dryrun"/],
    [{ ...valid, name: 'incident\u001b]0;owned\u0007' }, /name: no control characters/],
    [{ ...valid, name: 'two\nlines' }, /name: no control characters/],
  ];
  for (const [body, message] of cases) {
    const res = await call('analyst1', 'POST', '/jobs', { body });
    assert.match(await errorOf(res), new RegExp(`^400 .*${message.source}`), JSON.stringify(body));
  }
  const bad = await call('analyst1', 'POST', '/jobs', { body: { ...valid, filter: { expression: 'bad(' } } });
  assert.equal(await errorOf(bad), '400 filter: at 4: expected an expression, got end');
  const failed = (await audit.list({ action: 'job.submit', limit: 100 })).entries.filter((e) => e.outcome === 'failed');
  assert.equal(failed.length, 1);
  assert.equal(failed[0]?.details.error, 'invalid');
});

test('rights: a viewer reads but never submits or downloads; analysts touch only their own jobs; admins any (denials audited)', async () => {
  assert.equal((await call('viewer1', 'POST', '/jobs', { body: valid })).status, 403);
  assert.equal((await call(null, 'GET', '/jobs')).status, 401);
  jobPageSchema.parse(await (await call('viewer1', 'GET', '/jobs')).json());
  jobDetailSchema.parse(await (await call('viewer1', 'GET', `/jobs/${JOB}`)).json());
  assert.equal((await call('viewer1', 'GET', `/jobs/${JOB}/pcap`)).status, 403);
  assert.equal((await call('analyst2', 'GET', `/jobs/${JOB}/pcap`)).status, 403);
  assert.equal((await call('analyst2', 'POST', `/jobs/${JOB}/cancel`)).status, 403);
  assert.equal((await call('analyst2', 'DELETE', `/jobs/${JOB}`)).status, 403);
  assert.equal((await call('admin1', 'GET', `/jobs/${JOB}/pcap`)).status, 200);
  const cancel = await call('analyst1', 'POST', `/jobs/${JOB}/cancel`);
  assert.equal(cancel.status, 200);
  assert.equal(((await cancel.json()) as { status: string }).status, 'cancelled');
  const entries = (await audit.list({ action: 'job.', limit: 100 })).entries;
  const denied = entries
    .filter((e) => e.outcome === 'denied')
    .map((e) => `${e.actor} ${e.action} ${e.target}`)
    .sort();
  assert.deepEqual(denied, [`analyst2 job.cancel ${JOB}`, `analyst2 job.delete ${JOB}`, `analyst2 job.download ${JOB}`]);
  assert.ok(entries.some((e) => e.actor === 'analyst1' && e.action === 'job.cancel' && e.outcome === 'ok'));
});

test('bad ids and queries are 400; an unknown job or task is 404', async () => {
  assert.match(await errorOf(await call('viewer1', 'GET', '/jobs/nope')), /^400 id: not a job id/);
  assert.match(await errorOf(await call('viewer1', 'GET', '/jobs?status=done,complete')), /^400 status: unknown status done/);
  assert.match(await errorOf(await call('viewer1', 'GET', '/jobs?limit=0')), /^400 limit/);
  assert.equal((await call('viewer1', 'GET', '/jobs/0190a3c4-1111-7000-8000-000000000009')).status, 404);
  assert.equal((await call('analyst1', 'GET', `/jobs/${JOB}/tasks/t9/pcap`)).status, 404);
  assert.equal((await call('viewer1', 'GET', `/jobs/${JOB}/manifest?format=xml`)).status, 400);
});

test('parseRange: one range, suffix and open ranges clamp to the file; outside is unsatisfiable; anything else is the whole file', () => {
  assert.deepEqual(parseRange(undefined, 100), { kind: 'full' });
  assert.deepEqual(parseRange('bytes=0-9', 100), { kind: 'partial', start: 0, end: 9 });
  assert.deepEqual(parseRange('bytes=90-200', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=95-', 100), { kind: 'partial', start: 95, end: 99 });
  assert.deepEqual(parseRange('bytes=-10', 100), { kind: 'partial', start: 90, end: 99 });
  assert.deepEqual(parseRange('bytes=-500', 100), { kind: 'partial', start: 0, end: 99 });
  assert.deepEqual(parseRange('bytes=100-', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=-0', 100), { kind: 'unsatisfiable' });
  assert.deepEqual(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' });
  for (const ignored of ['bytes=0-1,5-6', 'items=0-1', 'bytes=9-1', 'bytes=-', 'bytes=a-b'])
    assert.deepEqual(parseRange(ignored, 100), { kind: 'full' }, ignored);
});

test('GET /jobs/{id}/pcap streams the file: whole (200), one range (206 + Content-Range), 416 outside; ETag, Accept-Ranges, attachment name; the quota counts the bytes sent', async () => {
  const full = await call('analyst1', 'GET', `/jobs/${JOB}/pcap`);
  assert.equal(full.status, 200);
  assert.deepEqual(Buffer.from(await full.arrayBuffer()), BYTES);
  assert.equal(full.headers.get('etag'), `"${SHA}"`);
  assert.equal(full.headers.get('accept-ranges'), 'bytes');
  assert.equal(full.headers.get('content-length'), '100');
  assert.equal(full.headers.get('content-type'), 'application/vnd.tcpdump.pcap');
  assert.match(full.headers.get('content-disposition') ?? '', /^attachment; filename="pcapmesh-x\.pcap"/);

  const part = await call('analyst1', 'GET', `/jobs/${JOB}/pcap`, { headers: { range: 'bytes=10-19' } });
  assert.equal(part.status, 206);
  assert.equal(part.headers.get('content-range'), 'bytes 10-19/100');
  assert.equal(part.headers.get('content-length'), '10');
  assert.deepEqual(Buffer.from(await part.arrayBuffer()), BYTES.subarray(10, 20));

  const tail = await call('analyst1', 'GET', `/jobs/${JOB}/tasks/t1/pcap`, { headers: { range: 'bytes=-3', 'if-range': `"${SHA}"` } });
  assert.equal(tail.status, 206);
  assert.deepEqual(Buffer.from(await tail.arrayBuffer()), BYTES.subarray(97));

  const stale = await call('analyst1', 'GET', `/jobs/${JOB}/pcap`, { headers: { range: 'bytes=50-', 'if-range': '"0000"' } });
  assert.equal(stale.status, 200, 'If-Range with another ETag gets the whole file');
  assert.equal((await stale.arrayBuffer()).byteLength, 100);

  const outside = await call('analyst1', 'GET', `/jobs/${JOB}/pcap`, { headers: { range: 'bytes=100-' } });
  assert.equal(outside.status, 416);
  assert.equal(outside.headers.get('content-range'), 'bytes */100');
  assert.match(await errorOf(outside), /lies outside the file \(100 bytes\)/);

  const head = await call('analyst1', 'HEAD', `/jobs/${JOB}/pcap`);
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('content-length'), '100');
  assert.deepEqual(
    served.slice(-6),
    [100, 10, 3, 100, 0, 0],
    'the quota counts what is sent: whole, a range, the tail, whole again, none past the end, none for HEAD',
  );

  const downloads = (await audit.list({ action: 'job.download', actor: 'analyst1', limit: 100 })).entries;
  assert.ok(
    downloads.some((e) => e.details.range === '10-19' && e.outcome === 'ok'),
    'the range is in the audit entry',
  );
  assert.ok(downloads.some((e) => e.details.task === 't1'));
});

test('GET /jobs/{id}/manifest: JSON { jws, manifest }, or the compact JWS as application/jose', async () => {
  manifestSchema.parse(await (await call('viewer1', 'GET', `/jobs/${JOB}/manifest`)).json());
  const jws = await call('viewer1', 'GET', `/jobs/${JOB}/manifest?format=jws`);
  assert.equal(jws.status, 200);
  assert.equal(jws.headers.get('content-type'), 'application/jose');
  assert.equal(await jws.text(), 'eyJhbGciOiJFZERTQSJ9.e30.sig');
});

test('DELETE /jobs/{id} → 204, audited', async () => {
  assert.equal((await call('admin1', 'DELETE', `/jobs/${JOB}`)).status, 204);
  const entries = (await audit.list({ action: 'job.delete', actor: 'admin1', limit: 10 })).entries;
  assert.deepEqual(
    entries.map((e) => [e.target, e.outcome]),
    [[JOB, 'ok']],
  );
});
