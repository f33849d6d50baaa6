import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino } from 'pino';
import { openCache } from '../cache/store.js';
import { createAccounts, type Accounts } from '../domain/accounts/accounts.js';
import { isDomainError } from '../domain/errors.js';
import type { Db } from '../storage/db.js';
import { createTestDatabase, type TestDatabase } from '../testing/databases.js';
import { forEachCache } from '../testing/caches.js';
import { runUserCommand } from './user.js';

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
    const rows = list.stdout
      .trim()
      .split('\n')
      .slice(1)
      .map((l) => l.split('\t').slice(0, 4));
    assert.deepEqual(rows, [
      ['ana', 'analyst', 'local', 'enabled'],
      ['vic', 'viewer', 'local', 'disabled'],
    ]);
    const ghost = await pcapmesh(dir, ['user', 'passwd', 'ghost']);
    assert.equal(ghost.code, 1);
    assert.match(ghost.stderr, /user ghost not found/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

forEachCache('pcapmesh user passwd | disable end the sessions', (ctx) => {
  const log = pino({ level: 'silent' });
  const config = { accessTokenMinutes: 15, refreshTokenDays: 7, maxFailuresPerUser: 5, maxFailuresPerAddress: 50, lockoutSeconds: 900 };
  let database: TestDatabase;
  // The running collector's accounts and the command's: with Redis two stores (two processes) on one namespace.
  let collector: Accounts;
  let cli: Accounts;
  let closeCli: () => Promise<void> = async () => undefined;
  const accountsOver = async (db: Db, cache: typeof ctx.cache) => createAccounts({ db, cache, log, config });

  before(async () => {
    database = await createTestDatabase('pglite', { migrate: true });
    collector = await accountsOver(database.db, ctx.cache);
    if (ctx.kind === 'redis') {
      const cache = await openCache({ url: ctx.url, keyPrefix: ctx.keyPrefix });
      closeCli = () => cache.close();
      cli = await accountsOver(database.db, cache);
    } else {
      cli = await accountsOver(database.db, ctx.cache);
    }
    await collector.users.create({ username: 'ana', role: 'analyst', password: 'ana password 1' });
  });
  after(async () => {
    await closeCli();
    await database.drop();
  });

  const refused = (p: Promise<unknown>) => assert.rejects(p, (e) => isDomainError(e, 'unauthenticated'));

  test('passwd: the old refresh token stops working, the new password signs in; audited as cli', async () => {
    const before = await collector.auth.login('ana', 'ana password 1', '192.0.2.1');
    const out: string[] = [];
    await runUserCommand(cli, 'passwd', 'ana', {}, 'ana password 2', (t) => out.push(t));
    assert.deepEqual(out, ['password of ana changed\n']);
    await refused(collector.auth.refresh(before.refreshToken, '192.0.2.1'));
    const after = await collector.auth.login('ana', 'ana password 2', '192.0.2.1');
    assert.ok((await collector.auth.refresh(after.refreshToken, '192.0.2.1')).accessToken);
    const { entries } = await collector.audit.list({ actor: 'cli', limit: 10 });
    assert.deepEqual(
      entries.map((e) => [e.action, e.target, e.details]),
      [['user.update', 'ana', { password: 'changed' }]],
    );
  });

  test('disable: the session ends; enable lets the user sign in again', async () => {
    const session = await collector.auth.login('ana', 'ana password 2', '192.0.2.1');
    await runUserCommand(cli, 'disable', 'ana', {}, null, () => undefined);
    await refused(collector.auth.refresh(session.refreshToken, '192.0.2.1'));
    await runUserCommand(cli, 'enable', 'ana', {}, null, () => undefined);
    assert.ok((await collector.auth.login('ana', 'ana password 2', '192.0.2.1')).accessToken);
  });
});
