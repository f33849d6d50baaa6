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

/** Where the benches' compiled copy of shared/ lives (see `pcapCli`). */
export const sharedDist = join(dataDir, 'shared-dist');

/**
 * The `pcapmesh-pcap` entry the bin runs after `npm run build` — the bundle of the compiled
 * CLI — built from the current sources into bench/data/shared-dist (tsc, then
 * shared/scripts/bundle-cli.js) so benches never measure tsx compiling at start nor a stale
 * shared/dist. Built once per bench process.
 */
export function pcapCli(): string {
  const entry = join(sharedDist, 'bundle/pcapmesh-pcap.js');
  if (!built) {
    console.error('compiling shared/ for the bench…');
    const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
    const steps = [
      [
        tsc,
        '-p',
        join(repoRoot, 'shared/tsconfig.json'),
        '--outDir',
        sharedDist,
        '--composite',
        'false',
        '--incremental',
        'false',
        '--declaration',
        'false',
        '--sourceMap',
        'false',
      ],
      [join(repoRoot, 'shared/scripts/bundle-cli.js'), sharedDist],
    ];
    for (const args of steps) {
      const r = spawnSync(process.execPath, args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`building the bench's pcapmesh-pcap failed: ${r.stdout}${r.stderr}`);
    }
    if (!existsSync(entry)) throw new Error(`building the bench's pcapmesh-pcap left no ${entry}`);
    built = true;
  }
  return entry;
}
let built = false;
