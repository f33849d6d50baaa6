// Starts a workspace command from its compiled output (dist/) when it has been built, or from
// its TypeScript source through tsx when it has not (a fresh checkout, tests, development).
// Set PCAPMESH_FROM_SOURCE=1 to force the source even when dist/ exists.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * @param {string} binUrl import.meta.url of the calling bin script
 * @param {string} entry path of the entry module below src/ or dist/, without extension (e.g. "cli/main")
 * @param {string} [bundled] name of the bundled entry in dist/bundle/ (built by shared/scripts/bundle-cli.js),
 *   preferred over dist/<entry>.js: it starts faster
 */
export async function launch(binUrl, entry, bundled) {
  const root = new URL('../', binUrl);
  const candidates = [...(bundled ? [`dist/bundle/${bundled}.js`] : []), `dist/${entry}.js`];
  const compiled = candidates.map((c) => fileURLToPath(new URL(c, root))).find((path) => existsSync(path));
  if (compiled && process.env.PCAPMESH_FROM_SOURCE !== '1') {
    await import(pathToFileURL(compiled).href);
    return;
  }
  const source = fileURLToPath(new URL(`src/${entry}.ts`, root));
  const child = spawn(
    process.execPath,
    ['--conditions=pcapmesh-src', '--import', 'tsx', source, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  // Forward stop signals so the command can shut down cleanly (SIGKILL cannot be forwarded).
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
