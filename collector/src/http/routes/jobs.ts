/**
 * Capture jobs (docs/jobs.md): submit, list, inspect, cancel, delete, and the results.
 *
 *   POST   /jobs                          (analyst)  JobRequest body → 201 { job, plan }; dryRun → 200 { plan }
 *   GET    /jobs?status=&owner=&from=&to=&limit=&cursor=   (read)  { jobs, next }
 *   GET    /jobs/:id                      (read)     JobDetail (tasks and plan)
 *   GET    /jobs/:id/tasks                (read)     { tasks }
 *   POST   /jobs/:id/cancel               (analyst)  JobView; own jobs unless admin
 *   DELETE /jobs/:id                      (analyst)  → 204; own jobs unless admin
 *   GET    /jobs/:id/pcap                 (download) the merged capture (Range, ETag = SHA-256)
 *   GET    /jobs/:id/tasks/:task/pcap     (download) one sensor's result
 *   GET    /jobs/:id/analysis             (read)     AnalysisReport
 *   GET    /jobs/:id/manifest             (read)     { jws, manifest }; ?format=jws → application/jose
 *   GET    /jobs/manifest-key             (public)   the JWK Set manifests are signed with
 *
 * The routes parse (jobs.schemas.ts) and call JobsApi, which checks ownership, quotas and the
 * filter. Submit, cancel, delete and download are audited here, once each, with the actor, the job
 * and the outcome (ok; denied for forbidden; failed otherwise) — JobsApi does not audit them.
 * Downloads answer one byte range (206 + Content-Range; 416 + `Content-Range: bytes *\/size` when it
 * lies outside the file; several ranges or a malformed header get the whole file, as RFC 9110
 * allows); `If-Range` with a different ETag gets the whole file.
 */
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import type { Context } from 'hono';
import { Hono } from 'hono';
import type { JSONWebKeySet } from 'jose';
import type { Actor } from '../../domain/accounts/roles.js';
import { isDomainError } from '../../domain/errors.js';
import type { AuditService } from '../../domain/accounts/audit.service.js';
import type { JobsApi } from '../../domain/jobs/jobs.types.js';
import { actorOf, principalActor } from '../actor.js';
import type { AppEnv } from '../env.js';
import { errorResponse } from '../errors.js';
import { ErrorSchema } from '../openapi/kit.js';
import { defineOperation } from '../openapi/operation.js';
import {
  analysisReportSchema,
  dryRunSchema,
  jobDetailSchema,
  jobPageSchema,
  jobParams,
  jobViewSchema,
  listQuery,
  manifestKeySetSchema,
  manifestQuery,
  manifestSchema,
  submitBody,
  submittedSchema,
  taskListSchema,
  taskParams,
} from './jobs.schemas.js';
import type { RouteTools } from './tools.js';

/** What a Range header asks of a file of `size` bytes. */
export type RangeAnswer = { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

/**
 * RFC 9110 §14 for one range: `bytes=a-b`, `bytes=a-`, `bytes=-n` (the last n bytes); `end` is
 * inclusive and clamped to the file. No header, another unit, several ranges or bad syntax → full.
 *
 * @example
 *   parseRange('bytes=100-', 1000)   // { kind: 'partial', start: 100, end: 999 }
 *   parseRange('bytes=1000-', 1000)  // { kind: 'unsatisfiable' }
 */
export function parseRange(header: string | undefined, size: number): RangeAnswer {
  const match = header === undefined ? null : /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  if (!match) return { kind: 'full' };
  const [, first = '', last = ''] = match;
  if (first === '' && last === '') return { kind: 'full' };
  if (first === '') {
    const suffix = Number(last);
    return suffix === 0 || size === 0 ? { kind: 'unsatisfiable' } : { kind: 'partial', start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(first);
  if (last !== '' && Number(last) < start) return { kind: 'full' };
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end: last === '' ? size - 1 : Math.min(Number(last), size - 1) };
}

/** Bytes a request answered with `range` sends of a file of `size` bytes. */
export function bytesOfRange(range: RangeAnswer, size: number): number {
  return range.kind === 'partial' ? range.end - range.start + 1 : range.kind === 'unsatisfiable' ? 0 : size;
}

/** `attachment; filename="…"` with an ASCII fallback and the RFC 8187 UTF-8 form. */
function attachment(fileName: string): string {
  const ascii = fileName.replace(/[^\x20-\x7e]|["\\]/g, '_');
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encodeURIComponent(fileName)}`;
}

const PCAP_CONTENT = {
  'application/vnd.tcpdump.pcap': { schema: { type: 'string', contentMediaType: 'application/vnd.tcpdump.pcap' } },
  'application/x-pcapng': { schema: { type: 'string', contentMediaType: 'application/x-pcapng' } },
};
const DOWNLOAD_HEADERS = {
  ETag: { description: 'the SHA-256 of the whole file, quoted', schema: { type: 'string' } },
  'Accept-Ranges': { description: 'bytes', schema: { type: 'string' } },
  'Content-Disposition': { description: 'attachment; filename="pcapmesh-{job}-{from}-{to}.pcap[ng]"', schema: { type: 'string' } },
};
const RANGE_PARAMETERS = [
  {
    name: 'Range',
    in: 'header',
    required: false,
    schema: { type: 'string' },
    description: 'one byte range: `bytes=a-b`, `bytes=a-` or `bytes=-n` (several ranges get the whole file)',
  },
  {
    name: 'If-Range',
    in: 'header',
    required: false,
    schema: { type: 'string' },
    description: 'the ETag the partial file came from; another one gets the whole file (200)',
  },
];
/** 416 is an error answer (the Error shape) with the file's size in Content-Range. */
const UNSATISFIABLE = {
  description: 'the range starts past the end of the file (code `invalid`)',
  schema: ErrorSchema,
  headers: { 'Content-Range': { description: 'bytes */{size}', schema: { type: 'string' } } },
};
const DOWNLOAD_NOTES =
  'Streams the file. One byte range (`Range`) answers 206 with Content-Range; a range starting past the end answers 416 with ' +
  '`Content-Range: bytes */{size}`. The bytes sent (a range: only its bytes) count against the per-user daily download quota (jobs.quota.bytesPerDay: 429 naming it) ' +
  'and is audited (job.download).';

export const submitJob = defineOperation({
  method: 'post',
  path: '/jobs',
  id: 'submitJob',
  tag: 'jobs',
  permission: 'analyst',
  summary: 'Submit a capture job, or plan one (dry run)',
  description:
    'Validates the window, filter, targets and limits, plans per sensor (availability coverage, bytes in the window; a dry run ' +
    'also asks each online sensor for an index-based estimate), and unless `dryRun` creates the job with one task per sensor ' +
    'and dispatches them. A filter the parser refuses is 400 with the position of the error in the message. 429 when the ' +
    'caller already has jobs.quota.concurrentJobs open jobs, or (dry run) made jobs.quota.dryRunsPerMinute dry runs in the last minute. ' +
    'Audited (job.submit; dry runs are not).',
  body: { schema: submitBody },
  responses: {
    200: { description: 'dry run: the plan (nothing created)', schema: dryRunSchema },
    201: { description: 'created and dispatched', schema: submittedSchema },
  },
  errors: [400, 404, 429],
});

export const listJobs = defineOperation({
  method: 'get',
  path: '/jobs',
  id: 'listJobs',
  tag: 'jobs',
  permission: 'read',
  summary: 'Jobs, newest first, a page at a time',
  query: listQuery,
  responses: { 200: { description: 'a page', schema: jobPageSchema } },
  errors: [400],
});

export const getJob = defineOperation({
  method: 'get',
  path: '/jobs/{id}',
  id: 'getJob',
  tag: 'jobs',
  permission: 'read',
  summary: 'One job with its tasks and plan',
  params: jobParams,
  responses: { 200: { description: 'the job', schema: jobDetailSchema } },
  errors: [400, 404],
});

export const listJobTasks = defineOperation({
  method: 'get',
  path: '/jobs/{id}/tasks',
  id: 'listJobTasks',
  tag: 'jobs',
  permission: 'read',
  summary: 'The tasks of a job (one per sensor) with their progress and results',
  params: jobParams,
  responses: { 200: { description: 'the tasks', schema: taskListSchema } },
  errors: [400, 404],
});

export const cancelJob = defineOperation({
  method: 'post',
  path: '/jobs/{id}/cancel',
  id: 'cancelJob',
  tag: 'jobs',
  permission: 'analyst',
  summary: 'Cancel an open job (its own owner or an admin; audited)',
  description: 'The sensors are told to stop. Cancelling a cancelled job answers it as it is; a job that has ended is 409.',
  params: jobParams,
  responses: { 200: { description: 'the job after the change', schema: jobViewSchema } },
  errors: [400, 404, 409],
});

export const deleteJob = defineOperation({
  method: 'delete',
  path: '/jobs/{id}',
  id: 'deleteJob',
  tag: 'jobs',
  permission: 'analyst',
  summary: 'Delete a job and its result files (its own owner or an admin; audited)',
  description: 'An open job is cancelled first.',
  params: jobParams,
  responses: { 204: { description: 'deleted (no body)' } },
  errors: [400, 404],
});

/** What both capture downloads answer: the whole file, a range of it, or 416. */
const DOWNLOAD_RESPONSES = {
  parameters: RANGE_PARAMETERS,
  responses: {
    200: { description: 'the whole file', content: PCAP_CONTENT, headers: DOWNLOAD_HEADERS },
    206: {
      description: 'the range asked for',
      content: PCAP_CONTENT,
      headers: { ...DOWNLOAD_HEADERS, 'Content-Range': { description: 'bytes a-b/size', schema: { type: 'string' } } },
    },
    416: UNSATISFIABLE,
  },
  errors: [400, 404, 429],
} as const;

export const downloadJob = defineOperation({
  method: 'get',
  path: '/jobs/{id}/pcap',
  id: 'downloadJob',
  tag: 'jobs',
  permission: 'download',
  summary: 'Download the merged capture (Range, resumable)',
  description: `${DOWNLOAD_NOTES} 404 until the job has a merged result, and after its results expired.`,
  params: jobParams,
  ...DOWNLOAD_RESPONSES,
});

export const downloadTask = defineOperation({
  method: 'get',
  path: '/jobs/{id}/tasks/{task}/pcap',
  id: 'downloadJobTask',
  tag: 'jobs',
  permission: 'download',
  summary: "Download one sensor's result (Range, resumable)",
  description: `${DOWNLOAD_NOTES} 404 until that task's upload is complete and verified.`,
  params: taskParams,
  ...DOWNLOAD_RESPONSES,
});

export const getJobAnalysis = defineOperation({
  method: 'get',
  path: '/jobs/{id}/analysis',
  id: 'getJobAnalysis',
  tag: 'jobs',
  permission: 'read',
  summary: 'The analysis of the merged capture (protocols, talkers, conversations, ports, timeline, DNS/SNI/HTTP names)',
  params: jobParams,
  responses: { 200: { description: 'the report', schema: analysisReportSchema } },
  errors: [400, 404],
});

export const getJobManifest = defineOperation({
  method: 'get',
  path: '/jobs/{id}/manifest',
  id: 'getJobManifest',
  tag: 'jobs',
  permission: 'read',
  summary: 'The signed evidence manifest',
  description:
    'JSON `{ jws, manifest }`, or with `?format=jws` the compact JWS alone as application/jose (what ' +
    '`pcapmesh job verify MANIFEST.jws RESULT.pcap` checks). The signing key is served at GET /jobs/manifest-key.',
  params: jobParams,
  query: manifestQuery,
  responses: { 200: { description: 'the manifest (with ?format=jws: the compact JWS, Content-Type application/jose)', schema: manifestSchema } },
  errors: [400, 404],
});

export const getManifestKey = defineOperation({
  method: 'get',
  path: '/jobs/manifest-key',
  id: 'getManifestKey',
  tag: 'jobs',
  permission: 'public',
  summary: 'The public key evidence manifests are signed with (JWK Set)',
  description: 'Ed25519 (EdDSA); `kid` is the key thumbprint the JWS header names. `pcapmesh job verify --key` takes this document.',
  responses: { 200: { description: 'the key set', schema: manifestKeySetSchema } },
});

/** The slice of HttpDeps the job routes use. */
export interface JobRouteDeps {
  jobs: JobsApi;
  /** The evidence manifest signing key's public half (ResultsService / ManifestSigner publicJwks). */
  manifestKeys: { publicJwks(): JSONWebKeySet };
  accounts: { audit: Pick<AuditService, 'record'> };
}

export function jobRoutes(deps: JobRouteDeps, { route }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { jobs } = deps;
  const { audit } = deps.accounts;

  /** The caller as JobsApi sees it: its principal id owns jobs; the name shown is actorOf's (username, or token:<label>). */
  const actorIn = (c: Context<AppEnv>): Actor => principalActor(c);

  /** Runs `run` and records `action` in the audit log once, whatever its outcome. */
  async function audited<T>(
    c: Context<AppEnv>,
    action: string,
    target: string | null,
    run: () => Promise<T>,
    details: (result: T) => { target?: string; details?: Record<string, unknown> } = () => ({}),
  ): Promise<T> {
    let result: T;
    try {
      result = await run();
    } catch (err) {
      const code = isDomainError(err) ? err.code : 'internal';
      await audit.record({
        ...actorOf(c),
        action,
        target,
        outcome: code === 'forbidden' ? 'denied' : 'failed',
        details: { error: code, ...(isDomainError(err) ? { message: err.message } : {}) },
      });
      throw err;
    }
    const extra = details(result);
    await audit.record({ ...actorOf(c), action, target: extra.target ?? target, outcome: 'ok', ...(extra.details ? { details: extra.details } : {}) });
    return result;
  }

  // Before /jobs/{id}, so that "manifest-key" is not taken for a job id (nor needs a credential).
  route(app, getManifestKey, (_c, { reply }) => reply(200, manifestKeySetSchema.parse(deps.manifestKeys.publicJwks())));

  route(app, submitJob, async (c, { body, reply }) => {
    const actor = actorIn(c);
    if (body.dryRun === true) return reply(200, { plan: (await jobs.submit(actor, body)).plan });
    const { job, plan } = await audited(
      c,
      'job.submit',
      null,
      () => jobs.submit(actor, body),
      (r) => ({
        ...(r.job ? { target: r.job.id } : {}),
        details: { name: body.name ?? null, filter: r.plan.filter, sensors: r.plan.sensors.filter((s) => s.included).map((s) => s.sensor) },
      }),
    );
    if (job === null) throw new Error('JobsApi.submit returned no job for a submission');
    return reply(201, { job, plan });
  });

  route(app, listJobs, async (c, { query, reply }) => {
    const page = await jobs.list(actorIn(c), {
      limit: query.limit,
      ...(query.status ? { status: query.status } : {}),
      ...(query.owner ? { owner: query.owner } : {}),
      ...(query.from ? { from: query.from } : {}),
      ...(query.to ? { to: query.to } : {}),
      ...(query.cursor ? { cursor: query.cursor } : {}),
    });
    return reply(200, page);
  });

  route(app, getJob, async (c, { params, reply }) => reply(200, await jobs.get(actorIn(c), params.id)));

  route(app, listJobTasks, async (c, { params, reply }) => reply(200, { tasks: await jobs.tasks(actorIn(c), params.id) }));

  route(app, cancelJob, async (c, { params, reply }) => {
    const actor = actorIn(c);
    return reply(
      200,
      await audited(
        c,
        'job.cancel',
        params.id,
        () => jobs.cancel(actor, params.id),
        (j) => ({ details: { status: j.status } }),
      ),
    );
  });

  route(app, deleteJob, async (c, { params, reply }) => {
    const actor = actorIn(c);
    await audited(c, 'job.delete', params.id, () => jobs.remove(actor, params.id));
    return reply(204);
  });

  /** Streams a result file (whole or one range); ETag is its SHA-256 as the job detail states it. */
  async function serve(c: Context<AppEnv>, id: string, taskId: string | undefined): Promise<Response> {
    const actor = actorIn(c);
    const rangeHeader = c.req.header('range');
    const ifRange = c.req.header('if-range');
    const { file, sha256, range } = await audited(
      c,
      'job.download',
      id,
      async () => {
        // The job first (its SHA-256 is the ETag If-Range compares), then the file with the rights and quota check.
        const detail = await jobs.get(actor, id);
        const hash = taskId === undefined ? (detail.result?.sha256 ?? null) : (detail.taskList.find((t) => t.id === taskId)?.result?.sha256 ?? null);
        const stale = ifRange !== undefined && (hash === null || ifRange !== `"${hash}"`);
        const asked: { range: RangeAnswer } = { range: { kind: 'full' } };
        const found = await jobs.download(actor, id, taskId, (size) => {
          asked.range = stale ? { kind: 'full' } : parseRange(rangeHeader, size);
          return c.req.method === 'HEAD' ? 0 : bytesOfRange(asked.range, size);
        });
        return { file: found, sha256: hash, range: asked.range };
      },
      (r) => ({
        details: {
          ...(taskId !== undefined ? { task: taskId } : {}),
          file: r.file.fileName,
          size: r.file.size,
          ...(r.range.kind === 'partial' ? { range: `${r.range.start}-${r.range.end}` } : r.range.kind === 'unsatisfiable' ? { range: rangeHeader } : {}),
        },
      }),
    );
    const headers: Record<string, string> = {
      'Accept-Ranges': 'bytes',
      'Content-Type': file.contentType,
      'Content-Disposition': attachment(file.fileName),
      ...(sha256 !== null ? { ETag: `"${sha256}"` } : {}),
    };
    if (range.kind === 'unsatisfiable') {
      c.header('Content-Range', `bytes */${file.size}`);
      c.header('Accept-Ranges', 'bytes');
      return errorResponse(c, 416, 'invalid', `range ${rangeHeader ?? ''} lies outside the file (${file.size} bytes)`);
    }
    const [start, end, status] = range.kind === 'partial' ? [range.start, range.end, 206 as const] : [0, file.size - 1, 200 as const];
    headers['Content-Length'] = String(end - start + 1);
    if (status === 206) headers['Content-Range'] = `bytes ${start}-${end}/${file.size}`;
    if (c.req.method === 'HEAD' || file.size === 0) return c.body(null, status, headers);
    const stream = Readable.toWeb(createReadStream(file.path, { start, end })) as ReadableStream<Uint8Array>;
    return c.body(stream, status, headers);
  }

  route(app, downloadJob, (c, { params }) => serve(c, params.id, undefined));
  route(app, downloadTask, (c, { params }) => serve(c, params.id, params.task));

  route(app, getJobAnalysis, async (c, { params, reply }) => reply(200, await jobs.analysis(actorIn(c), params.id)));

  route(app, getJobManifest, async (c, { params, query, reply }) => {
    const signed = await jobs.manifest(actorIn(c), params.id);
    if (query.format === 'jws')
      return c.body(signed.jws, 200, { 'Content-Type': 'application/jose', 'Content-Disposition': attachment(`pcapmesh-${params.id}.jws`) });
    return reply(200, signed);
  });

  return app;
}
