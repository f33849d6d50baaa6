import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import { ApiTokensRepo } from '../storage/api-tokens.repo.js';
import { openDb, type Db } from '../storage/db.js';
import { migrate } from '../storage/migrate.js';
import { ApiTokenVerifier, ensureApiToken, generateApiToken } from './api-tokens.js';

const log = pino({ level: 'silent' });
let db: Db;
let dir: string;

before(async () => {
  db = await openDb({ url: 'memory://' });
  await migrate(db);
  dir = mkdtempSync(join(tmpdir(), 'pcapmesh-tokens-'));
});
after(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a generated token is written once (0600) and stored only as an argon2id hash', async () => {
  const repo = new ApiTokensRepo(db);
  const first = await ensureApiToken(repo, { configured: undefined, dataDir: dir, log });
  assert.equal(first.writtenTo, join(dir, 'api-token'));
  assert.equal(statSync(first.writtenTo).mode & 0o777, 0o600);
  const token = readFileSync(first.writtenTo, 'utf8').trim();
  assert.match(token, /^pmt_[A-Za-z0-9_-]{43}$/);
  const stored = await repo.find('generated');
  assert.match(stored?.tokenHash ?? '', /^\$argon2id\$/);
  assert.ok(!stored?.tokenHash.includes(token));

  const again = await ensureApiToken(repo, { configured: undefined, dataDir: dir, log });
  assert.equal(again.writtenTo, null, 'later starts leave it alone');
  assert.equal((await repo.find('generated'))?.tokenHash, stored?.tokenHash);

  const verifier = new ApiTokenVerifier(repo, log);
  assert.deepEqual(await verifier.verify(token), { kind: 'api-token', name: 'generated', role: 'admin' });
  assert.deepEqual(await verifier.verify(token), { kind: 'api-token', name: 'generated', role: 'admin' });
  assert.equal(verifier.counters.cached, 1, 'the second check is served from the verified-token cache');
  assert.equal(await verifier.verify(generateApiToken()), null);
  assert.equal(await verifier.verify('short'), null);
});

test('a configured token is stored under "config" and re-hashed only when it changes', async () => {
  const repo = new ApiTokensRepo(db);
  const configured = 'a-configured-token-0123456789';
  await ensureApiToken(repo, { configured, dataDir: dir, log });
  const hash1 = (await repo.find('config'))?.tokenHash;
  await ensureApiToken(repo, { configured, dataDir: dir, log });
  assert.equal((await repo.find('config'))?.tokenHash, hash1, 'unchanged token: same hash');

  const changed = 'another-configured-token-987654';
  await ensureApiToken(repo, { configured: changed, dataDir: dir, log });
  const verifier = new ApiTokenVerifier(repo, log);
  assert.deepEqual(await verifier.verify(changed), { kind: 'api-token', name: 'config', role: 'admin' });
  assert.equal(await verifier.verify(configured), null, 'the old configured token no longer works');
});
