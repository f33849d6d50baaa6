import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startModuleWorker } from './worker.js';

const ECHO_JS = `import { parentPort, workerData } from 'node:worker_threads';
parentPort.on('message', (m) => parentPort.postMessage({ twice: m * 2, data: workerData }));
`;
const ECHO_TS = `import { parentPort, workerData } from 'node:worker_threads';
parentPort!.on('message', (m: number) => parentPort!.postMessage({ twice: m * 2, data: workerData as string }));
`;

/** A fresh directory that is an ES module package, like the workspaces. */
function esmDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'worker-'));
  writeFileSync(join(dir, 'package.json'), '{ "type": "module" }');
  return dir;
}

async function roundTrip(url: URL): Promise<unknown> {
  const w = startModuleWorker(url, { workerData: 'passed' });
  try {
    w.postMessage(21);
    const [reply] = await once(w, 'message');
    return reply;
  } finally {
    await w.terminate();
  }
}

test('a .js module that exists runs as is; options pass through', async () => {
  const dir = esmDir();
  writeFileSync(join(dir, 'echo.js'), ECHO_JS);
  assert.deepEqual(await roundTrip(pathToFileURL(join(dir, 'echo.js'))), { twice: 42, data: 'passed' });
});

test('without the .js, its TypeScript source runs through tsx in the thread', async () => {
  const dir = esmDir();
  writeFileSync(join(dir, 'echo.ts'), ECHO_TS);
  assert.deepEqual(await roundTrip(pathToFileURL(join(dir, 'echo.js'))), { twice: 42, data: 'passed' });
});

test('neither the module nor its source: an error naming the path', () => {
  const missing = join(mkdtempSync(join(tmpdir(), 'worker-')), 'nope-worker.js');
  assert.throws(() => startModuleWorker(pathToFileURL(missing)), new RegExp(`worker module not found: ${missing.replace(/[.]/g, '\\.')}`));
});
