/**
 * What an integration test needs from its surroundings, and the house rule for when it is missing:
 * with CI=true the test FAILS; elsewhere it is skipped with a message saying how to get it.
 */
import type { TestContext } from 'node:test';
import { inCi, repoRoot } from '@pcapmesh/shared/util/testing';

export { inCi, repoRoot, requireTool, pcapsDir } from '@pcapmesh/shared/util/testing';

const HOW_TO_START = 'start the test services with `scripts/services.sh start && eval "$(scripts/services.sh env)"`';

/**
 * The value of an environment variable a test depends on (a service URL). When unset: throws in CI,
 * else skips the test and returns null.
 * @example
 *   const url = requireEnv(t, 'PCAPMESH_TEST_DATABASE_URL', 'PostgreSQL');
 *   if (url === null) return;
 */
export function requireEnv(t: TestContext, name: string, what: string): string | null {
  const value = process.env[name];
  if (value !== undefined && value !== '') return value;
  const message = `${what} is not available: ${name} is not set (${HOW_TO_START})`;
  if (inCi()) throw new Error(`${message}; CI=true requires it`);
  t.skip(message);
  return null;
}

/** Where child process logs of integration tests are kept (gitignored), one folder per test. */
export const artifactsRoot = `${repoRoot}/test-artifacts/integration`;

/**
 * Node arguments that run a workspace's TypeScript source directly (no build, no launcher process).
 * tsx is named by absolute URL: `--import tsx` would resolve from the child's cwd (a temp dir).
 */
export const NODE_TS_ARGS = ['--conditions=pcapmesh-src', '--import', import.meta.resolve('tsx')] as const;

export const COLLECTOR_MAIN = `${repoRoot}/collector/src/cli/main.ts`;
export const AGENT_MAIN = `${repoRoot}/agent/src/main.ts`;
