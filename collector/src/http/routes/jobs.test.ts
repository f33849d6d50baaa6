/**
 * The /jobs routes over the real app and the real jobs stack (createTestHttp: JobsService,
 * ResultsService with merge worker, TaskTokens, the embedded broker): answers parsed with the
 * response schemas the OpenAPI document is made from, rights, quotas, Range downloads of a merged
 * capture, the signed manifest verified against the served key, and the audit entries.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { verifyEvidence } from '../../domain/jobs/manifest.js';
import type { JobDetail } from '../../domain/jobs/jobs.types.js';
import { createTestHttp, type TestHttp } from '../app.fixture.js';
import { API_PREFIX } from '../app.js';
import { availableSensor, completedJob, pastWindow } from '../jobs.fixture.js';
import {
  analysisReportSchema,
  dryRunSchema,
  jobDetailSchema,
  jobPageSchema,
  jobViewSchema,
  manifestKeySetSchema,
  manifestSchema,
  submittedSchema,
  taskListSchema,
} from './jobs.schemas.js';

let t: TestHttp;
let sensor: string;
const bearer: Record<string, string> = {};

before(async () => {
  t = await createTestHttp();
  for (const username of ['admin1', 'analyst1', 'analyst2', 'viewer1']) bearer[username] = await t.accessTokenOf(username);
  sensor = await availableSensor(t, { location: 'lab' });
});
after(() => t.close());

function call(as: string | null, method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Response> {
  const headers: Record<string, string> = { ...opts.headers };
  if (as) headers.authorization = `Bearer ${as === 'token' ? t.token : bearer[as]}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  return Promise.resolve(t.app.request(`${API_PREFIX}${path}`, { method, headers, ...(opts.body === undefined ? {} : { body: JSON.stringify(opts.body) }) }));
}

async function json(res: Response, status: number): Promise<unknown> {
  const text = await res.text();
  assert.equal(res.status, status, text);
  return JSON.parse(text) as unknown;
}

const request = (extra: Record<string, unknown> = {}) => {
  const w = pastWindow();
  return { window: { from: w.from.toISOString(), to: w.to.getTime() }, filter: { expression: 'tcp port 443' }, targets: { sensors: [sensor] }, ...extra };
};

async function auditOf(action: string, target?: string) {
  const { entries } = await t.accounts.audit.list({ action, limit: 500 });
  return entries.filter((e) => target === undefined || e.target === target);
}

test('a dry run plans from the sensor’s reported availability and creates nothing', async () => {
  const body = dryRunSchema.parse(await json(await call('analyst1', 'POST', '/jobs', { body: request({ dryRun: true }) }), 200));
  const entry = body.plan.sensors.find((s) => s.sensor === sensor);
  assert.ok(entry?.included, 'the sensor gets a task');
  assert.equal(entry.coverage.fraction, 1);
  assert.equal(body.plan.filter, 'tcp port 443');
  const page = jobPageSchema.parse(await json(await call('analyst1', 'GET', '/jobs?owner=analyst1'), 200));
  assert.deepEqual(page.jobs, []);
  assert.deepEqual(await auditOf('job.submit'), [], 'a dry run is not a submission');
});

test('a filter the parser refuses is 400 with the position; the refusal is audited', async () => {
  const res = await call('analyst1', 'POST', '/jobs', { body: request({ filter: { expression: 'tcp port' } }) });
  const { error } = (await json(res, 400)) as { error: { message: string } };
  assert.match(error.message, /at 8\b/, 'names the position where the port number is missing');
  const failed = (await auditOf('job.submit')).filter((e) => e.outcome === 'failed' && e.actor === 'analyst1');
  assert.equal(failed.length, 1);
  const unknown = await call('analyst1', 'POST', '/jobs', { body: request({ targets: { sensors: ['no-such-sensor'] } }) });
  assert.ok([400, 404].includes(unknown.status), `an unknown sensor is refused (${unknown.status})`);
});

test('submit → 201 { job, plan }; list, detail and tasks; only the owner or an admin cancels and deletes; each write audited once', async () => {
  const { job } = submittedSchema.parse(await json(await call('analyst1', 'POST', '/jobs', { body: request({ name: 'incident 7' }) }), 201));
  assert.equal(job.owner, 'analyst1');
  assert.equal(job.name, 'incident 7');
  assert.equal(job.taskList.length, 1);
  assert.deepEqual(
    (await auditOf('job.submit', job.id)).map((e) => [e.actor, e.outcome]),
    [['analyst1', 'ok']],
  );

  const page = jobPageSchema.parse(await json(await call('viewer1', 'GET', '/jobs?status=pending,running&owner=analyst1'), 200));
  assert.deepEqual(
    page.jobs.map((j) => j.id),
    [job.id],
  );
  assert.equal(jobDetailSchema.parse(await json(await call('viewer1', 'GET', `/jobs/${job.id}`), 200)).id, job.id);
  assert.equal(taskListSchema.parse(await json(await call('viewer1', 'GET', `/jobs/${job.id}/tasks`), 200)).tasks[0]?.sensor, sensor);

  assert.equal((await call('viewer1', 'POST', `/jobs/${job.id}/cancel`)).status, 403);
  assert.equal((await call('analyst2', 'POST', `/jobs/${job.id}/cancel`)).status, 403);
  assert.equal((await call('analyst2', 'DELETE', `/jobs/${job.id}`)).status, 403);
  const cancelled = jobViewSchema.parse(await json(await call('analyst1', 'POST', `/jobs/${job.id}/cancel`), 200));
  assert.equal(cancelled.status, 'cancelled');
  assert.deepEqual((await auditOf('job.cancel', job.id)).map((e) => [e.actor, e.outcome]).sort(), [
    ['analyst1', 'ok'],
    ['analyst2', 'denied'],
  ]);

  assert.equal((await call('analyst1', 'DELETE', `/jobs/${job.id}`)).status, 204);
  assert.equal((await call('analyst1', 'GET', `/jobs/${job.id}`)).status, 404);
  assert.deepEqual((await auditOf('job.delete', job.id)).map((e) => [e.actor, e.outcome]).sort(), [
    ['analyst1', 'ok'],
    ['analyst2', 'denied'],
  ]);
});

test('an API token submits as token:<label>', async () => {
  const { job } = submittedSchema.parse(await json(await call('token', 'POST', '/jobs', { body: request() }), 201));
  assert.equal(job.owner, 'token:test');
  assert.equal((await call('token', 'DELETE', `/jobs/${job.id}`)).status, 204);
});

test('more open jobs than jobs.quota.concurrentJobs is 429 naming the limit', async () => {
  const ids: string[] = [];
  let res: Response;
  for (;;) {
    res = await call('analyst2', 'POST', '/jobs', { body: request() });
    if (res.status !== 201) break;
    ids.push(((await res.json()) as { job: { id: string } }).job.id);
    assert.ok(ids.length <= 50, 'the quota ends this');
  }
  const { error } = (await json(res, 429)) as { error: { message: string } };
  assert.match(error.message, /jobs\.quota\.concurrentJobs/);
  for (const id of ids) assert.equal((await call('analyst2', 'DELETE', `/jobs/${id}`)).status, 204);
});

test('a merged job: download whole and by range (ETag = SHA-256), one sensor’s result, the analysis, and a manifest that verifies against the served key', async () => {
  const job: JobDetail = await completedJob(t, 'analyst1', [sensor]);
  const result = job.result!;

  assert.equal((await call('viewer1', 'GET', `/jobs/${job.id}/pcap`)).status, 403, 'a viewer never downloads packets');
  assert.equal((await call('analyst2', 'GET', `/jobs/${job.id}/pcap`)).status, 403, 'nor another analyst’s job');
  const whole = await call('analyst1', 'GET', `/jobs/${job.id}/pcap`);
  assert.equal(whole.status, 200);
  const bytes = Buffer.from(await whole.arrayBuffer());
  assert.equal(bytes.length, result.fileBytes);
  assert.equal(createHash('sha256').update(bytes).digest('hex'), result.sha256);
  assert.equal(whole.headers.get('etag'), `"${result.sha256}"`);
  assert.equal(whole.headers.get('content-disposition'), `attachment; filename="${result.fileName}"; filename*=UTF-8''${encodeURIComponent(result.fileName)}`);

  const tail = await call('admin1', 'GET', `/jobs/${job.id}/pcap`, { headers: { range: 'bytes=100-', 'if-range': `"${result.sha256}"` } });
  assert.equal(tail.status, 206);
  assert.equal(tail.headers.get('content-range'), `bytes 100-${bytes.length - 1}/${bytes.length}`);
  assert.deepEqual(Buffer.from(await tail.arrayBuffer()), bytes.subarray(100));
  const past = await call('analyst1', 'GET', `/jobs/${job.id}/pcap`, { headers: { range: `bytes=${bytes.length}-` } });
  assert.equal(past.status, 416);
  assert.equal(past.headers.get('content-range'), `bytes */${bytes.length}`);

  const task = job.taskList[0]!;
  const own = await call('analyst1', 'GET', `/jobs/${job.id}/tasks/${task.id}/pcap`);
  assert.equal(own.status, 200);
  assert.equal(own.headers.get('etag'), `"${task.result!.sha256}"`);
  assert.equal((await own.arrayBuffer()).byteLength, task.result!.fileBytes);

  const analysis = analysisReportSchema.parse(await json(await call('viewer1', 'GET', `/jobs/${job.id}/analysis`), 200));
  assert.equal(analysis.capture.packets, result.packets);

  const signed = manifestSchema.parse(await json(await call('viewer1', 'GET', `/jobs/${job.id}/manifest`), 200));
  assert.equal(signed.manifest.merged.sha256, result.sha256);
  const jwsRes = await call('viewer1', 'GET', `/jobs/${job.id}/manifest?format=jws`);
  assert.equal(jwsRes.headers.get('content-type'), 'application/jose');
  const jws = await jwsRes.text();
  assert.equal(jws, signed.jws);
  const keys = manifestKeySetSchema.parse(await json(await call(null, 'GET', '/jobs/manifest-key'), 200));
  const file = join(t.resultsDir, 'downloaded.pcap');
  writeFileSync(file, bytes);
  assert.deepEqual((await verifyEvidence(jws, file, keys)).problems, []);
  bytes[bytes.length - 1]! ^= 0xff;
  writeFileSync(file, bytes);
  assert.deepEqual(
    (await verifyEvidence(jws, file, keys)).problems.map((p) => p.code),
    ['file-hash'],
  );

  // The daily quota counts what each request sent: the whole file, the tail range, nothing for the 416, the task's file.
  const recorded = await t.db.query<{ bytes: string | number }>('SELECT bytes FROM job_downloads WHERE job_id = $1 ORDER BY id', [job.id]);
  assert.deepEqual(
    recorded.map((r) => Number(r.bytes)),
    [bytes.length, bytes.length - 100, 0, task.result!.fileBytes],
  );

  // The viewer was stopped by the route's permission (403 before the job is looked at); the rest reached the job.
  const downloads = await auditOf('job.download', job.id);
  assert.deepEqual(
    downloads.map((e) => [e.actor, e.outcome, e.details.range ?? null]).sort(),
    [
      ['admin1', 'ok', `100-${bytes.length - 1}`],
      ['analyst1', 'ok', String(`bytes=${bytes.length}-`)],
      ['analyst1', 'ok', null],
      ['analyst1', 'ok', null],
      ['analyst2', 'denied', null],
    ].sort(),
  );
});
