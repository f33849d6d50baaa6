import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { pino } from 'pino';
import { inCi } from '@pcapmesh/shared/util/testing';
import { MemoryCache } from '../cache/memory.js';
import { createAccounts } from '../domain/accounts/accounts.js';
import { UsersService } from '../domain/accounts/users.service.js';
import { openDb, type Db } from '../storage/db.js';
import { migrate } from '../storage/migrate.js';
import { Attribute, Change, Client } from 'ldapts';
import { collectorConfig } from '../config.js';
import { DomainError } from '../domain/errors.js';
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
  // The test slapd speaks plain LDAP on loopback.
  allowPlain: true,
  ...over,
});

test('plain ldap:// is refused unless StartTLS or allowPlain; an unreadable CA file is named', () => {
  const base = { ...config(), url: 'ldap://directory.example:389' };
  assert.throws(
    () => new LdapAuthenticator({ ...base, allowPlain: false }, { upsertLdap: () => Promise.reject(new Error('unused')) }, log),
    /ldap:\/\/ without StartTLS sends passwords in clear/,
  );
  assert.doesNotThrow(
    () => new LdapAuthenticator({ ...base, allowPlain: false, startTls: true }, { upsertLdap: () => Promise.reject(new Error('unused')) }, log),
  );
  assert.doesNotThrow(
    () =>
      new LdapAuthenticator({ ...base, url: 'ldaps://directory.example', allowPlain: false }, { upsertLdap: () => Promise.reject(new Error('unused')) }, log),
  );
  assert.throws(
    () => new LdapAuthenticator({ ...base, caFile: '/nonexistent/ca.pem' }, { upsertLdap: () => Promise.reject(new Error('unused')) }, log),
    /auth\.ldap\.caFile: cannot read \/nonexistent\/ca\.pem/,
  );
  const ldap = { url: 'ldap://directory.example', userDnTemplate: 'uid={username},dc=x', groupBaseDn: 'dc=x' };
  assert.throws(() => collectorConfig({ auth: { ldap } }), /auth\.ldap\.url: ldap:\/\/ without StartTLS/);
  assert.equal(collectorConfig({ auth: { ldap: { ...ldap, startTls: true } } }).auth.ldap?.recheckMinutes, 5);
  assert.equal(collectorConfig({ auth: { ldap: { ...ldap, allowPlain: true } } }).auth.ldap?.allowPlain, true);
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

  test('StartTLS is attempted before any bind (this slapd has no TLS: the login fails, counted as an error)', async () => {
    const ldap = new LdapAuthenticator(config({ startTls: true, allowPlain: false }), users, log);
    assert.equal(await ldap.authenticate('alice', 'alice-password'), null);
    assert.equal(ldap.counters.errors, 1);
  });

  test('a refresh re-checks the directory: role changes apply, a removed user loses every session, an outage is tolerated only briefly', async () => {
    const suffix = Math.random().toString(36).slice(2, 8);
    const uid = `dave${suffix}`;
    const userDn = `uid=${uid},ou=people,dc=pcapmesh,dc=test`;
    const analysts = `cn=ana-${suffix},ou=groups,dc=pcapmesh,dc=test`;
    const admins = `cn=adm-${suffix},ou=groups,dc=pcapmesh,dc=test`;
    const admin = new Client({ url: url! });
    await admin.bind('cn=admin,dc=pcapmesh,dc=test', 'admin-password');
    await admin.add(userDn, { objectClass: 'inetOrgPerson', uid, cn: uid, sn: uid, userPassword: `${uid}-password` });
    await admin.add(analysts, { objectClass: 'groupOfNames', cn: `ana-${suffix}`, member: [userDn, 'cn=nobody'] });
    await admin.add(admins, { objectClass: 'groupOfNames', cn: `adm-${suffix}`, member: 'cn=nobody' });
    let clock = Date.now();
    const cache = new MemoryCache('ldap-recheck:', () => clock);
    const ldapConfig = config({ groupRoles: { [analysts]: 'analyst', [admins]: 'admin' } });
    const accounts = await createAccounts({
      db,
      cache,
      log,
      config: { accessTokenMinutes: 15, refreshTokenDays: 7, maxFailuresPerUser: 5, maxFailuresPerAddress: 50, lockoutSeconds: 60, ldapRecheckMinutes: 1 },
      ldap: (u) => new LdapAuthenticator(ldapConfig, u, log),
    });
    try {
      const first = await accounts.auth.login(uid, `${uid}-password`, '127.0.0.1');
      assert.equal(first.user.role, 'analyst');
      const other = await accounts.auth.login(uid, `${uid}-password`, '127.0.0.2');
      let session = await accounts.auth.refresh(first.refreshToken, '127.0.0.1');
      assert.equal(session.user.role, 'analyst', 'checked: unchanged');

      // Moved to the admins group: the next refresh after the re-check interval carries the new role.
      await admin.modify(admins, [new Change({ operation: 'add', modification: new Attribute({ type: 'member', values: [userDn] }) })]);
      await admin.modify(analysts, [new Change({ operation: 'delete', modification: new Attribute({ type: 'member', values: [userDn] }) })]);
      session = await accounts.auth.refresh(session.refreshToken, '127.0.0.1');
      assert.equal(session.user.role, 'analyst', 'within the interval the directory is not asked');
      clock += 61_000;
      session = await accounts.auth.refresh(session.refreshToken, '127.0.0.1');
      assert.equal(session.user.role, 'admin');
      assert.equal((await accounts.users.get(uid)).role, 'admin');

      // Directory unreachable: tolerated while the last good answer is under 3 intervals old, then refused.
      ldapConfig.url = 'ldap://127.0.0.1:1';
      clock += 61_000;
      session = await accounts.auth.refresh(session.refreshToken, '127.0.0.1');
      assert.equal(session.user.role, 'admin', 'a short outage does not end the session');
      clock += 3 * 61_000;
      await assert.rejects(accounts.auth.refresh(session.refreshToken, '127.0.0.1'), (err) => err instanceof DomainError && err.code === 'unauthenticated');
      ldapConfig.url = url!;

      // Removed from the directory: the refresh is refused and every session of the user ends.
      const again = await accounts.auth.login(uid, `${uid}-password`, '127.0.0.1');
      await admin.del(userDn);
      clock += 61_000;
      await assert.rejects(accounts.auth.refresh(again.refreshToken, '127.0.0.1'), /can no longer sign in/);
      await assert.rejects(accounts.auth.refresh(other.refreshToken, '127.0.0.2'), /log in again|can no longer sign in/);
      const audit = await accounts.audit.list({ action: 'ldap.recheck', limit: 5 });
      assert.ok(audit.entries.some((e) => e.target === uid && e.outcome === 'denied'));
    } finally {
      for (const dn of [admins, analysts, userDn]) await admin.del(dn).catch(() => undefined);
      await admin.unbind();
      await cache.close();
    }
  });
}
