/**
 * Upload client for a task's result: exactly the protocol of docs/jobs.md "Upload".
 *
 *   POST {url} {size, sha256, packets, bytes, truncated?}  → {received, size, complete}
 *   PUT  {url} Content-Range: bytes {start}-{end}/{size}, X-Chunk-SHA256  → {received, size, complete}
 *   GET  {url} → {received, size, complete}
 *
 * Behaviour:
 * - A result that fits in one chunk goes in ONE request: a PUT of the whole file that declares it
 *   (X-Upload-Packets, X-Upload-Bytes, X-Upload-Truncated). When the collector answers it with 409
 *   (it holds part of the file, or does not take declaring chunks) or 413, the upload goes on the
 *   long way: POST the declaration, then chunks from `received`.
 * - Chunks of `chunkBytes` from `received` on; `end` is inclusive (RFC 9110 Content-Range). A chunk
 *   over 1 MiB is never held in memory: its SHA-256 is computed reading the file region in 1 MiB
 *   pieces, and its body is streamed from the file (with its Content-Length), so memory stays at a
 *   read buffer whatever the chunk size. A file whose size is not the declared one fails at once,
 *   not transient.
 * - 409 on a chunk (the collector holds a different offset): continue from the `received` in the
 *   answer (`received` or `error.received`), else from a fresh GET; more than 3 in a row without
 *   progress (the same offset, or no offset: the task was closed) fail, transient. 409 on the
 *   declaration (the task is closed) fails, not transient.
 * - Network errors, timeouts and 5xx (and 429): retry with exponential backoff (base doubling to
 *   `maxBackoffMs`, each delay drawn from [d/2, d]), asking GET where to resume; after
 *   `maxRetries` consecutive failures without progress the upload fails, transient.
 * - 401/403: the task token expired or is not this task's → UploadError, transient (a re-dispatch
 *   brings a new token).
 * - 422 after the last chunk (the whole file's SHA-256 did not match): start again from 0 once
 *   (declaring again), then fail, not transient.
 * - 413 (chunk larger than the collector's jobs.uploadChunkMaxBytes): halve the chunk (not below
 *   64 KiB) and send it again.
 * - A state without a size (the collector lost the declaration): declare again (at most 3 times).
 * - Other 4xx: fail with the collector's message, not transient.
 * - The signal aborts everything at once (the request in flight included).
 * The bearer token is never logged or put in an error message.
 */
import { createHash } from 'node:crypto';
import { closeSync, createReadStream, fstatSync, openSync, readSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { TruncationReason } from '@pcapmesh/shared/pcap/extract-limit';

export interface UploadDeclaration {
  size: number;
  sha256: string;
  packets: number;
  bytes: number;
  truncated?: TruncationReason;
}

export interface UploadTarget {
  url: string;
  token: string;
}

export interface UploadOptions {
  chunkBytes: number;
  signal?: AbortSignal;
  /** After each acknowledgement: bytes the collector holds. */
  onProgress?: (received: number) => void;
  /** First retry delay (default 500 ms) and cap (default 30 s). */
  baseBackoffMs?: number;
  maxBackoffMs?: number;
  /** Consecutive failed attempts without progress before giving up (default 8). */
  maxRetries?: number;
  /** Per-request timeout (default 60 s). */
  requestTimeoutMs?: number;
}

/** An upload that failed for good (this attempt); `transient` says whether retrying later may help. */
export class UploadError extends Error {
  constructor(
    message: string,
    readonly transient: boolean,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'UploadError';
  }
}

/** The upload step as the runner sees it. */
export interface Uploader {
  upload(file: string, declaration: UploadDeclaration, target: UploadTarget, opts: Omit<UploadOptions, 'chunkBytes'>): Promise<void>;
}

interface UploadState {
  received: number;
  /** Null when nothing is declared (any more). */
  size: number | null;
  complete: boolean;
}

const MIN_CHUNK = 64 * 1024;

/** A failure worth retrying (network, timeout, 5xx). */
class Retryable extends Error {}

/** 409: the collector holds `received` bytes (null when its answer did not say). */
class Conflict extends Error {
  constructor(
    readonly received: number | null,
    message: string,
  ) {
    super(message);
  }
}

export class HttpUploader implements Uploader {
  constructor(private readonly defaults: { chunkBytes: number; baseBackoffMs?: number; maxBackoffMs?: number; maxRetries?: number }) {}

  upload(file: string, declaration: UploadDeclaration, target: UploadTarget, opts: Omit<UploadOptions, 'chunkBytes'> = {}): Promise<void> {
    return uploadFile(file, declaration, target, { ...this.defaults, ...opts });
  }
}

export async function uploadFile(file: string, declaration: UploadDeclaration, target: UploadTarget, opts: UploadOptions): Promise<void> {
  const client = new Client(target, opts);
  const fd = openSync(file, 'r');
  try {
    const held = fstatSync(fd).size;
    if (held !== declaration.size) throw new UploadError(`the result file has ${held} bytes, its declaration ${declaration.size}`, false);
    let restarted = false;
    let conflicts = 0;
    let redeclared = 0;
    let chunkBytes = opts.chunkBytes;
    let state = declaration.size <= chunkBytes ? await declaringPut(client, file, fd, declaration) : null;
    state ??= await client.retrying(() => client.declare(declaration));
    for (;;) {
      if (state.size === null && redeclared++ < 3) {
        state = await client.retrying(() => client.declare(declaration));
        continue;
      }
      if (state.size !== declaration.size) {
        throw new UploadError(`the collector expects ${state.size ?? 'no'} bytes, the result has ${declaration.size}`, false);
      }
      opts.onProgress?.(state.received);
      if (state.complete) return;
      if (state.received >= declaration.size) {
        // Everything sent but not complete: the collector is still checking, or lost the end. Ask again.
        state = await client.retrying(() => client.status());
        if (!state.complete && state.received >= declaration.size)
          throw new UploadError('the collector holds the whole file but does not call it complete', true);
        continue;
      }
      const start = state.received;
      const length = Math.min(chunkBytes, declaration.size - start);
      const chunk: Region = { file, fd, start, length };
      const sha256 = hashRegion(chunk);
      try {
        state = await client.retrying(
          () => client.put(chunk, declaration.size, sha256),
          () => client.status(),
        );
      } catch (err) {
        if (err instanceof Conflict) {
          // The same offset again, or none at all (the collector closed the task: GET still answers
          // where it stood, so the same chunk would be refused forever): a few times, then give up.
          conflicts = err.received === null || err.received === start ? conflicts + 1 : 0;
          if (conflicts > 3) throw new UploadError(`the collector keeps refusing the chunk at ${start} (409: ${err.message})`, true, 409);
          state = err.received !== null ? { received: err.received, size: declaration.size, complete: false } : await client.retrying(() => client.status());
          continue;
        }
        if (err instanceof UploadError && err.status === 413 && chunkBytes > MIN_CHUNK) {
          chunkBytes = Math.max(MIN_CHUNK, Math.floor(chunkBytes / 2));
          continue;
        }
        if (!(err instanceof UploadError) || err.status !== 422) throw err;
        if (restarted) throw new UploadError(`the collector refused the whole file twice: ${err.message}`, false, 422);
        restarted = true;
        state = await client.retrying(() => client.declare(declaration));
      }
    }
  } finally {
    closeSync(fd);
  }
}

/** The whole file in one declaring PUT (its SHA-256 is the declared one); null when the collector wants the long way (409, 413). */
async function declaringPut(client: Client, file: string, fd: number, declaration: UploadDeclaration): Promise<UploadState | null> {
  const whole: Region = { file, fd, start: 0, length: declaration.size };
  try {
    return await client.retrying(() => client.put(whole, declaration.size, declaration.sha256, declaration));
  } catch (err) {
    if (err instanceof Conflict || (err instanceof UploadError && err.status === 413)) return null;
    throw err;
  }
}

/** A chunk: `length` bytes of `file` (open as `fd`) from `start`. */
interface Region {
  file: string;
  fd: number;
  start: number;
  length: number;
}

/** Read buffer of a chunk's hash pass and body stream; a chunk up to this size is sent from memory. */
const READ_BYTES = 1024 * 1024;

/** Reads `length` bytes at `position` into `buf` (from 0). */
function readFully(fd: number, buf: Uint8Array, position: number, length: number): void {
  for (let at = 0; at < length;) {
    const n = readSync(fd, buf, at, length - at, position + at);
    if (n === 0) throw new UploadError(`the result file ended at ${position + at} bytes, before the declared size`, false);
    at += n;
  }
}

/** SHA-256 (hex) of a region, read in pieces of at most READ_BYTES. */
function hashRegion(r: Region): string {
  const hash = createHash('sha256');
  const buf = new Uint8Array(Math.min(READ_BYTES, r.length));
  for (let done = 0; done < r.length;) {
    const n = Math.min(buf.length, r.length - done);
    readFully(r.fd, buf, r.start + done, n);
    hash.update(buf.subarray(0, n));
    done += n;
  }
  return hash.digest('hex');
}

/** The body of a chunk: its bytes when small, else a stream over the file region (on a descriptor of its own: destroying a stream closes its descriptor). */
function bodyOf(r: Region): Uint8Array | Readable {
  if (r.length <= READ_BYTES) {
    const bytes = new Uint8Array(r.length);
    readFully(r.fd, bytes, r.start, r.length);
    return bytes;
  }
  return createReadStream(r.file, { start: r.start, end: r.start + r.length - 1, highWaterMark: READ_BYTES });
}

/** An answer: status and body text. */
interface Answer {
  status: number;
  text: string;
}

/**
 * One HTTP exchange over node:http(s): the body piped from the file to the socket. (Through
 * `fetch`, undici copied every piece of a streamed body into a web stream and back: on the heavy
 * bench job that was most of the agent's main-thread CPU and garbage while it uploaded 15 MB.)
 * Rejects on a network error, an answer cut off, or `signal`; a file read error destroys the request.
 */
function exchange(
  url: URL,
  method: string,
  headers: Record<string, string>,
  body: string | Uint8Array | Readable | undefined,
  signal: AbortSignal,
): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method, headers, signal }, (res) => {
      const pieces: Buffer[] = [];
      res.on('data', (piece: Buffer) => pieces.push(piece));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(pieces).toString('utf8') }));
      res.on('error', (err) => reject(new Error(`answer cut off (${err.message})`)));
      res.on('close', () => {
        if (!res.complete) reject(new Error('answer cut off'));
      });
    });
    req.on('error', reject);
    if (body instanceof Readable) {
      // An answer before the whole body (409, 413) ends the exchange; pipeline then stops the file stream too.
      pipeline(body, req).catch((err: Error) => reject(err));
    } else {
      req.end(body);
    }
  });
}

class Client {
  constructor(
    private readonly target: UploadTarget,
    private readonly opts: UploadOptions,
  ) {}

  declare(d: UploadDeclaration): Promise<UploadState> {
    return this.request('POST', { 'Content-Type': 'application/json' }, JSON.stringify(d));
  }

  status(): Promise<UploadState> {
    return this.request('GET', {});
  }

  /** One chunk, streamed from the file; with `declaration` (the chunk is the whole file) it declares the upload too. */
  put(chunk: Region, size: number, sha256: string, declaration?: UploadDeclaration): Promise<UploadState> {
    const end = chunk.start + chunk.length - 1;
    return this.request(
      'PUT',
      {
        'Content-Type': 'application/octet-stream',
        'Content-Length': String(chunk.length),
        'Content-Range': `bytes ${chunk.start}-${end}/${size}`,
        'X-Chunk-SHA256': sha256,
        ...(declaration
          ? {
              'X-Upload-Packets': String(declaration.packets),
              'X-Upload-Bytes': String(declaration.bytes),
              ...(declaration.truncated ? { 'X-Upload-Truncated': declaration.truncated } : {}),
            }
          : {}),
      },
      chunk,
    );
  }

  /**
   * Runs `attempt` until it succeeds, retrying Retryable failures with backoff. After a failure,
   * `resync` (when given) is what is tried next instead: asking where to resume.
   */
  async retrying(attempt: () => Promise<UploadState>, resync?: () => Promise<UploadState>): Promise<UploadState> {
    const base = this.opts.baseBackoffMs ?? 500;
    const cap = this.opts.maxBackoffMs ?? 30_000;
    const maxRetries = this.opts.maxRetries ?? 8;
    let next = attempt;
    for (let failures = 0; ;) {
      try {
        return await next();
      } catch (err) {
        if (!(err instanceof Retryable)) throw err;
        if (++failures > maxRetries) throw new UploadError(`upload failed ${failures} times in a row; last: ${err.message}`, true);
        const ceiling = Math.min(cap, base * 2 ** (failures - 1));
        await sleep(ceiling / 2 + Math.random() * (ceiling / 2), this.opts.signal);
        if (resync) next = resync;
      }
    }
  }

  private async request(method: string, headers: Record<string, string>, body?: string | Region): Promise<UploadState> {
    const signal = this.opts.signal;
    signal?.throwIfAborted();
    const timeout = AbortSignal.timeout(this.opts.requestTimeoutMs ?? 60_000);
    const sent = body === undefined ? undefined : typeof body === 'string' ? body : bodyOf(body);
    const length: Record<string, string> = typeof sent === 'string' ? { 'Content-Length': String(Buffer.byteLength(sent)) } : {};
    let res: Answer;
    try {
      res = await exchange(
        new URL(this.target.url),
        method,
        { ...headers, ...length, Authorization: `Bearer ${this.target.token}` },
        sent,
        signal ? AbortSignal.any([signal, timeout]) : timeout,
      );
    } catch (err) {
      signal?.throwIfAborted();
      const cause = (err as Error & { cause?: Error }).cause;
      throw new Retryable(`${method} ${redact(this.target.url)}: ${(err as Error).message}${cause ? ` (${cause.message})` : ''}`);
    } finally {
      if (sent instanceof Readable) sent.destroy();
    }
    const json = parseJson(res.text);
    const ok = res.status >= 200 && res.status < 300;
    if (ok) return stateOf(json, method);
    const message = errorMessage(json, res.text);
    if (res.status === 409) {
      // A declaration is refused with 409 only when the collector has closed the task.
      if (method === 'POST') throw new UploadError(`the collector refused the declaration (HTTP 409: ${message})`, false, 409);
      throw new Conflict(receivedOf(json), message);
    }
    if (res.status >= 500 || res.status === 429 || res.status === 408) throw new Retryable(`${method}: HTTP ${res.status} ${message}`);
    if (res.status === 401 || res.status === 403) {
      throw new UploadError(`the collector refused the task token (HTTP ${res.status}: ${message}); it expired or belongs to another task`, true, res.status);
    }
    throw new UploadError(`${method} refused: HTTP ${res.status} ${message}`, false, res.status);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function stateOf(json: unknown, method: string): UploadState {
  const o = json as Partial<UploadState> | null;
  if (!o || typeof o.received !== 'number' || (typeof o.size !== 'number' && o.size !== null) || typeof o.complete !== 'boolean') {
    throw new Retryable(`${method}: the collector's answer is not {received, size, complete}`);
  }
  return { received: o.received, size: o.size, complete: o.complete };
}

function receivedOf(json: unknown): number | null {
  const o = json as { received?: unknown; error?: { received?: unknown } } | null;
  const r = o?.received ?? o?.error?.received;
  return typeof r === 'number' && Number.isInteger(r) && r >= 0 ? r : null;
}

function errorMessage(json: unknown, text: string): string {
  const m = (json as { error?: { message?: unknown } } | null)?.error?.message;
  return typeof m === 'string' ? m : text.slice(0, 200);
}

/** The URL without query (a token could hide there) for messages. */
function redact(url: string): string {
  try {
    const u = new URL(url);
    return `${u.origin}${u.pathname}`;
  } catch {
    return '(upload URL)';
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason as Error);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason as Error);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
