/**
 * Acceptance: "A config file with a bad key: exit non-zero, naming the key" — for both programs,
 * run as real processes exactly as an operator would start them.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_MAIN, COLLECTOR_MAIN, NODE_TS_ARGS, describeExit, integrationTest, type TestScope } from './harness.js';

async function runWithConfig(scope: TestScope, name: string, main: string, args: string[], config: unknown): Promise<{ code: number | null; output: string }> {
  const file = join(scope.dir, `${name}.yaml`);
  writeFileSync(file, JSON.stringify(config, null, 2));
  const proc = scope.spawn({ name, command: process.execPath, args: [...NODE_TS_ARGS, main, ...args, '--config', file], cwd: scope.dir });
  const timer = setTimeout(() => proc.killGroup(), 180_000);
  const exit = await proc.exited;
  clearTimeout(timer);
  assert.equal(exit.signal, null, `${name} was killed (${describeExit(exit)}), it should exit by itself:\n${proc.tail()}`);
  return { code: exit.code, output: proc.output() };
}

integrationTest('collector: a config file with bad keys exits non-zero naming every one', async (scope) => {
  const { code, output } = await runWithConfig(scope, 'collector', COLLECTOR_MAIN, ['collector'], {
    dataDir: join(scope.dir, 'data'),
    http: { port: 18080, prot: 8080 },
    colour: 'blue',
    ingest: { healthIntervalSeconds: 'often' },
  });
  assert.notEqual(code, 0, `expected a non-zero exit, got ${code}:\n${output}`);
  assert.match(output, /http\.prot/, `the unknown key http.prot is not named:\n${output}`);
  assert.match(output, /colour/, `the unknown key colour is not named:\n${output}`);
  assert.match(output, /ingest\.healthIntervalSeconds/, `the bad value of ingest.healthIntervalSeconds is not named:\n${output}`);
  assert.doesNotMatch(output, /^\s+at .+\(.*:\d+:\d+\)$/m, `a config error should be a message, not a stack trace:\n${output}`);
});

integrationTest('agent: a config file with bad keys exits non-zero naming every one', async (scope) => {
  const { code, output } = await runWithConfig(scope, 'agent', AGENT_MAIN, [], {
    name: 'alpha',
    mqtt: { url: 'mqtt://127.0.0.1:1', passwrd: 'x' },
    stateDir: join(scope.dir, 'state'),
    intervals: { healthSeconds: 1, everySecond: true },
  });
  assert.notEqual(code, 0, `expected a non-zero exit, got ${code}:\n${output}`);
  assert.match(output, /mqtt\.passwrd/, `the unknown key mqtt.passwrd is not named:\n${output}`);
  assert.match(output, /intervals\.everySecond/, `the unknown key intervals.everySecond is not named:\n${output}`);
  assert.doesNotMatch(output, /^\s+at .+\(.*:\d+:\d+\)$/m, `a config error should be a message, not a stack trace:\n${output}`);
});

integrationTest('collector: a valid config file is accepted (the bad-key test is not vacuous)', async (scope) => {
  // `pcapmesh db migrate` loads and validates the same configuration, then exits.
  const { code, output } = await runWithConfig(scope, 'collector-valid', COLLECTOR_MAIN, ['db', 'migrate'], {
    dataDir: join(scope.dir, 'data'),
    http: { port: 18080 },
  });
  assert.equal(code, 0, `a valid configuration was refused:\n${output}`);
});
