import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { forEachDatabase } from '../../testing/databases.js';
import { isDomainError } from '../errors.js';
import { UsersService } from './users.service.js';

const log = pino({ level: 'silent' });

forEachDatabase('users service', (ctx) => {
  test('first start creates admin once, with a generated password when none is configured', async () => {
    const users = new UsersService({ db: ctx.db, log });
    const first = await users.ensureFirstAdmin(undefined);
    assert.equal(first.created, true);
    assert.match(first.generatedPassword ?? '', /^[\w-]{24}$/);
    assert.deepEqual(await users.verifyPassword('admin', first.generatedPassword!), { username: 'admin', role: 'admin' });
    assert.deepEqual(await users.ensureFirstAdmin('another-password'), { created: false, generatedPassword: null });
    const [row] = await ctx.db.query<{ h: string }>("SELECT password_hash AS h FROM users WHERE username = 'admin'");
    assert.match(row!.h, /^\$argon2id\$/, 'argon2id hash stored, never the password');
  });

  test('create, verify, passwd, disable; bad input is named; duplicates conflict', async () => {
    const users = new UsersService({ db: ctx.db, log });
    await users.create({ username: 'ana', role: 'analyst', password: 'correct horse battery' });
    assert.deepEqual(await users.verifyPassword('ana', 'correct horse battery'), { username: 'ana', role: 'analyst' });
    assert.equal(await users.verifyPassword('ana', 'wrong password!'), null);
    assert.equal(await users.verifyPassword('nobody', 'correct horse battery'), null);
    assert.equal(await users.verifyPassword("ana' OR '1'='1", 'x'), null);
    await assert.rejects(users.create({ username: 'ana', role: 'viewer', password: 'whatever-long' }), (e) => isDomainError(e, 'conflict'));
    await assert.rejects(users.create({ username: 'Bad Name', role: 'viewer', password: 'whatever-long' }), /username "Bad Name"/);
    await assert.rejects(users.create({ username: 'bob', role: 'root', password: 'whatever-long' }), /role "root"/);
    await assert.rejects(users.create({ username: 'bob', role: 'viewer', password: 'short' }), /password must be/);
    await users.setPassword('ana', 'a new password here');
    assert.equal(await users.verifyPassword('ana', 'correct horse battery'), null);
    assert.ok(await users.verifyPassword('ana', 'a new password here'));
    await users.update('ana', { disabled: true });
    assert.equal(await users.verifyPassword('ana', 'a new password here'), null, 'disabled users cannot log in');
    assert.equal(await users.current('ana'), null);
    const list = await users.list();
    assert.deepEqual(
      list.map((u) => [u.username, u.role, u.disabled]),
      [
        ['admin', 'admin', false],
        ['ana', 'analyst', true],
      ],
    );
  });

  test('the last enabled admin cannot be disabled, demoted or deleted', async () => {
    const users = new UsersService({ db: ctx.db, log });
    await assert.rejects(users.update('admin', { disabled: true }), /last enabled admin/);
    await assert.rejects(users.update('admin', { role: 'viewer' }), /last enabled admin/);
    await assert.rejects(users.remove('admin'), /last enabled admin/);
    await users.create({ username: 'root2', role: 'admin', password: 'second admin pw' });
    await users.update('admin', { role: 'viewer' });
    assert.equal((await users.get('admin')).role, 'viewer');
    await assert.rejects(users.remove('ghost'), (e) => isDomainError(e, 'not_found'));
  });
});
