/**
 * The dashboard build the collector serves (web/dist), and the initial-JavaScript budget measured
 * on it: the gzip size of the entry chunk(s) index.html loads (lazy chunks excluded).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { repoRoot } from '../integration/harness.js';

export const webDist = join(repoRoot, 'web', 'dist');

/** Builds web/dist when it is missing (`npm run build -w web`). */
export function ensureWebBuild(): void {
  if (existsSync(join(webDist, 'index.html'))) return;
  execFileSync('npm', ['run', 'build', '-w', 'web'], { cwd: repoRoot, stdio: 'inherit' });
}

export interface InitialJs {
  files: string[];
  bytes: number;
  gzipBytes: number;
}

/** Scripts and modulepreloads of index.html: what the browser must load before the first paint. */
export function initialJs(): InitialJs {
  const html = readFileSync(join(webDist, 'index.html'), 'utf8');
  const files = [...html.matchAll(/<(?:script[^>]+src|link[^>]+rel="modulepreload"[^>]+href)="\/([^"]+\.js)"/g)].map((m) => m[1]!);
  let bytes = 0;
  let gzipBytes = 0;
  for (const f of files) {
    const data = readFileSync(join(webDist, f));
    bytes += data.length;
    gzipBytes += gzipSync(data, { level: 9 }).length;
  }
  return { files, bytes, gzipBytes };
}

/** The built chunks whose file name starts with `prefix` (globe.gl-…js), with their gzip size. */
export function lazyChunks(prefix: string): { file: string; bytes: number; gzipBytes: number }[] {
  return readdirSync(join(webDist, 'assets'))
    .filter((f) => f.startsWith(prefix) && f.endsWith('.js'))
    .map((f) => {
      const data = readFileSync(join(webDist, 'assets', f));
      return { file: `assets/${f}`, bytes: data.length, gzipBytes: gzipSync(data, { level: 9 }).length };
    });
}
