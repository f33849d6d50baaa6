// Starts a workspace command from its compiled output (dist/) when it has been built, or from
// its TypeScript source through tsx when it has not (a fresh checkout, tests, development).
// Set PCAPMESH_FROM_SOURCE=1 to force the source even when dist/ exists.
//
// `entryArgs` is the one place that decides between the two: the bin scripts use it through
// `launch`, and `pcapmesh standalone` (collector/src/cli/standalone.ts) to spawn its agent.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';

/** tsx's loader as an absolute URL (a child's working directory then does not matter). */
function tsxLoader() {
  try {
    return import.meta.resolve('tsx');
  } catch {
    return 'tsx';
  }
}

/**
 * Node arguments that run a workspace's entry module.
 * @param {string | URL} workspaceRoot URL of the workspace folder, ending in "/" (e.g. new URL('../', binUrl))
 * @param {string} entry path of the entry module below src/ or dist/, without extension (e.g. "cli/main")
 * @param {string} [bundled] name of the bundled entry in dist/bundle/ (built by shared/scripts/bundle-cli.js),
 *   preferred over dist/<entry>.js: it starts faster
 * @returns {{ compiled: boolean, args: string[] }} `compiled`: args is [the built module's path]; else the
 *   tsx arguments and the source path
 */
export function entryArgs(workspaceRoot, entry, bundled) {
  const root = new URL(workspaceRoot);
  const candidates = [...(bundled ? [`dist/bundle/${bundled}.js`] : []), `dist/${entry}.js`];
  const built = candidates.map((c) => fileURLToPath(new URL(c, root))).find((path) => existsSync(path));
  if (built && process.env.PCAPMESH_FROM_SOURCE !== '1') return { compiled: true, args: [built] };
  const source = fileURLToPath(new URL(`src/${entry}.ts`, root));
  return { compiled: false, args: ['--conditions=pcapmesh-src', '--import', tsxLoader(), source] };
}

/**
 * @param {string} binUrl import.meta.url of the calling bin script
 * @param {string} entry see entryArgs
 * @param {string} [bundled] see entryArgs
 */
export async function launch(binUrl, entry, bundled) {
  const { compiled, args } = entryArgs(new URL('../', binUrl), entry, bundled);
  if (compiled) {
    await import(pathToFileURL(args[0]).href);
    return;
  }
  const child = spawn(process.execPath, [...args, ...process.argv.slice(2)], { stdio: 'inherit' });
  // Forward stop signals so the command can shut down cleanly (SIGKILL cannot be forwarded).
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => child.kill(sig));
  child.on('exit', (code, signal) => {
    if (signal) {
      process.removeAllListeners(signal);
      process.kill(process.pid, signal);
    } else process.exit(code ?? 1);
  });
}
