import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const MAIN = fileURLToPath(new URL('./main.ts', import.meta.url));

/** Runs `pcapmesh ARGS` on a data directory of its own, with `stdin` piped in. */
function pcapmesh(dir: string, args: string[], stdin = ''): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, HOME: process.env.HOME, PCAPMESH_DATA_DIR: dir, PCAPMESH_LOG__LEVEL: 'warn' };
    const child = spawn(process.execPath, ['--conditions=pcapmesh-src', '--import', import.meta.resolve('tsx'), MAIN, ...args], { env });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(stdin);
  });
}

test('pcapmesh user add | passwd | disable | list on the embedded database', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-user-'));
  try {
    const add = await pcapmesh(dir, ['user', 'add', 'ana', '--role', 'analyst', '--password-stdin'], 'a fine password\n');
    assert.equal(add.code, 0, add.stderr);
    assert.equal(add.stdout, 'added user ana (role analyst)\n', 'a password from stdin is never echoed');
    const gen = await pcapmesh(dir, ['user', 'add', 'vic']);
    assert.equal(gen.code, 0, gen.stderr);
    assert.match(gen.stdout, /^added user vic \(role viewer\)\npassword: [\w-]{24}\n/);
    const again = await pcapmesh(dir, ['user', 'add', 'ana', '--password-stdin'], 'another password\n');
    assert.equal(again.code, 1);
    assert.match(again.stderr, /user ana already exists/);
    const bad = await pcapmesh(dir, ['user', 'add', 'x', '--role', 'root']);
    assert.equal(bad.code, 2, 'invalid input is a usage error');
    assert.match(bad.stderr, /role "root"/);
    const passwd = await pcapmesh(dir, ['user', 'passwd', 'ana']);
    assert.equal(passwd.code, 0, passwd.stderr);
    assert.match(passwd.stdout, /^password of ana changed\npassword: [\w-]{24}\n/);
    const disable = await pcapmesh(dir, ['user', 'disable', 'vic']);
    assert.equal(disable.stdout, 'user vic disabled\n');
    const list = await pcapmesh(dir, ['user', 'list']);
    assert.equal(list.code, 0, list.stderr);
    const rows = list.stdout.trim().split('\n').slice(1).map((l) => l.split('\t').slice(0, 4));
    assert.deepEqual(rows, [['ana', 'analyst', 'local', 'enabled'], ['vic', 'viewer', 'local', 'disabled']]);
    const ghost = await pcapmesh(dir, ['user', 'passwd', 'ghost']);
    assert.equal(ghost.code, 1);
    assert.match(ghost.stderr, /user ghost not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
