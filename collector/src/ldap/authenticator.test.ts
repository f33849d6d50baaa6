import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { inCi } from '@pcapmesh/shared/util/testing';
import { MemoryCache } from '../cache/memory.js';
import { createAccounts } from '../domain/accounts/accounts.js';
import { UsersService } from '../domain/accounts/users.service.js';
import { openDb, type Db } from '../storage/db.js';
import { migrate } from '../storage/migrate.js';
import { escapeFilterValue, LdapAuthenticator, type LdapConfig } from './authenticator.js';

// scripts/services.sh starts slapd with the test directory and prints this variable.
const url = process.env.PCAPMESH_TEST_LDAP_URL;
const missing = url ? null : 'PCAPMESH_TEST_LDAP_URL is not set (scripts/services.sh start; eval "$(scripts/services.sh env)")';
const log = pino({ level: 'silent' });

const config = (over: Partial<LdapConfig> = {}): LdapConfig => ({
  url: url!,
  userDnTemplate: 'uid={username},ou=people,dc=pcapmesh,dc=test',
  groupBaseDn: 'ou=groups,dc=pcapmesh,dc=test',
  groupFilter: '(member={dn})',
  groupRoles: { 'cn=admins,ou=groups,dc=pcapmesh,dc=test': 'admin', 'CN=Analysts, OU=groups,dc=pcapmesh,dc=test': 'analyst' },
  timeoutMs: 3000,
  ...over,
});

test('filter values are RFC 4515-escaped', () => {
  assert.equal(escapeFilterValue('a*b(c)d\\e\0'), 'a\\2ab\\28c\\29d\\5ce\\00');
});

if (missing) {
  if (inCi()) test('LDAP against slapd', () => assert.fail(`${missing}; CI=true requires slapd`));
  else test('LDAP against slapd', { skip: missing }, () => undefined);
} else {
  let db: Db;
  let users: UsersService;
  before(async () => {
    db = await openDb({ url: 'memory://' });
    await migrate(db);
    users = new UsersService({ db, log });
  });
  after(() => db.close());

  test('bind with group → role mapping; LDAP users are created on first login with source ldap', async () => {
    const ldap = new LdapAuthenticator(config(), users, log);
    assert.deepEqual(await ldap.authenticate('alice', 'alice-password'), { username: 'alice', role: 'analyst' });
    assert.deepEqual(await ldap.authenticate('bob', 'bob-password'), { username: 'bob', role: 'admin' });
    const alice = await users.get('alice');
    assert.deepEqual([alice.source, alice.role], ['ldap', 'analyst']);
    assert.equal(await users.verifyPassword('alice', 'alice-password'), null, 'no local password is kept');
  });

  test('refused: wrong or empty password, filter/DN injection, no mapped group without defaultRole, disabled locally', async () => {
    const ldap = new LdapAuthenticator(config(), users, log);
    assert.equal(await ldap.authenticate('alice', 'wrong-password'), null);
    assert.equal(await ldap.authenticate('alice', ''), null, 'never an anonymous bind');
    assert.equal(await ldap.authenticate('*)(uid=*', 'alice-password'), null);
    assert.equal(await ldap.authenticate('alice,ou=people', 'alice-password'), null);
    assert.equal(await ldap.authenticate('carol', 'carol-password'), null, 'carol is in no mapped group');
    const withDefault = new LdapAuthenticator(config({ defaultRole: 'viewer' }), users, log);
    assert.deepEqual(await withDefault.authenticate('carol', 'carol-password'), { username: 'carol', role: 'viewer' });
    await users.update('carol', { disabled: true });
    assert.equal(await withDefault.authenticate('carol', 'carol-password'), null);
    const unreachable = new LdapAuthenticator(config({ url: 'ldap://127.0.0.1:1', timeoutMs: 500 }), users, log);
    assert.equal(await unreachable.authenticate('alice', 'alice-password'), null);
    assert.equal(unreachable.counters.errors, 1);
  });

  test('login through the session service falls back to LDAP and issues tokens with the mapped role', async () => {
    const cache = new MemoryCache('ldap-test:');
    const accounts = await createAccounts({
      db,
      cache,
      log,
      config: { accessTokenMinutes: 15, refreshTokenDays: 7, maxFailuresPerUser: 5, maxFailuresPerAddress: 50, lockoutSeconds: 60 },
      ldap: (u) => new LdapAuthenticator(config(), u, log),
    });
    const session = await accounts.auth.login('bob', 'bob-password', '127.0.0.1');
    assert.deepEqual(session.user, { username: 'bob', role: 'admin' });
    assert.deepEqual(await accounts.access.verify(session.accessToken), { username: 'bob', role: 'admin' });
    await assert.rejects(accounts.auth.login('bob', 'nope', '127.0.0.1'), /wrong username or password/);
    await cache.close();
  });
}
