/**
 * Test helpers shared by every workspace.
 *
 * House rule: with CI=true a test that lacks what it needs (a binary, a server) FAILS; outside
 * CI it may skip with a clear message.
 */
import { spawnSync } from 'node:child_process';
import { createServer, type AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';

/** True when running in CI (env CI=true or 1). */
export function inCi(): boolean {
  return process.env.CI === 'true' || process.env.CI === '1';
}

/** Absolute path of a program on PATH, or null. */
export function findTool(name: string): string | null {
  const r = spawnSync('sh', ['-c', `command -v "$1"`, 'sh', name], { encoding: 'utf8' });
  const path = r.stdout.trim();
  return r.status === 0 && path ? path : null;
}

/**
 * Returns the tool's path when it is installed. When it is not: in CI throws (the test fails);
 * elsewhere marks the test skipped with a message naming the tool and returns null.
 * @example
 * test('merge equals mergecap', (t) => {
 *   const mergecap = requireTool(t, 'mergecap');
 *   if (!mergecap) return;
 *   ...
 * });
 */
export function requireTool(t: TestContext, name: string): string | null {
  const path = findTool(name);
  if (path) return path;
  const message = `${name} is not installed (apt: scripts/install-deps.sh)`;
  if (inCi()) throw new Error(`${message}; CI=true requires it`);
  t.skip(message);
  return null;
}

/** The repository root (where the root package.json lives). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');

/** Where the team's real-capture corpus is looked for when PCAPMESH_PCAPS is not set, in order. */
const PCAPS_CANDIDATES = [resolve(repoRoot, '../shared/pcaps'), '/work/shared/pcaps'];

/**
 * The shared real-capture corpus: env PCAPMESH_PCAPS, else the first of `../shared/pcaps`
 * relative to the repository root (a checkout beside the team material) and `/work/shared/pcaps`
 * (a clone elsewhere on the team's machine, as CI makes) that holds a MANIFEST.tsv. When none
 * does, the first candidate is returned and the tests that need it report it missing.
 */
export function pcapsDir(): string {
  if (process.env.PCAPMESH_PCAPS) return process.env.PCAPMESH_PCAPS;
  return PCAPS_CANDIDATES.find((dir) => existsSync(join(dir, 'MANIFEST.tsv'))) ?? PCAPS_CANDIDATES[0]!;
}

/**
 * A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). Another process could take
 * it before ours binds, which is unlikely enough on a test machine; ports are never reused by us.
 */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as AddressInfo;
      server.close(() => resolve(port));
    });
  });
}
