/**
 * The HTTP side of `pcapmesh job …`: where the collector is, the API token, JSON calls that turn
 * an error answer into an ApiError carrying the server's message, and a resumable download.
 *
 * Where: `--url`, else PCAPMESH_URL, else the configuration's HTTP address (http.publicUrl, or
 * http.host/http.port). Token: `--token-file`, else PCAPMESH_TOKEN, else `{dataDir}/api-token`
 * (what the collector writes on its first start). The token is never printed.
 */
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { readFile, rename, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as WebReadableStream } from 'node:stream/web';
import { loadCollectorConfig, publicUrlOf } from '../config.js';
import { API_TOKEN_FILE } from '../domain/accounts/api-tokens.service.js';
import { UsageError } from './context.js';

/** An error answer of the collector: its status, code and message. */
export class ApiError extends Error {
  override name = 'ApiError';
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

export interface Connection {
  /** Base URL of the collector (no trailing slash, no /api/v1). */
  url: string;
  token: string;
}

export interface ConnectionOptions {
  url?: string | undefined;
  tokenFile?: string | undefined;
  config?: string | undefined;
}

/** The collector's base URL: --url, PCAPMESH_URL, or the configuration's HTTP address. */
export function collectorUrl(opts: ConnectionOptions, env: NodeJS.ProcessEnv = process.env): string {
  const url = (opts.url ?? env.PCAPMESH_URL ?? publicUrlOf(loadCollectorConfig({ file: opts.config, env }))).replace(/\/+$/, '');
  if (!/^https?:\/\//.test(url)) throw new UsageError(`--url: expected http://… or https://…, got ${JSON.stringify(url)}`);
  return url;
}

/** Resolves the collector URL and the API token (see the module comment). */
export async function connect(opts: ConnectionOptions, env: NodeJS.ProcessEnv = process.env): Promise<Connection> {
  let config: ReturnType<typeof loadCollectorConfig> | undefined;
  const configOf = () => (config ??= loadCollectorConfig({ file: opts.config, env }));
  const url = collectorUrl(opts, env);
  let token = opts.tokenFile === undefined ? env.PCAPMESH_TOKEN : undefined;
  if (token === undefined) {
    const file = opts.tokenFile ?? join(configOf().dataDir, API_TOKEN_FILE);
    try {
      token = (await readFile(file, 'utf8')).trim();
    } catch (err) {
      throw new UsageError(
        `cannot read the API token from ${file} (${(err as NodeJS.ErrnoException).code ?? String(err)}); give --token-file FILE or set PCAPMESH_TOKEN`,
      );
    }
    if (token === '') throw new UsageError(`the API token file ${file} is empty`);
  }
  return { url, token };
}

async function failure(res: Response, what: string): Promise<ApiError> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: string; message?: string } };
    if (body.error?.message) return new ApiError(res.status, body.error.code ?? 'error', body.error.message);
  } catch {
    // not JSON: fall through
  }
  return new ApiError(res.status, 'error', `${what}: HTTP ${res.status}${text ? ` ${text.slice(0, 200)}` : ''}`);
}

/** A request to `{url}/api/v1{path}` with the bearer token. Network failures name the URL. */
export async function request(
  conn: Connection,
  method: string,
  path: string,
  opts: { body?: unknown; headers?: Record<string, string> } = {},
): Promise<Response> {
  const headers: Record<string, string> = { authorization: `Bearer ${conn.token}`, ...opts.headers };
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const target = `${conn.url}/api/v1${path}`;
  try {
    return await fetch(target, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  } catch (err) {
    throw new Error(`cannot reach the collector at ${conn.url} (${method} ${path})`, { cause: err });
  }
}

/** A JSON call; a non-2xx answer throws ApiError with the server's message. */
export async function call<T>(conn: Connection, method: string, path: string, body?: unknown): Promise<T> {
  const res = await request(conn, method, path, body === undefined ? {} : { body });
  if (!res.ok) throw await failure(res, `${method} ${path}`);
  if (res.status === 204) return undefined as T;
  return (await res.json()) as T;
}

/** A text call (the compact JWS, the JWK Set). */
export async function callText(conn: Connection, path: string): Promise<string> {
  const res = await request(conn, 'GET', path);
  if (!res.ok) throw await failure(res, `GET ${path}`);
  return res.text();
}

export async function sha256OfFile(path: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(path), hash);
  return hash.digest('hex');
}

async function sizeOf(path: string): Promise<number | null> {
  try {
    return (await stat(path)).size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

export interface DownloadOutcome {
  file: string;
  bytes: number;
  /** Bytes that were already there and kept (a resumed download). */
  resumedFrom: number;
  sha256: string;
}

/**
 * Downloads `path` into `file`. A file already there is resumed with `Range: bytes={size}-` and
 * `If-Range: "{sha256}"` (the server sends the whole file again when the result changed); the
 * finished file's SHA-256 must equal `sha256` (the ETag), else it is renamed to `{file}.bad` and
 * the download fails. `sha256` null: nothing to resume against, the file is fetched whole.
 */
export async function download(
  conn: Connection,
  path: string,
  file: string,
  sha256: string | null,
  onProgress: (received: number, total: number | null) => void = () => undefined,
): Promise<DownloadOutcome> {
  const have = sha256 === null ? null : await sizeOf(file);
  const headers: Record<string, string> = have !== null && have > 0 ? { range: `bytes=${have}-`, 'if-range': `"${sha256}"` } : {};
  const res = await request(conn, 'GET', path, { headers });
  let resumedFrom = 0;
  if (res.status === 416) {
    await res.body?.cancel();
    // Nothing past what we have: complete if the hash agrees, else start over.
    if (sha256 !== null && (await sha256OfFile(file)) === sha256) return { file, bytes: have ?? 0, resumedFrom: have ?? 0, sha256 };
    await discard(file);
    return download(conn, path, file, sha256, onProgress);
  }
  if (!res.ok) throw await failure(res, `GET ${path}`);
  if (res.status === 206) resumedFrom = have ?? 0;
  const etag = /^"([0-9a-f]{64})"$/.exec(res.headers.get('etag') ?? '')?.[1] ?? sha256;
  const length = Number(res.headers.get('content-length') ?? NaN);
  const total = Number.isFinite(length) ? resumedFrom + length : null;
  let received = resumedFrom;
  const body = Readable.fromWeb(res.body as WebReadableStream<Uint8Array>);
  body.on('data', (chunk: Buffer) => {
    received += chunk.length;
    onProgress(received, total);
  });
  await pipeline(body, createWriteStream(file, { flags: res.status === 206 ? 'a' : 'w' }));
  const actual = await sha256OfFile(file);
  if (etag !== null && actual !== etag) {
    const bad = await discard(file);
    throw new Error(`${file}: SHA-256 ${actual} differs from the server's ${etag}; moved to ${bad}`);
  }
  return { file, bytes: received, resumedFrom, sha256: actual };
}

/** Moves a file that cannot be resumed or failed its check out of the way; returns where it went. */
async function discard(file: string): Promise<string> {
  const bad = `${file}.bad`;
  await rename(file, bad);
  return bad;
}
