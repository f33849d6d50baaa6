/**
 * Bench input data under bench/data/ (gitignored), generated once with the deterministic
 * traffic generator and reused while its size still fits.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeCapture } from '@pcapmesh/shared/pcap/gen/output';
import type { GenOptions } from '@pcapmesh/shared/pcap/gen/generator';

export const benchRoot = dirname(dirname(fileURLToPath(import.meta.url)));
export const repoRoot = dirname(benchRoot);
export const dataDir = join(benchRoot, 'data');

/** bench/data/<name>, generated with `opts` unless a file of at least `opts.bytes` already exists. */
export function generated(name: string, opts: GenOptions & { bytes: number }): string {
  mkdirSync(dataDir, { recursive: true });
  const path = join(dataDir, name);
  if (existsSync(path) && statSync(path).size >= opts.bytes) return path;
  console.error(`generating ${path} (${(opts.bytes / 1e6).toFixed(0)} MB)…`);
  writeCapture(path, opts);
  return path;
}

/**
 * The compiled `pcapmesh-pcap` entry (what the bin runs after `npm run build`), built from the
 * current sources into bench/data/shared-dist so benches never measure tsx compiling at start
 * nor a stale shared/dist. Built once per bench process.
 */
export function pcapCli(): string {
  const outDir = join(dataDir, 'shared-dist');
  if (!built) {
    console.error('compiling shared/ for the bench…');
    const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
    const r = spawnSync(process.execPath, [tsc, '-p', join(repoRoot, 'shared/tsconfig.json'), '--outDir', outDir,
      '--composite', 'false', '--incremental', 'false', '--declaration', 'false', '--sourceMap', 'false'], { encoding: 'utf8' });
    const entry = join(outDir, 'cli/pcap.js');
    if (!existsSync(entry)) throw new Error(`compiling shared/ failed: ${r.stdout}${r.stderr}`);
    built = true;
  }
  return join(outDir, 'cli/pcap.js');
}
let built = false;
