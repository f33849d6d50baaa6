/**
 * Serves the dashboard build (web/dist) at `/`, after the API routes.
 *
 * Contract:
 * - only GET and HEAD, never under `/api` (those fall through to the API's 404);
 * - an existing file is served with its content type; files under `/assets/` whose names carry a
 *   build hash (`index-DvkdGNt-.js`) are `Cache-Control: public, max-age=31536000, immutable`,
 *   everything else `no-cache` (revalidated by ETag, so a new build shows at once);
 * - any other path is the single-page app: `index.html` (no-cache) — except a missing `/assets/…`
 *   file, which is a 404 (HTML served as a script would only confuse the browser);
 * - paths are decoded and resolved inside the root; `..`, NUL bytes and bad escapes get 400/404
 *   and never leave the root;
 * - when the build is missing, pages answer 503 naming the fix (`npm run build -w web`).
 *
 * Files are read whole (a dashboard build is a few hundred KB).
 *
 * @example
 *   app.use(serveWeb({ root: deps.webRoot ?? defaultWebRoot() }));
 */
import { readFile, stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MiddlewareHandler } from 'hono';
import type { AppEnv } from './env.js';
import { errorResponse } from './errors.js';

/** web/dist of this repository, resolved from the collector package (src/ and dist/ alike). */
export function defaultWebRoot(): string {
  return fileURLToPath(new URL('../../../web/dist', import.meta.url));
}

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.map': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.jpeg': 'image/jpeg',
  '.webp': 'image/webp',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export const IMMUTABLE = 'public, max-age=31536000, immutable';
export const NO_CACHE = 'no-cache';

/** Vite's hashed asset names: `<name>-<8+ base64url chars>.<ext>`. */
const HASHED_ASSET = /^\/assets\/[^/]+-[A-Za-z0-9_-]{8,}\.[a-z0-9]+$/;

export interface ServeWebOptions {
  /** Directory of the build (index.html + assets/). */
  root: string;
}

export function serveWeb(opts: ServeWebOptions): MiddlewareHandler<AppEnv> {
  const root = resolve(opts.root);
  const counters = { served: 0, fallbacks: 0 };

  async function fileAt(path: string): Promise<{ file: string; size: number; mtimeMs: number } | null> {
    const file = resolve(root, `.${path}`);
    if (file !== root && !file.startsWith(root + sep)) return null;
    try {
      const s = await stat(file);
      return s.isFile() ? { file, size: s.size, mtimeMs: s.mtimeMs } : null;
    } catch {
      return null;
    }
  }

  return async (c, next) => {
    const method = c.req.method;
    const path = c.req.path;
    if ((method !== 'GET' && method !== 'HEAD') || path === '/api' || path.startsWith('/api/')) return next();

    let decoded: string;
    try {
      decoded = decodeURIComponent(path);
    } catch {
      return errorResponse(c, 400, 'invalid', 'malformed percent-encoding in the path');
    }
    if (decoded.includes('\0')) return errorResponse(c, 400, 'invalid', 'NUL byte in the path');

    let found = decoded.endsWith('/') ? null : await fileAt(decoded);
    let cache = found && HASHED_ASSET.test(decoded) ? IMMUTABLE : NO_CACHE;
    if (!found) {
      if (decoded.startsWith('/assets/')) return errorResponse(c, 404, 'not_found', `no such asset: ${decoded}`);
      found = await fileAt('/index.html');
      cache = NO_CACHE;
      if (!found) {
        return errorResponse(c, 503, 'unavailable', 'the dashboard is not built: run `npm run build -w web` (or set http.webRoot)');
      }
      counters.fallbacks += 1;
    }

    const etag = `W/"${found.size.toString(16)}-${Math.floor(found.mtimeMs).toString(16)}"`;
    const headers = {
      'content-type': CONTENT_TYPES[extname(found.file).toLowerCase()] ?? 'application/octet-stream',
      'cache-control': cache,
      etag,
    };
    if (c.req.header('if-none-match') === etag) return c.body(null, 304, headers);
    counters.served += 1;
    const withLength = { ...headers, 'content-length': String(found.size) };
    if (method === 'HEAD') return c.body(null, 200, withLength);
    return c.body(new Uint8Array(await readFile(found.file)), 200, withLength);
  };
}
