// Bundles the compiled `pcapmesh-pcap` command line (shared/dist, from `tsc -b`) into
// shared/dist/bundle/: one entry module plus a chunk per command, loaded on demand.
//
// Why: Node 20 spends ~1 ms per ES module resolving and compiling it; the extract command
// imports about forty. Bundled, `pcapmesh-pcap extract` starts ~45 ms sooner (bench/README.md,
// "indexed extract"), which is most of a selective extract's own work.
//
// The extract worker is an entry of its own beside the chunks, so the pool's
// `new URL('./extract-worker.js', import.meta.url)` finds it from whichever chunk holds the pool.
//
//   node shared/scripts/bundle-cli.js [DIST_DIR]   (default: shared/dist; run by `npm run build`)
import { build } from 'esbuild';
import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const dist = resolve(process.argv[2] ?? fileURLToPath(new URL('../dist', import.meta.url)));
const entry = join(dist, 'cli/pcap.js');
if (!existsSync(entry)) {
  console.error(`bundle-cli: ${entry} is missing: compile shared/ first (tsc -b shared)`);
  process.exit(1);
}
const outdir = join(dist, 'bundle');
rmSync(outdir, { recursive: true, force: true });
await build({
  entryPoints: { 'pcapmesh-pcap': entry, 'extract-worker': join(dist, 'pcap/extract-worker.js') },
  outdir,
  bundle: true,
  splitting: true,
  format: 'esm',
  platform: 'node',
  target: 'node20',
  sourcemap: true,
  logLevel: 'warning',
});
