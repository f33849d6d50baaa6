// `npm run bench [-- NAME...]`: runs the benchmark scripts one after another with their default
// arguments (each prints its markdown table; see bench/README.md), or only those named.
// The figures depend on the machine being otherwise idle: run them alone.
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const benchDir = dirname(fileURLToPath(import.meta.url));
/** In the order of bench/README.md; the slow ones (tshark, 8 GiB of tcpdump) last. */
const ALL = [
  ['reader', []],
  ['merge', []],
  ['sidecar', []],
  ['extract-scan', []],
  ['extract-indexed', ['5', '1']],
  ['extract-indexed', ['5', '8']],
  ['broker', []],
  ['login-throttle', []],
  ['login-spray', []],
  ['job-e2e', []],
  ['network', []],
  ['fleet', []],
  ['analyze', []],
  ['faults', []],
];

const wanted = process.argv.slice(2);
const unknown = wanted.filter((name) => !ALL.some(([n]) => n === name));
if (unknown.length > 0) {
  console.error(`unknown bench: ${unknown.join(', ')} (known: ${[...new Set(ALL.map(([n]) => n))].join(', ')})`);
  process.exit(2);
}
let failed = 0;
for (const [name, args] of ALL) {
  if (wanted.length > 0 && !wanted.includes(name)) continue;
  console.log(`\n## bench/${name}.ts ${args.join(' ')}\n`);
  const r = spawnSync(process.execPath, ['--conditions=pcapmesh-src', '--import', 'tsx', join(benchDir, `${name}.ts`), ...args], {
    stdio: 'inherit',
    cwd: dirname(benchDir),
  });
  if (r.status !== 0) {
    console.error(`bench/${name}.ts failed (exit ${r.status ?? r.signal})`);
    failed++;
  }
}
process.exitCode = failed > 0 ? 1 : 0;
