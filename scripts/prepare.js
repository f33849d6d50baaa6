// npm's `prepare` hook (runs after `npm ci` / `npm install` in this repository): what `npm run build`
// does — compile shared, agent and collector (`tsc -b`, incremental: seconds when nothing changed),
// bundle `pcapmesh-pcap`, build the dashboard (vite, a few seconds) — so the commands in
// node_modules/.bin start from dist/ right after the install instead of from the TypeScript sources
// through tsx (`pcapmesh-pcap info` ~0.2 s instead of ~1.2 s, `pcapmesh` and `pcapmesh-agent` 1–3 s
// sooner), and `pcapmesh standalone` serves the dashboard.
//
// It never fails the install: a type error or a production install without TypeScript
// (`npm prune --omit=dev`) is reported and the commands keep running from the sources; `npm run build`
// and `npm test` report a type error as an error. PCAPMESH_SKIP_PREPARE=1 skips it.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = fileURLToPath(new URL('../node_modules/typescript/bin/tsc', import.meta.url));
const bundle = fileURLToPath(new URL('../shared/scripts/bundle-cli.js', import.meta.url));
/** npm itself (npm_execpath when npm runs this script), for the dashboard's build script. */
const npm = process.env.npm_execpath ? [process.execPath, process.env.npm_execpath] : ['npm'];

function skip(why) {
  console.warn(
    `prepare: ${why}: nothing built; pcapmesh, pcapmesh-agent and pcapmesh-pcap run from an earlier build's dist/ if there is one, else from the TypeScript sources`,
  );
  process.exit(0);
}

if (process.env.PCAPMESH_SKIP_PREPARE === '1') skip('PCAPMESH_SKIP_PREPARE=1');
if (!existsSync(tsc)) skip('TypeScript is not installed (production install), nothing compiled');
const started = Date.now();
for (const [what, command] of [
  ['tsc -b shared agent collector', [process.execPath, tsc, '-b', 'shared', 'agent', 'collector']],
  ['bundle pcapmesh-pcap', [process.execPath, bundle]],
  ['dashboard build', [...npm, 'run', 'build', '--silent', '-w', 'web']],
]) {
  const r = spawnSync(command[0], command.slice(1), { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.warn(
      `prepare: ${what} failed (${r.error?.message ?? `exit ${r.status ?? r.signal}`}); the commands run from what was compiled, or from the sources, until \`npm run build\` succeeds`,
    );
    process.exit(0);
  }
}
console.log(`prepare: built in ${((Date.now() - started) / 1000).toFixed(1)} s (shared, agent, collector, pcapmesh-pcap bundle, dashboard)`);
