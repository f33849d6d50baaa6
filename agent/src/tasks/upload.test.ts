import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UploadError, uploadFile, type UploadDeclaration } from './upload.js';
import { UploadServer } from './upload-server.fixture.js';

const CHUNK = 64 * 1024;

async function withServer(fn: (server: UploadServer, file: string, declaration: UploadDeclaration) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'agent-upload-'));
  const server = new UploadServer();
  await server.start();
  try {
    const bytes = randomBytes(5 * CHUNK + 1234);
    const file = join(dir, 'r.pcap');
    writeFileSync(file, bytes);
    const declaration = { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), packets: 10, bytes: 1000 };
    await fn(server, file, declaration);
  } finally {
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

const fast = { chunkBytes: CHUNK, baseBackoffMs: 10, maxBackoffMs: 50 };

test('declare, then chunks with Content-Range and X-Chunk-SHA256 until complete; progress after each', async () => {
  await withServer(async (server, file, declaration) => {
    server.tokens.set('t1', 'secret-token');
    const progress: number[] = [];
    await uploadFile(file, declaration, { url: server.url('t1'), token: 'secret-token' }, { ...fast, onProgress: (r) => progress.push(r) });
    const held = server.uploads.get('t1')!;
    assert.equal(held.complete, true);
    assert.equal(createHash('sha256').update(held.data).digest('hex'), declaration.sha256);
    assert.deepEqual(server.log, ['POST 200', ...[0, 1, 2, 3, 4, 5].map((i) => `PUT 200 ${i * CHUNK}`)]);
    assert.deepEqual(progress, [0, 1, 2, 3, 4, 5].map((i) => i * CHUNK).concat(declaration.size));
  });
});

test('resumes from what the collector already holds (declaring the same file again)', async () => {
  await withServer(async (server, file, declaration) => {
    await uploadFile(file, declaration, { url: server.url('t2'), token: 'x' }, fast);
    const held = server.uploads.get('t2')!;
    // The collector kept three chunks of an earlier, cut upload.
    held.data = held.data.subarray(0, 3 * CHUNK);
    held.complete = false;
    server.log.length = 0;
    await uploadFile(file, declaration, { url: server.url('t2'), token: 'x' }, fast);
    assert.deepEqual(server.log, ['POST 200', `PUT 200 ${3 * CHUNK}`, `PUT 200 ${4 * CHUNK}`, `PUT 200 ${5 * CHUNK}`]);
    assert.equal(held.declarations, 2);
    assert.equal(server.uploads.get('t2')!.complete, true);
  });
});

test('409 continues from the offset in the answer; 5xx and cut connections are retried, asking GET where to resume', async () => {
  await withServer(async (server, file, declaration) => {
    await uploadFile(file, declaration, { url: server.url('t3'), token: 'x' }, { ...fast, chunkBytes: 10 * CHUNK });
    server.uploads.get('t3')!.data = server.uploads.get('t3')!.data.subarray(0, 2 * CHUNK);
    server.uploads.get('t3')!.complete = false;
    server.log.length = 0;
    // The agent thinks 0 (a stale GET would say so): the 409 says 2 chunks.
    server.fault({ method: 'POST', kind: 'status', status: 503 });
    server.fault({ method: 'PUT', kind: 'conflict', received: 2 * CHUNK });
    server.fault({ method: 'PUT', kind: 'cut' });
    server.fault({ method: 'PUT', kind: 'status', status: 502 });
    await uploadFile(file, declaration, { url: server.url('t3'), token: 'x' }, fast);
    assert.deepEqual(server.log, [
      'POST 503',
      'POST 200',
      'PUT 409',
      'PUT cut',
      'GET 200',
      'PUT 502',
      'GET 200',
      `PUT 200 ${2 * CHUNK}`,
      `PUT 200 ${3 * CHUNK}`,
      `PUT 200 ${4 * CHUNK}`,
      `PUT 200 ${5 * CHUNK}`,
    ]);
    assert.equal(createHash('sha256').update(server.uploads.get('t3')!.data).digest('hex'), declaration.sha256);
  });
});

test('a refused token fails at once, transient; a refused declaration (task closed) fails; repeated 5xx give up after maxRetries, transient', async () => {
  await withServer(async (server, file, declaration) => {
    server.tokens.set('t4', 'right');
    await assert.rejects(
      uploadFile(file, declaration, { url: server.url('t4'), token: 'wrong' }, fast),
      (err: unknown) =>
        err instanceof UploadError && err.transient && err.status === 401 && /refused the task token/.test(err.message) && !err.message.includes('wrong'),
    );
    server.fault({ method: 'POST', kind: 'conflict', received: 0 });
    await assert.rejects(
      uploadFile(file, declaration, { url: server.url('t4b'), token: 'x' }, fast),
      (err: unknown) => err instanceof UploadError && !err.transient && err.status === 409 && /refused the declaration/.test(err.message),
    );
    server.fault({ method: 'POST', kind: 'status', status: 500 }, 4);
    await assert.rejects(
      uploadFile(file, declaration, { url: server.url('t5'), token: 'x' }, { ...fast, maxRetries: 3 }),
      (err: unknown) => err instanceof UploadError && err.transient && /failed 4 times in a row; last: POST: HTTP 500/.test(err.message),
    );
  });
});

test('422 (whole-file mismatch) starts again from 0 once, then fails for good', async () => {
  await withServer(async (server, file, declaration) => {
    server.corruptNextFile = 1;
    await uploadFile(file, declaration, { url: server.url('t6'), token: 'x' }, { ...fast, chunkBytes: 4 * CHUNK });
    assert.deepEqual(server.log, ['POST 200', 'PUT 200 0', `PUT 422 ${4 * CHUNK}`, 'POST 200', 'PUT 200 0', `PUT 200 ${4 * CHUNK}`]);
    assert.equal(server.uploads.get('t6')!.complete, true);
    server.corruptNextFile = 2;
    await assert.rejects(
      uploadFile(file, declaration, { url: server.url('t7'), token: 'x' }, { ...fast, chunkBytes: 4 * CHUNK }),
      (err: unknown) => err instanceof UploadError && !err.transient && /refused the whole file twice/.test(err.message),
    );
  });
});

test('an abort stops the upload at once with the abort reason', async () => {
  await withServer(async (server, file, declaration) => {
    const controller = new AbortController();
    server.onPut = (_task, start) => {
      if (start >= 2 * CHUNK) controller.abort(new Error('cancelled by the analyst'));
    };
    await assert.rejects(
      uploadFile(file, declaration, { url: server.url('t8'), token: 'x' }, { ...fast, signal: controller.signal }),
      /cancelled by the analyst/,
    );
    assert.ok(server.uploads.get('t8')!.data.length <= 3 * CHUNK);
  });
});

test('413 (chunk over the collector limit): the chunk is halved until it fits', async () => {
  await withServer(async (server, file, declaration) => {
    server.maxChunkBytes = 2 * CHUNK;
    await uploadFile(file, declaration, { url: server.url('t9'), token: 'x' }, { ...fast, chunkBytes: 8 * CHUNK });
    // The whole file would fit in one chunk: the declaring PUT is refused first, then the long way.
    assert.deepEqual(server.log.slice(0, 5), ['PUT 413 0', 'POST 200', 'PUT 413 0', 'PUT 413 0', 'PUT 200 0']);
    assert.equal(createHash('sha256').update(server.uploads.get('t9')!.data).digest('hex'), declaration.sha256);
  });
});

test('409 on every chunk without an offset in the answer (the collector closed the task) fails after a few tries instead of looping', async () => {
  await withServer(async (server, file, declaration) => {
    server.fault({ method: 'PUT', kind: 'status', status: 409 }, 1000);
    await assert.rejects(
      uploadFile(file, declaration, { url: server.url('t409'), token: 'x' }, fast),
      (err: unknown) => err instanceof UploadError && err.status === 409 && /keeps refusing the chunk at 0/.test(err.message),
    );
    const puts = server.log.filter((l) => l.startsWith('PUT')).length;
    assert.ok(puts <= 5, `gave up after ${puts} PUTs`);
  });
});

test('a result that fits in one chunk goes in one declaring PUT; a collector holding part of it, or one that takes no declaring PUT, gets the long way', async () => {
  await withServer(async (server, file, declaration) => {
    const whole = { ...fast, chunkBytes: 8 * CHUNK };
    const truncated = { ...declaration, truncated: 'max-packets' as const };
    await uploadFile(file, truncated, { url: server.url('one'), token: 'x' }, whole);
    assert.deepEqual(server.log, ['PUT 200 0 declaring']);
    const held = server.uploads.get('one')!;
    assert.equal(held.complete, true);
    assert.deepEqual(held.declared, { size: declaration.size, sha256: declaration.sha256, packets: 10, bytes: 1000, truncated: 'max-packets' });
    // Sent again (a lost answer): the collector answers complete without taking the bytes twice.
    server.log.length = 0;
    await uploadFile(file, truncated, { url: server.url('one'), token: 'x' }, whole);
    assert.deepEqual(server.log, ['PUT 200 0 declaring']);
    assert.equal(held.declarations, 2);

    // The collector holds two chunks of an earlier upload of the same file: 409 with received, then POST and on from there.
    held.data = held.data.subarray(0, 2 * CHUNK);
    held.complete = false;
    server.log.length = 0;
    await uploadFile(file, truncated, { url: server.url('one'), token: 'x' }, whole);
    assert.deepEqual(server.log, ['PUT 409 0', 'POST 200', `PUT 200 ${2 * CHUNK}`]);
    assert.equal(createHash('sha256').update(held.data).digest('hex'), declaration.sha256);

    server.declaringPuts = false;
    server.log.length = 0;
    await uploadFile(file, declaration, { url: server.url('old'), token: 'x' }, whole);
    assert.deepEqual(server.log, ['PUT 409', 'POST 200', 'PUT 200 0']);
    assert.equal(server.uploads.get('old')!.complete, true);
  });
});

test('chunks over 1 MiB are streamed from the file: a streamed declaring PUT, then streamed chunks, then the file is still readable', async () => {
  await withServer(async (server, _file, _declaration) => {
    const dir = mkdtempSync(join(tmpdir(), 'agent-upload-big-'));
    try {
      const bytes = randomBytes(3 * 1024 * 1024 + 777);
      const file = join(dir, 'big.pcap');
      writeFileSync(file, bytes);
      const declaration = { size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), packets: 1, bytes: 1 };
      await uploadFile(file, declaration, { url: server.url('big1'), token: 'x' }, { ...fast, chunkBytes: 4 * 1024 * 1024 });
      await uploadFile(file, declaration, { url: server.url('big2'), token: 'x' }, { ...fast, chunkBytes: 2 * 1024 * 1024 });
      assert.deepEqual(server.log, ['PUT 200 0 declaring', 'POST 200', 'PUT 200 0', `PUT 200 ${2 * 1024 * 1024}`]);
      for (const task of ['big1', 'big2']) assert.ok(server.uploads.get(task)!.data.equals(bytes), task);
      // Nothing of the streams is left to close (a stream closing a shared descriptor crashed the agent once).
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
