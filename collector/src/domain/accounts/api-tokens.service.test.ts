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
import { ApiTokensService, generateApiToken } from './api-tokens.service.js';
import { AuditService } from './audit.service.js';

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

test('a generated token is written once (0600) and stored only as an argon2id hash', async () => {
  const repo = new ApiTokensRepo(db);
  const first = await service().ensureStartToken({ configured: undefined, dataDir: dir });
  assert.equal(first.writtenTo, join(dir, 'api-token'));
  assert.equal(statSync(first.writtenTo).mode & 0o777, 0o600);
  const token = readFileSync(first.writtenTo, 'utf8').trim();
  assert.match(token, /^pmt_[A-Za-z0-9_-]{43}$/);
  const stored = await repo.find('generated');
  assert.match(stored?.tokenHash ?? '', /^\$argon2id\$/);
  assert.ok(!stored?.tokenHash.includes(token));

  const again = await service().ensureStartToken({ configured: undefined, dataDir: dir });
  assert.equal(again.writtenTo, null, 'later starts leave it alone');
  assert.equal((await repo.find('generated'))?.tokenHash, stored?.tokenHash);

  const tokens = service();
  assert.deepEqual(await tokens.authenticate(token), { name: 'generated', role: 'admin' });
  assert.deepEqual(await tokens.authenticate(token), { name: 'generated', role: 'admin' });
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
  assert.deepEqual(await tokens.authenticate(changed), { name: 'config', role: 'admin' });
  assert.equal(await tokens.authenticate(configured), null, 'the old configured token no longer works');
});

test('create shows the token once, keeps names unique and audits; remove audits and unknown names are not_found', async () => {
  const tokens = service();
  const created = await tokens.create({ actor: 'admin1', sourceIp: '192.0.2.7' }, 'grafana', 'viewer');
  assert.equal(created.name, 'grafana');
  assert.equal(created.role, 'viewer');
  assert.deepEqual(await tokens.authenticate(created.token), { name: 'grafana', role: 'viewer' });
  await assert.rejects(tokens.create({ actor: 'admin1' }, 'grafana', 'admin'), (e) => isDomainError(e, 'conflict'));
  assert.ok((await tokens.list()).some((t) => t.name === 'grafana' && t.role === 'viewer'));
  await tokens.remove({ actor: 'admin1' }, 'grafana');
  await assert.rejects(tokens.remove({ actor: 'admin1' }, 'grafana'), (e) => isDomainError(e, 'not_found'));
  const { entries } = await audit.list({ actor: 'admin1', limit: 10 });
  assert.deepEqual(entries.map((e) => [e.action, e.target]).reverse(), [['api-token.create', 'grafana'], ['api-token.delete', 'grafana']]);
  assert.equal(entries.at(-1)?.sourceIp, '192.0.2.7');
});
