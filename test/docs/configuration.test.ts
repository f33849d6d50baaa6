/**
 * Keeps docs/configuration.md true: every key of the collector's and the agent's config schema,
 * and its environment variable, must be listed there.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { envName, leafPaths } from '@pcapmesh/shared/util/config';
import { collectorConfigSchema, ENV_PREFIX } from '../../collector/src/config.js';
import { agentConfigSchema, AGENT_ENV_PREFIX, captureSchema } from '../../agent/src/config.js';

const reference = readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');

function assertListed(key: string, env?: string): void {
  assert.ok(reference.includes(`| \`${key}\` |`), `docs/configuration.md lacks a row for ${key}`);
  if (env !== undefined) assert.ok(reference.includes(`\`${env}\``), `docs/configuration.md lacks ${env} (key ${key})`);
}

test('every collector key is documented with its environment variable', () => {
  for (const path of leafPaths(collectorConfigSchema)) assertListed(path.join('.'), envName(ENV_PREFIX, path));
});

test('every agent key is documented with its environment variable', () => {
  for (const path of leafPaths(agentConfigSchema)) assertListed(path.join('.'), envName(AGENT_ENV_PREFIX, path));
  for (const path of leafPaths(captureSchema)) assertListed(`captures[].${path.join('.')}`);
});
