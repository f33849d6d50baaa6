/**
 * Task result uploads (docs/jobs.md "Upload"), authenticated only by the task's upload token
 * (permission 'task', auth.ts):
 *
 *   POST /tasks/{task}/upload   declare {size, sha256, packets, bytes, truncated?} → {received, size, complete}
 *   PUT  /tasks/{task}/upload   one chunk: Content-Range: bytes {start}-{end}/{size}, X-Chunk-SHA256; body streamed to disk;
 *                               with X-Upload-Packets and X-Upload-Bytes (and X-Upload-Truncated) a chunk holding the whole
 *                               file declares it too: a small result in one request
 *   GET  /tasks/{task}/upload   where to resume
 *
 * The PUT body is not held to the app's JSON body limit: app.ts lets it through and this route
 * refuses one larger than jobs.uploadChunkMaxBytes (413) from its Content-Length, or while reading.
 * Refusals the agent acts on: 409 carries `error.received` (resume from there), 413 (smaller
 * chunks), 422 (the whole file did not match its declaration; start again from 0).
 */
import type { IncomingMessage } from 'node:http';
import { Readable } from 'node:stream';
import { Hono, type Context } from 'hono';
import { z } from 'zod';
import { TRUNCATION_REASONS } from '@pcapmesh/shared/wire';
import { UploadRejected, type ChunkDeclaration, type ChunkRange } from '../../domain/jobs/uploads.service.js';
import { invalid } from '../../domain/errors.js';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { errorResponse } from '../errors.js';
import { defineOperation } from '../openapi/operation.js';
import type { RouteTools } from './tools.js';

const MAX_SIZE = Number.MAX_SAFE_INTEGER;

export const taskParams = z.object({
  task: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/)
    .describe('task id (from the task command)'),
});

export const uploadDeclarationBody = z
  .strictObject({
    size: z.number().int().min(1).max(MAX_SIZE).describe('bytes of the result file'),
    sha256: z
      .string()
      .regex(/^[0-9a-f]{64}$/)
      .describe("the whole file's SHA-256, lowercase hex"),
    packets: z.number().int().min(0).max(MAX_SIZE).describe('packets in the file'),
    bytes: z.number().int().min(0).max(MAX_SIZE).describe('captured bytes of those packets'),
    truncated: z.enum(TRUNCATION_REASONS).optional().describe('the limit that stopped the extract early, if one did'),
  })
  .meta({ id: 'UploadDeclaration' });

export const UploadStateSchema = z
  .strictObject({
    received: z.number().int().min(0).describe('bytes the collector holds (fsynced): the next chunk starts here'),
    size: z.number().int().min(1).nullable().describe('the declared size; null before a declaration'),
    complete: z.boolean().describe('all bytes received and the whole file matched its SHA-256: the task is done'),
  })
  .meta({ id: 'UploadState' });

const stateResponse = { description: 'where the upload stands', schema: UploadStateSchema };

export const declareUpload = defineOperation({
  method: 'post',
  path: '/tasks/{task}/upload',
  id: 'declareTaskUpload',
  tag: 'uploads',
  permission: 'task',
  summary: "Declare a task's result file (or resume its upload)",
  description:
    'The same size and SHA-256 as before resumes (`received` stays); a different declaration starts over from 0. ' +
    'Refused with 503 when it would bring the results over results.maxBytes (the task then fails), with 409 when the task is closed.',
  params: taskParams,
  body: { schema: uploadDeclarationBody },
  responses: { 200: stateResponse },
  errors: [400, 404, 409, 503],
});

export const putUploadChunk = defineOperation({
  method: 'put',
  path: '/tasks/{task}/upload',
  id: 'putTaskUploadChunk',
  tag: 'uploads',
  permission: 'task',
  summary: 'Append one chunk of the result file',
  description:
    'The chunk must start at `received` (else 409 with `error.received`); a chunk whose SHA-256 differs from X-Chunk-SHA256, whose body ' +
    'differs from its Content-Range, or that reaches past the declared size is refused with 400 and nothing of it is kept. ' +
    'A body larger than jobs.uploadChunkMaxBytes → 413. After the last chunk the whole file is checked: a mismatch resets the upload (422). ' +
    'A full results disk fails the task (503). ' +
    'With X-Upload-Packets and X-Upload-Bytes the chunk must be the whole file (bytes 0-{size-1}/{size}) and declares it as POST does ' +
    '(its SHA-256 is the file’s): declaration, bytes and check in one request; 409 with `error.received` when the collector already holds part of that file.',
  params: taskParams,
  parameters: [
    {
      name: 'Content-Range',
      in: 'header',
      required: true,
      schema: { type: 'string', pattern: '^bytes \\d+-\\d+/\\d+$' },
      description: 'bytes {start}-{end}/{size}, end inclusive',
    },
    {
      name: 'X-Chunk-SHA256',
      in: 'header',
      required: true,
      schema: { type: 'string', pattern: '^[0-9a-f]{64}$' },
      description: "the chunk's SHA-256, lowercase hex",
    },
    {
      name: 'X-Upload-Packets',
      in: 'header',
      required: false,
      schema: { type: 'string', pattern: '^\\d{1,16}$' },
      description: 'declares the upload with this chunk (which must hold the whole file): packets in the file; needs X-Upload-Bytes',
    },
    {
      name: 'X-Upload-Bytes',
      in: 'header',
      required: false,
      schema: { type: 'string', pattern: '^\\d{1,16}$' },
      description: 'with X-Upload-Packets: captured bytes of those packets',
    },
    {
      name: 'X-Upload-Truncated',
      in: 'header',
      required: false,
      schema: { type: 'string', enum: [...TRUNCATION_REASONS] },
      description: 'with X-Upload-Packets: the limit that stopped the extract early, if one did',
    },
  ],
  body: { description: 'the chunk’s bytes', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
  responses: { 200: stateResponse },
  errors: [400, 404, 409, 422, 503],
});

export const getUploadState = defineOperation({
  method: 'get',
  path: '/tasks/{task}/upload',
  id: 'getTaskUpload',
  tag: 'uploads',
  permission: 'task',
  summary: 'Where the upload stands (after any cut or restart)',
  description:
    'After a stop between the last chunk and its check, this GET finishes the check (422 when the file does not match). 409 while another request of the upload runs.',
  params: taskParams,
  responses: { 200: stateResponse },
  errors: [400, 404, 409, 422],
});

/** `bytes 0-1023/4096` → {start: 0, end: 1023, size: 4096}. */
export function parseContentRange(header: string | undefined): ChunkRange {
  const match = /^bytes (\d{1,16})-(\d{1,16})\/(\d{1,16})$/.exec(header?.trim() ?? '');
  if (!match) throw invalid(`Content-Range: expected "bytes {start}-{end}/{size}", got ${header === undefined ? 'none' : JSON.stringify(header.slice(0, 80))}`);
  const [start, end, size] = [Number(match[1]), Number(match[2]), Number(match[3])];
  if (![start, end, size].every(Number.isSafeInteger)) throw invalid('Content-Range: numbers too large');
  return { start, end, size };
}

/** The declaration a whole-file chunk carries in X-Upload-* headers; undefined when it carries none. */
export function parseChunkDeclaration(header: (name: string) => string | undefined): ChunkDeclaration | undefined {
  const packets = header('x-upload-packets');
  const bytes = header('x-upload-bytes');
  const truncated = header('x-upload-truncated');
  if (packets === undefined && bytes === undefined && truncated === undefined) return undefined;
  const count = (name: string, value: string | undefined): number => {
    const n = /^\d{1,16}$/.test(value?.trim() ?? '') ? Number(value) : Number.NaN;
    if (!Number.isSafeInteger(n)) throw invalid(`${name}: expected a whole number, got ${value === undefined ? 'none' : JSON.stringify(value.slice(0, 40))}`);
    return n;
  };
  const reason = truncated?.trim();
  if (reason !== undefined && !(TRUNCATION_REASONS as readonly string[]).includes(reason)) {
    throw invalid(`X-Upload-Truncated: expected one of ${TRUNCATION_REASONS.join(', ')}, got ${JSON.stringify(reason.slice(0, 40))}`);
  }
  return {
    packets: count('X-Upload-Packets', packets),
    bytes: count('X-Upload-Bytes', bytes),
    truncated: (reason as ChunkDeclaration['truncated'] | undefined) ?? null,
  };
}

/** The answer to a refusal the agent acts on; other errors go to the app's error mapper. */
function rejection(c: Context<AppEnv>, err: unknown): Response {
  if (!(err instanceof UploadRejected)) throw err;
  c.var.log.info(
    { task: c.var.task?.taskId, job: c.var.task?.jobId, sensor: c.var.task?.sensor, problem: err.problem, received: err.received },
    'upload refused',
  );
  if (err.problem === 'out-of-order') return c.json({ error: { code: 'conflict', message: err.message, received: err.received } }, 409);
  if (err.problem === 'chunk-too-large') return errorResponse(c, 413, 'too_large', err.message);
  return errorResponse(c, 422, 'invalid', err.message);
}

export function taskUploadRoutes(deps: HttpDeps, { route }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const uploads = deps.uploads?.service;
  if (!uploads) return app;

  route(app, declareUpload, async (c, { body, reply }) => {
    const { truncated, ...rest } = body;
    try {
      return reply(200, await uploads.declare(c.var.task!, { ...rest, truncated: truncated ?? null }));
    } catch (err) {
      return rejection(c, err);
    }
  });

  route(app, putUploadChunk, async (c, { reply }) => {
    const length = c.req.header('content-length');
    if (length !== undefined && Number(length) > uploads.chunkMaxBytes) {
      return errorResponse(c, 413, 'too_large', `chunk body of ${length} bytes is larger than jobs.uploadChunkMaxBytes (${uploads.chunkMaxBytes})`);
    }
    const range = parseContentRange(c.req.header('content-range'));
    const sha256 = c.req.header('x-chunk-sha256')?.trim().toLowerCase() ?? '';
    if (!/^[0-9a-f]{64}$/.test(sha256)) throw invalid('X-Chunk-SHA256: expected the chunk’s SHA-256 as 64 hex digits');
    const declaration = parseChunkDeclaration((name) => c.req.header(name));
    const body = chunkBody(c);
    try {
      return reply(200, await uploads.chunk(c.var.task!, range, sha256, body, declaration));
    } catch (err) {
      return rejection(c, err);
    }
  });

  route(app, getUploadState, async (c, { reply }) => {
    try {
      return reply(200, await uploads.status(c.var.task!));
    } catch (err) {
      return rejection(c, err);
    }
  });

  return app;
}

/**
 * A chunk's body as it arrives. Under @hono/node-server, the Node request itself (its Buffers as
 * the socket delivers them) while nothing has started reading it: the web ReadableStream that
 * `c.req.raw.body` wraps around it cost a third of the collector's CPU during a 3 × 15 MB upload
 * (the adapter's per-piece promises and their garbage). Otherwise (app.request() in tests, or a
 * body already being read) the Request's stream.
 */
function chunkBody(c: Context<AppEnv>): AsyncIterable<Uint8Array> {
  const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
  if (incoming instanceof Readable && incoming.readableFlowing === null && !incoming.readableDidRead && !incoming.readableEnded) return incoming;
  return c.req.raw.body ?? (async function* () {})();
}

/** True for the request whose body this module streams itself (app.ts exempts it from the JSON body limit). */
export function isUploadChunk(method: string, path: string): boolean {
  return method === 'PUT' && /^\/api\/v1\/tasks\/[^/]+\/upload$/.test(path);
}
