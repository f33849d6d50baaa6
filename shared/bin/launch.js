// Starts a workspace command from its compiled output (dist/) when it has been built, or from
// its TypeScript source through tsx when it has not (a fresh checkout, tests, development).
// Set PCAPMESH_FROM_SOURCE=1 to force the source even when dist/ exists.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/**
 * @param {string} binUrl import.meta.url of the calling bin script
 * @param {string} entry path of the entry module below src/ or dist/, without extension (e.g. "cli/main")
 */
export async function launch(binUrl, entry) {
  const root = new URL('../', binUrl);
  const compiled = fileURLToPath(new URL(`dist/${entry}.js`, root));
  if (existsSync(compiled) && process.env.PCAPMESH_FROM_SOURCE !== '1') {
    await import(pathToFileURL(compiled).href);
    return;
  }
  const source = fileURLToPath(new URL(`src/${entry}.ts`, root));
  const result = spawnSync(
    process.execPath,
    ['--conditions=pcapmesh-src', '--import', 'tsx', source, ...process.argv.slice(2)],
    { stdio: 'inherit' },
  );
  if (result.signal) process.kill(process.pid, result.signal);
  process.exit(result.status ?? 1);
}
