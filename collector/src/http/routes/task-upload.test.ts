/**
 * The upload routes through the real app (app.request): task token only, chunks streamed past the
 * JSON body limit under jobs.uploadChunkMaxBytes, the agent-facing refusals (409 with received,
 * 413, 422), and a completed upload making the task done through the real JobsService.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createAdaptorServer } from '@hono/node-server';
import { readFileSync, rmSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCapture } from '@pcapmesh/shared/pcap';
import { createTestHttp, type TestHttp } from '../app.fixture.js';
import { API_PREFIX } from '../app.js';
import { chunksOf, insertJob, sha256, type FixtureJob } from '../../domain/jobs/results.fixture.js';
import { TaskTokens } from '../../domain/jobs/task-tokens.js';
import { verifyEvidence } from '../../domain/jobs/manifest.js';
import type { JSONWebKeySet } from 'jose';

const CHUNK_MAX = 2 * 1024 * 1024; // above the app's 1 MiB JSON body limit
let t: TestHttp;
let work: string;
let capture: Buffer;

before(async () => {
  t = await createTestHttp({ jobs: { uploadChunkMaxBytes: CHUNK_MAX } });
  work = mkdtempSync(join(tmpdir(), 'pcapmesh-upload-http-'));
  writeCapture(join(work, 'result.pcap'), { seed: 5, packets: 6000 });
  capture = readFileSync(join(work, 'result.pcap'));
});
after(async () => {
  await t.close();
  rmSync(work, { recursive: true, force: true });
});

type Task = FixtureJob['tasks'][number];
const tokenFor = (task: Task, expiresAt = new Date(Date.now() + 3_600_000)) => t.jobs.tokens.issue(task, expiresAt);
const url = (task: Task | string) => `${API_PREFIX}/tasks/${typeof task === 'string' ? task : task.taskId}/upload`;

async function declare(task: Task, token: string, file: Uint8Array, extra: Record<string, unknown> = {}): Promise<Response> {
  return t.app.request(url(task), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ size: file.length, sha256: sha256(file), packets: 6000, bytes: file.length - 24, ...extra }),
  });
}

async function put(
  task: Task,
  token: string,
  c: { start: number; end: number; bytes: Uint8Array; sha256: string },
  size: number,
  headers: Record<string, string> = {},
): Promise<Response> {
  return t.app.request(url(task), {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/octet-stream',
      'content-range': `bytes ${c.start}-${c.end}/${size}`,
      'x-chunk-sha256': c.sha256,
      ...headers,
    },
    body: new Uint8Array(c.bytes),
  });
}

const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string; received?: number } }).error;

test('declare, chunks larger than the JSON body limit, GET: complete, and the task is done (the job merges)', async () => {
  const job = await insertJob(t.db, { sensors: ['edge-1'] });
  const task = job.tasks[0]!;
  const token = await tokenFor(task);
  const declared = await declare(task, token, capture);
  assert.equal(declared.status, 200, await declared.clone().text());
  assert.deepEqual(await declared.json(), { received: 0, size: capture.length, complete: false });
  const chunks = chunksOf(capture, 1536 * 1024);
  assert.ok(chunks[0]!.bytes.length > 1024 * 1024, 'a chunk above the app body limit');
  let last: unknown;
  for (const c of chunks) {
    const res = await put(task, token, c, capture.length);
    assert.equal(res.status, 200, await res.clone().text());
    last = await res.json();
  }
  assert.deepEqual(last, { received: capture.length, size: capture.length, complete: true });
  const status = await t.app.request(url(task), { headers: { authorization: `Bearer ${token}` } });
  assert.deepEqual(await status.json(), { received: capture.length, size: capture.length, complete: true });
  await t.jobs.jobs.service.settled();
  const [row] = await t.db.query<{ status: string; job_status: string }>(
    'SELECT t.status, j.status AS job_status FROM job_tasks t JOIN jobs j ON j.id = t.job_id WHERE t.id = $1',
    [task.taskId],
  );
  assert.deepEqual(row, { status: 'done', job_status: 'complete' });
  // The job's manifest verifies, offline, with the key GET /jobs/manifest-key serves (no credential), against the uploaded file.
  const keys = await t.app.request(`${API_PREFIX}/jobs/manifest-key`);
  assert.equal(keys.status, 200);
  const [stored] = await t.db.query<{ manifest: string }>('SELECT manifest FROM jobs WHERE id = $1', [job.jobId]);
  const verdict = await verifyEvidence(stored!.manifest, join(work, 'result.pcap'), (await keys.json()) as JSONWebKeySet);
  assert.deepEqual(verdict.problems, []);
  assert.equal(verdict.ok, true);
  assert.deepEqual(verdict.matched, { kind: 'merged' }, 'one sensor’s classic pcap merged alone is the same bytes');
});

test('only the task token of that task: none, a user JWT, an API token → 401; another task’s → 403; expired → 401; a task token reaches no user route', async () => {
  const job = await insertJob(t.db, { sensors: ['edge-1', 'edge-2'] });
  const [one, two] = job.tasks as [Task, Task];
  const get = (token: string | null, task: Task = one) => t.app.request(url(task), token ? { headers: { authorization: `Bearer ${token}` } } : {});
  const none = await get(null);
  assert.equal(none.status, 401);
  assert.match(none.headers.get('www-authenticate') ?? '', /Bearer/);
  assert.equal((await get(await t.accessTokenOf('admin1'))).status, 401);
  assert.equal((await get(t.token)).status, 401);
  const other = await get(await tokenFor(two));
  assert.equal(other.status, 403);
  assert.match((await errorOf(other)).message, /another task/);
  // Issued two hours ago for one hour, with the same key (auth_secrets) the app verifies with.
  const past = await TaskTokens.open({ db: t.db, now: () => new Date(Date.now() - 7_200_000) });
  const expired = await get(await past.issue(one, new Date(Date.now() - 3_600_000)));
  assert.equal(expired.status, 401);
  assert.match((await errorOf(expired)).message, /expired/);
  assert.equal((await get(await tokenFor(one))).status, 200);
  const taskToken = await tokenFor(one);
  assert.equal((await t.app.request(`${API_PREFIX}/sensors`, { headers: { authorization: `Bearer ${taskToken}` } })).status, 401);
});

test('refusals an agent acts on: 409 with received, 400 bad hash or range (nothing kept), 413 over the chunk limit, 422 whole-file mismatch', async () => {
  const job = await insertJob(t.db, { sensors: ['edge-1'] });
  const task = job.tasks[0]!;
  const token = await tokenFor(task);
  const file = randomBytes(300_000);
  const [a, b, c] = chunksOf(file, 100_000) as [ReturnType<typeof chunksOf>[0], ReturnType<typeof chunksOf>[0], ReturnType<typeof chunksOf>[0]];
  await declare(task, token, randomBytes(300_000)); // declares one file, will send another
  assert.equal((await put(task, token, a, file.length)).status, 200);
  const wrongStart = await put(task, token, c, file.length);
  assert.equal(wrongStart.status, 409);
  assert.deepEqual(await errorOf(wrongStart).then((e) => [e.code, e.received]), ['conflict', 100_000]);
  const badHash = await put(task, token, { ...b, sha256: a.sha256 }, file.length);
  assert.equal(badHash.status, 400);
  assert.match((await errorOf(badHash)).message, /X-Chunk-SHA256/);
  const badRange = await t.app.request(url(task), {
    method: 'PUT',
    headers: { authorization: `Bearer ${token}`, 'content-range': 'bytes=0-9', 'x-chunk-sha256': b.sha256 },
    body: new Uint8Array(b.bytes),
  });
  assert.equal(badRange.status, 400);
  assert.match((await errorOf(badRange)).message, /Content-Range: expected "bytes \{start\}-\{end\}\/\{size\}"/);
  const tooLong = await put(task, token, b, file.length, { 'content-length': String(CHUNK_MAX + 1) });
  assert.equal(tooLong.status, 413);
  assert.equal((await errorOf(tooLong)).code, 'too_large');
  const state = await t.app.request(url(task), { headers: { authorization: `Bearer ${token}` } });
  assert.deepEqual(await state.json(), { received: 100_000, size: file.length, complete: false }, 'nothing of the refused chunks kept');
  assert.equal((await put(task, token, b, file.length)).status, 200);
  const mismatch = await put(task, token, c, file.length);
  assert.equal(mismatch.status, 422);
  assert.match((await errorOf(mismatch)).message, /differs from the declared .* upload again from 0/);
  const after = await t.app.request(url(task), { headers: { authorization: `Bearer ${token}` } });
  assert.deepEqual(await after.json(), { received: 0, size: file.length, complete: false });
});

test('a body larger than the chunk limit without a Content-Length is cut off with 413; a bad declaration is 400 naming the field', async () => {
  const job = await insertJob(t.db, { sensors: ['edge-1'] });
  const task = job.tasks[0]!;
  const token = await tokenFor(task);
  const file = randomBytes(CHUNK_MAX + 10);
  await declare(task, token, file);
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      for (let i = 0; i < file.length; i += 65_536) controller.enqueue(file.subarray(i, i + 65_536));
      controller.close();
    },
  });
  const res = await t.app.request(url(task), {
    method: 'PUT',
    headers: {
      authorization: `Bearer ${token}`,
      'content-range': `bytes 0-${CHUNK_MAX - 1}/${file.length}`,
      'x-chunk-sha256': sha256(file.subarray(0, CHUNK_MAX)),
    },
    body: stream,
    duplex: 'half',
  } as RequestInit);
  assert.equal(res.status, 413);
  assert.match((await errorOf(res)).message, /larger than jobs\.uploadChunkMaxBytes/);
  const bad = await declare(task, token, file, { sha256: 'XYZ' });
  assert.equal(bad.status, 400);
  assert.match((await errorOf(bad)).message, /sha256/);
});

test('a PUT of the whole file with X-Upload-Packets/-Bytes/-Truncated declares it: one request makes the task done; bad declaring headers are 400 naming the header', async () => {
  const job = await insertJob(t.db, { sensors: ['edge-1'] });
  const task = job.tasks[0]!;
  const token = await tokenFor(task);
  writeCapture(join(work, 'small.pcap'), { seed: 6, packets: 500 });
  const small = readFileSync(join(work, 'small.pcap'));
  const [whole] = chunksOf(small, small.length);
  const declaring = { 'x-upload-packets': '500', 'x-upload-bytes': String(small.length - 24), 'x-upload-truncated': 'max-packets' };
  for (const [headers, message] of [
    [{ 'x-upload-packets': '6000' }, /X-Upload-Bytes: expected a whole number, got none/],
    [{ ...declaring, 'x-upload-bytes': '-1' }, /X-Upload-Bytes: expected a whole number, got "-1"/],
    [{ ...declaring, 'x-upload-truncated': 'tired' }, /X-Upload-Truncated: expected one of max-bytes, max-packets, got "tired"/],
  ] as const) {
    const res = await put(task, token, whole!, small.length, headers);
    assert.equal(res.status, 400);
    assert.match((await errorOf(res)).message, message);
  }
  const res = await put(task, token, whole!, small.length, declaring);
  assert.equal(res.status, 200, await res.clone().text());
  assert.deepEqual(await res.json(), { received: small.length, size: small.length, complete: true });
  await t.jobs.jobs.service.settled();
  const [row] = await t.db.query<{ status: string; packets: number; truncated: string }>(
    'SELECT status, result_packets AS packets, truncated FROM job_tasks WHERE id = $1',
    [task.taskId],
  );
  assert.deepEqual(row, { status: 'done', packets: 500, truncated: 'max-packets' });
});

test('through a real Node server (the body read from the socket, not a web stream): a bad hash and a body cut mid-way keep nothing; the chunks then complete the upload', async () => {
  const job = await insertJob(t.db, { sensors: ['edge-1'] });
  const task = job.tasks[0]!;
  const token = await tokenFor(task);
  const server = createAdaptorServer({ fetch: t.app.fetch });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  try {
    const file = randomBytes(1_500_000);
    const [a, b] = chunksOf(file, 750_000) as [ReturnType<typeof chunksOf>[0], ReturnType<typeof chunksOf>[0]];
    const send = (c: typeof a, sha: string) =>
      fetch(`http://127.0.0.1:${port}${url(task)}`, {
        method: 'PUT',
        headers: { authorization: `Bearer ${token}`, 'content-range': `bytes ${c.start}-${c.end}/${file.length}`, 'x-chunk-sha256': sha },
        body: new Uint8Array(c.bytes),
      });
    assert.equal((await declare(task, token, file)).status, 200);
    const badHash = await send(a, b.sha256);
    assert.equal(badHash.status, 400);
    assert.match((await errorOf(badHash)).message, /X-Chunk-SHA256/);
    // Half of chunk a, then the connection closes: the chunk broke off, nothing of it is kept.
    await new Promise<void>((resolve, reject) => {
      const req = httpRequest({
        host: '127.0.0.1',
        port,
        method: 'PUT',
        path: url(task),
        headers: {
          authorization: `Bearer ${token}`,
          'content-length': String(a.bytes.length),
          'content-range': `bytes ${a.start}-${a.end}/${file.length}`,
          'x-chunk-sha256': a.sha256,
        },
      });
      req.on('error', () => resolve()); // the cut itself
      req.on('response', (res) => reject(new Error(`a cut chunk was answered ${res.statusCode}`)));
      req.write(a.bytes.subarray(0, 300_000), () => setTimeout(() => req.destroy(), 50));
    });
    const state = async () => (await t.app.request(url(task), { headers: { authorization: `Bearer ${token}` } })).json();
    // The cut chunk is refused after the cut: until the collector has let go of it, chunk a is 409 (busy).
    let sent: Response | undefined;
    for (let i = 0; i < 200; i++) {
      sent = await send(a, a.sha256);
      if (sent.status !== 409) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    assert.equal(sent?.status, 200, await sent?.text());
    assert.deepEqual(await state(), { received: 750_000, size: file.length, complete: false });
    const last = await send(b, b.sha256);
    assert.equal(last.status, 200);
    assert.deepEqual(await last.json(), { received: file.length, size: file.length, complete: true });
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
});
