import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ApiTokensRepo } from '../../storage/api-tokens.repo.js';
import { openDb, type Db } from '../../storage/db.js';
import { migrate } from '../../storage/migrate.js';
import { isDomainError } from '../errors.js';
import { hash as argon2Hash } from '@node-rs/argon2';
import { ApiTokensService, generateApiToken } from './api-tokens.service.js';
import { LegacyVerifier, secretHashCounters } from './machine-secrets.js';
import { AuditService } from './audit.service.js';

/** What a token authenticates as, without its numeric id (checked apart). */
const nameRole = (v: { name: string; role: string } | null) => (v === null ? null : { name: v.name, role: v.role });

const log = pino({ level: 'silent' });
let db: Db;
let dir: string;
let audit: AuditService;
const service = () => new ApiTokensService({ db, audit, log });

before(async () => {
  db = await openDb({ url: 'memory://' });
  await migrate(db);
  dir = mkdtempSync(join(tmpdir(), 'pcapmesh-tokens-'));
  audit = new AuditService({ db, log });
});
after(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a generated token is written once (0600) and stored only as its SHA-256', async () => {
  const repo = new ApiTokensRepo(db);
  const first = await service().ensureStartToken({ configured: undefined, dataDir: dir });
  assert.equal(first.writtenTo, join(dir, 'api-token'));
  assert.equal(statSync(first.writtenTo).mode & 0o777, 0o600);
  const token = readFileSync(first.writtenTo, 'utf8').trim();
  assert.match(token, /^pmt_[A-Za-z0-9_-]{43}$/);
  const stored = await repo.find('generated');
  assert.match(stored?.tokenHash ?? '', /^sha256:[0-9a-f]{64}$/);
  assert.ok(!stored?.tokenHash.includes(token));

  const again = await service().ensureStartToken({ configured: undefined, dataDir: dir });
  assert.equal(again.writtenTo, null, 'later starts leave it alone');
  assert.equal((await repo.find('generated'))?.tokenHash, stored?.tokenHash);

  const tokens = service();
  assert.deepEqual(nameRole(await tokens.authenticate(token)), { name: 'generated', role: 'admin' });
  assert.deepEqual(nameRole(await tokens.authenticate(token)), { name: 'generated', role: 'admin' });
  assert.equal(tokens.counters.cached, 1, 'the second check is served from the verified-token cache');
  assert.equal(await tokens.authenticate(generateApiToken()), null);
  assert.equal(await tokens.authenticate('short'), null);
});

test('a configured token is stored under "config" and re-hashed only when it changes', async () => {
  const repo = new ApiTokensRepo(db);
  const configured = 'a-configured-token-0123456789';
  await service().ensureStartToken({ configured, dataDir: dir });
  const hash1 = (await repo.find('config'))?.tokenHash;
  await service().ensureStartToken({ configured, dataDir: dir });
  assert.equal((await repo.find('config'))?.tokenHash, hash1, 'unchanged token: same hash');

  const changed = 'another-configured-token-987654';
  await service().ensureStartToken({ configured: changed, dataDir: dir });
  const tokens = service();
  assert.deepEqual(nameRole(await tokens.authenticate(changed)), { name: 'config', role: 'admin' });
  assert.equal(await tokens.authenticate(configured), null, 'the old configured token no longer works');
});

test('create shows the token once, keeps names unique and audits; remove audits and unknown names are not_found', async () => {
  const tokens = service();
  const created = await tokens.create({ actor: 'admin1', sourceIp: '192.0.2.7' }, 'grafana', 'viewer');
  assert.equal(created.name, 'grafana');
  assert.equal(created.role, 'viewer');
  assert.deepEqual(nameRole(await tokens.authenticate(created.token)), { name: 'grafana', role: 'viewer' });
  assert.equal(
    (await tokens.authenticate(created.token))?.id,
    (await db.query<{ id: number }>("SELECT id FROM api_tokens WHERE name = 'grafana'"))[0]?.id,
    'with its stable id',
  );
  await assert.rejects(tokens.create({ actor: 'admin1' }, 'grafana', 'admin'), (e) => isDomainError(e, 'conflict'));
  assert.ok((await tokens.list()).some((t) => t.name === 'grafana' && t.role === 'viewer'));
  await tokens.remove({ actor: 'admin1' }, 'grafana');
  await assert.rejects(tokens.remove({ actor: 'admin1' }, 'grafana'), (e) => isDomainError(e, 'not_found'));
  const { entries } = await audit.list({ actor: 'admin1', limit: 10 });
  assert.deepEqual(entries.map((e) => [e.action, e.target]).reverse(), [
    ['api-token.create', 'grafana'],
    ['api-token.delete', 'grafana'],
  ]);
  assert.equal(entries.at(-1)?.sourceIp, '192.0.2.7');
});

test('junk bearers cost no argon2, however many tokens are stored; created tokens are SHA-256', async () => {
  const tokens = service();
  const created = [];
  for (let i = 0; i < 5; i += 1) created.push(await tokens.create({ actor: 'admin1' }, `junk-test-${i}`, 'viewer'));
  const repo = new ApiTokensRepo(db);
  for (const c of created) assert.match((await repo.find(c.name))?.tokenHash ?? '', /^sha256:[0-9a-f]{64}$/);
  const before = secretHashCounters.argon2;
  for (let i = 0; i < 60; i += 1) {
    assert.equal(await tokens.authenticate(i % 2 ? generateApiToken() : `junk-bearer-value-${i}`), null);
  }
  assert.equal(secretHashCounters.argon2, before, 'no argon2 for 60 junk bearers');
  assert.deepEqual(nameRole(await service().authenticate(created[3]!.token)), { name: 'junk-test-3', role: 'viewer' });
  for (const c of created) await tokens.remove({ actor: 'admin1' }, c.name);
});

test('a legacy argon2 token still works, once within the legacy budget, and is rewritten as SHA-256', async () => {
  const repo = new ApiTokensRepo(db);
  const old = generateApiToken();
  assert.ok(await repo.insert('legacy', await argon2Hash(old), 'analyst'));
  // The budget is per second on a clock of the test's own: argon2 checks on a loaded machine can
  // take longer than a second and would refill it.
  let clock = 1_000_000;
  const tokens = new ApiTokensService({ db, audit, log, legacy: new LegacyVerifier(3, () => clock) });
  const before = secretHashCounters.argon2;
  assert.equal(await tokens.authenticate('not-shaped-like-a-generated-token'), null);
  assert.equal(secretHashCounters.argon2, before, 'only a generated-shape token is tried against legacy rows');
  for (let i = 0; i < 10; i += 1) assert.equal(await tokens.authenticate(generateApiToken()), null);
  assert.equal(secretHashCounters.argon2, before + 3, 'junk of the generated shape: at most the budget (3 a second)');
  assert.equal(await tokens.authenticate(old), null, 'over budget: refused unchecked');
  clock += 1_050;
  assert.deepEqual(nameRole(await tokens.authenticate(old)), { name: 'legacy', role: 'analyst' });
  assert.equal(tokens.counters.upgraded, 1);
  assert.match((await repo.find('legacy'))?.tokenHash ?? '', /^sha256:[0-9a-f]{64}$/);
  const fresh = new ApiTokensService({ db, audit, log, legacy: new LegacyVerifier(0) });
  assert.deepEqual(nameRole(await fresh.authenticate(old)), { name: 'legacy', role: 'analyst' }, 'now found by SHA-256, no argon2 needed');
  assert.equal(await fresh.authenticate(generateApiToken()), null);
  assert.equal(secretHashCounters.argon2, before + 4);
  await tokens.remove({ actor: 'admin1' }, 'legacy');
});
