/**
 * `pcapmesh db backup` / `db restore` round trips on both backends: users (with preferences),
 * sensors, jobs and the signing keys survive; what changed after the backup is gone after the
 * restore; a file that is not a backup (or of the other backend) is refused before anything changes.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, describe, test } from 'node:test';
import { PGlite } from '@electric-sql/pglite';
import { inCi, requireTool } from '@pcapmesh/shared/util/testing';
import { ensureSecret, loadSecretSet } from '../storage/auth-secrets.repo.js';
import { backupPglite, backupPostgres, BackupError, inspectBackup, restorePglite, restorePostgres } from '../storage/backup.js';
import { openDb, type Db } from '../storage/db.js';
import { findJob, insertJob } from '../storage/jobs.repo.js';
import { migrate } from '../storage/migrate.js';
import { pgliteTemplate } from '../storage/pglite-template.js';
import { deleteUser, insertUser, listUsers, preferencesOf, setPreferences } from '../storage/users.repo.js';
import { insertSensor, listSensors } from '../storage/sensors.repo.js';
import { createTestDatabase, TEST_DATABASE_URL_ENV } from '../testing/databases.js';

const dir = mkdtempSync(join(tmpdir(), 'pcapmesh-backup-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const JOB_ID = randomUUID();

/** Users, a sensor, a job, preferences and a signing key: what a restore must bring back. */
async function populate(db: Db): Promise<void> {
  await insertUser(db, { username: 'alice', role: 'admin', source: 'local', passwordHash: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$aGFzaA' });
  await insertUser(db, { username: 'bob', role: 'viewer', source: 'local', passwordHash: '$argon2id$v=19$m=65536,t=3,p=4$c2FsdA$Ym9i' });
  await setPreferences(db, 'alice', { theme: 'dark', timeZone: 'Europe/Paris' });
  await insertSensor(db, { name: 'edge-1', locationId: null, secretHash: 'sha256:' + 'ab'.repeat(32) });
  await ensureSecret(db, 'jwt', 'signing-key-value');
  await insertJob(db, {
    id: JOB_ID,
    name: 'probe',
    owner: 'alice',
    ownerId: 'user:1',
    windowFrom: '2026-03-01T09:00:00.123456Z',
    windowTo: '2026-03-01T09:10:00.000000Z',
    windowNs: { from: '1772355600123456789', to: '1772356200000000000' },
    filter: { expression: 'tcp port 443' },
    filterExpression: 'tcp port 443',
    targets: { sensors: ['edge-1'] },
    limits: { maxBytes: 1000, maxPackets: 10, timeoutSeconds: 60 },
    plan: { sensors: [] },
    createdAt: new Date('2026-03-01T10:00:00Z'),
    deadlineAt: new Date('2026-03-01T11:00:00Z'),
  });
}

/** Changes after the backup, which the restore must undo. */
async function change(db: Db): Promise<void> {
  await deleteUser(db, 'bob');
  await insertUser(db, { username: 'mallory', role: 'admin', source: 'ldap', passwordHash: null });
  await insertSensor(db, { name: 'edge-2', locationId: null, secretHash: 'sha256:' + 'cd'.repeat(32) });
}

async function assertPopulated(db: Db): Promise<void> {
  assert.deepEqual((await listUsers(db)).map((u) => [u.username, u.role]).sort(), [
    ['alice', 'admin'],
    ['bob', 'viewer'],
  ]);
  assert.deepEqual((await preferencesOf(db, 'alice'))?.preferences, { theme: 'dark', timeZone: 'Europe/Paris' });
  assert.deepEqual(
    (await listSensors(db)).map((s) => s.name),
    ['edge-1'],
  );
  const job = await findJob(db, JOB_ID);
  assert.equal(job?.filterExpression, 'tcp port 443');
  assert.deepEqual(job?.limits, { maxBytes: 1000, maxPackets: 10, timeoutSeconds: 60 });
  assert.equal((await loadSecretSet(db, 'jwt'))?.current, 'signing-key-value');
}

describe('db backup / restore [pglite]', () => {
  const dataDir = join(dir, 'pglite-data');
  const file = join(dir, 'pglite.backup');

  test('a round trip keeps users, sensors, jobs and settings and undoes later changes', async () => {
    // A data directory from the cached initdb dump: initdb itself takes many seconds under load.
    mkdirSync(join(dataDir, 'db'), { recursive: true });
    await (await PGlite.create(join(dataDir, 'db'), { loadDataDir: await pgliteTemplate() })).close();
    let db = await openDb({ dataDir });
    await migrate(db);
    await populate(db);
    await db.close();

    const made = await backupPglite(dataDir, file);
    assert.equal(made.bytes, statSync(file).size);
    assert.equal(statSync(file).mode & 0o777, 0o600, 'a backup holds hashes and keys: owner only');
    const found = inspectBackup(file);
    assert.equal(found.kind, 'pglite');

    db = await openDb({ dataDir });
    await change(db);
    // The collector's lock holds the data directory: neither command touches it meanwhile.
    await assert.rejects(restorePglite(dataDir, file), /db\.lock is locked by process/);
    await db.close();

    const restored = await restorePglite(dataDir, file);
    assert.ok(restored.migrations > 0 && restored.migration !== null);
    assert.ok(restored.previous && existsSync(restored.previous), 'the replaced database is kept aside');
    db = await openDb({ dataDir });
    try {
      await assertPopulated(db);
    } finally {
      await db.close();
    }
  });

  test('restore refuses what is not a pcapmesh backup of the embedded database, and changes nothing', async () => {
    const junk = join(dir, 'notes.txt');
    writeFileSync(junk, 'hello, not a backup\n');
    await assert.rejects(restorePglite(dataDir, junk), (err: Error) => err instanceof BackupError && /notes\.txt is not a pcapmesh backup/.test(err.message));
    const damaged = join(dir, 'damaged.backup');
    writeFileSync(damaged, `PCAPMESH-BACKUP 1\n{"kind":"pglite"}\nnot gzip`);
    await assert.rejects(restorePglite(dataDir, damaged), /damaged pcapmesh backup/);
    const pgArchive = join(dir, 'pg.dump');
    writeFileSync(pgArchive, 'PGDMP\x01\x0e\x00');
    await assert.rejects(restorePglite(dataDir, pgArchive), /is a PostgreSQL backup \(pg_dump\)/);
    await assert.rejects(restorePglite(dataDir, join(dir, 'missing.backup')), /cannot read .*missing\.backup: ENOENT/);
    const db = await openDb({ dataDir });
    try {
      await assertPopulated(db);
    } finally {
      await db.close();
    }
  });

  test('the command line refuses a file that is not a backup with a message naming it', async () => {
    const junk = join(dir, 'junk.bin');
    writeFileSync(junk, 'junk');
    const main = fileURLToPath(new URL('./main.ts', import.meta.url));
    const env: NodeJS.ProcessEnv = { PATH: process.env.PATH, PCAPMESH_DATA_DIR: dataDir, PCAPMESH_LOG__LEVEL: 'silent' };
    const r = await new Promise<{ code: number | null; stderr: string }>((resolve, reject) => {
      const child = spawn(process.execPath, ['--conditions=pcapmesh-src', '--import', import.meta.resolve('tsx'), main, 'db', 'restore', junk], {
        env,
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stderr }));
    });
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /^pcapmesh: .*junk\.bin is not a pcapmesh backup/);
  });
});

describe('db backup / restore [postgres]', () => {
  const url = process.env[TEST_DATABASE_URL_ENV];
  const missing = url ? null : `${TEST_DATABASE_URL_ENV} is not set (scripts/services.sh starts PostgreSQL)`;

  test('a round trip keeps users, sensors, jobs and settings and undoes later changes', { skip: !inCi() && missing ? missing : false }, async (t) => {
    if (missing) throw new Error(`${missing}; CI=true requires PostgreSQL`);
    if (!requireTool(t, 'pg_dump') || !requireTool(t, 'pg_restore') || !requireTool(t, 'psql')) return;
    const target = await createTestDatabase('postgres', { migrate: true });
    try {
      await populate(target.db);
      const file = join(dir, 'pg.backup');
      await backupPostgres(target.url, file);
      assert.equal(inspectBackup(file).kind, 'postgres');
      assert.equal(statSync(file).mode & 0o777, 0o600);
      await change(target.db);

      const restored = await restorePostgres(target.url, file);
      assert.ok(restored.migrations > 0);
      await assertPopulated(target.db);
      // Still a working collector database: migrating again finds everything in place.
      const again = await migrate(target.db);
      assert.equal(again.applied.length, 0);

      // Refused before anything changes: not a backup, the other backend's backup, a pg_dump of another database.
      const junk = join(dir, 'junk.dump');
      writeFileSync(junk, 'SELECT 1;\n');
      await assert.rejects(restorePostgres(target.url, junk), /junk\.dump is not a pcapmesh backup/);
      const embedded = join(dir, 'embedded.backup');
      writeFileSync(embedded, Buffer.concat([Buffer.from('PCAPMESH-BACKUP 1\n{"kind":"pglite"}\n'), Buffer.from([0x1f, 0x8b, 8, 0])]));
      await assert.rejects(restorePostgres(target.url, embedded), /backup of the embedded database \(PGlite\)/);
      const other = await createTestDatabase('postgres', { migrate: false });
      try {
        await other.db.exec('CREATE TABLE notes (id int)');
        const foreign = join(dir, 'foreign.dump');
        await backupPostgres(other.url, foreign);
        await assert.rejects(restorePostgres(target.url, foreign), /not of a pcapmesh database \(it has no schema_migrations table\)/);
      } finally {
        await other.drop();
      }
      await assertPopulated(target.db);
    } finally {
      await target.drop();
    }
  });
});
