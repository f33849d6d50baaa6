import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachDatabase } from '../testing/databases.js';
import type { Queryable } from './db.js';
import { appliedMigrations, migrate, readMigrations, resetDatabase } from './migrate.js';

/** Everything the migrations define, as comparable text: columns, constraints, indexes, partitions. */
async function schemaDump(db: Queryable): Promise<string> {
  const columns = await db.query<{ line: string }>(
    `SELECT table_name || '.' || column_name || ' ' || data_type || ' ' || is_nullable || ' ' || coalesce(column_default, '') AS line
       FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY 1`,
  );
  const constraints = await db.query<{ line: string }>(
    `SELECT conrelid::regclass::text || ' ' || conname || ' ' || pg_get_constraintdef(oid) AS line
       FROM pg_constraint WHERE connamespace = current_schema()::regnamespace ORDER BY 1`,
  );
  const indexes = await db.query<{ line: string }>(
    `SELECT indexname || ' ' || indexdef AS line FROM pg_indexes WHERE schemaname = current_schema() ORDER BY 1`,
  );
  const partitions = await db.query<{ line: string }>(
    `SELECT c.relname || ' ' || pg_get_expr(c.relpartbound, c.oid) AS line FROM pg_class c
      WHERE c.relispartition AND c.relnamespace = current_schema()::regnamespace ORDER BY 1`,
  );
  return [...columns, ...constraints, ...indexes, ...partitions].map((r) => r.line).join('\n');
}

forEachDatabase(
  'migrations',
  (ctx) => {
    test('apply from zero, record every file, and a second run changes nothing', async () => {
      const files = readMigrations();
      assert.ok(files.length >= 3);
      const first = await migrate(ctx.db);
      assert.deepEqual(
        first.applied.map((m) => m.version),
        files.map((m) => m.version),
      );
      const rows = await appliedMigrations(ctx.db);
      assert.deepEqual(
        rows.map((r) => [r.version, r.name, r.checksum]),
        files.map((m) => [m.version, m.name, m.checksum]),
      );
      assert.ok(rows.every((r) => r.appliedAt instanceof Date));

      const before = await schemaDump(ctx.db);
      for (const table of [
        'locations',
        'sensors',
        'devices',
        'sensor_status_history',
        'health_samples',
        'traffic_samples',
        'maintenance_operations',
        'api_tokens',
      ]) {
        assert.match(before, new RegExp(`^${table}\\.`, 'm'), `table ${table} exists`);
      }
      const second = await migrate(ctx.db);
      assert.equal(second.applied.length, 0);
      assert.equal(second.skipped, files.length);
      assert.equal(await schemaDump(ctx.db), before);
      assert.deepEqual(await appliedMigrations(ctx.db), rows);
    });

    test('concurrent runs (several collectors starting at once) apply each migration once', async () => {
      const fresh = await ctx.fresh();
      try {
        const results = await Promise.all([migrate(fresh.db), migrate(fresh.db), migrate(fresh.db)]);
        const files = readMigrations();
        assert.equal(
          results.reduce((n, r) => n + r.applied.length, 0),
          files.length,
        );
        assert.deepEqual(
          (await appliedMigrations(fresh.db)).map((r) => r.version),
          files.map((m) => m.version),
        );
      } finally {
        await fresh.drop();
      }
    });

    test('an applied file that changed is refused, naming it', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mig-'));
      writeFileSync(join(dir, '0001_first.sql'), 'CREATE TABLE mig_probe (id int);');
      const fresh = await ctx.fresh();
      try {
        await migrate(fresh.db, dir);
        writeFileSync(join(dir, '0001_first.sql'), 'CREATE TABLE mig_probe (id bigint);');
        await assert.rejects(migrate(fresh.db, dir), /migration 0001_first\.sql was changed after it was applied/);
      } finally {
        await fresh.drop();
      }
    });

    test('a failing migration rolls back entirely and names the file', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'mig-'));
      writeFileSync(join(dir, '0001_ok.sql'), 'CREATE TABLE mig_ok (id int);');
      writeFileSync(join(dir, '0002_bad.sql'), 'CREATE TABLE mig_half (id int);\nCREATE TABLE mig_ok (id int);');
      const fresh = await ctx.fresh();
      try {
        await assert.rejects(migrate(fresh.db, dir), /migration 0002_bad\.sql failed: .*mig_ok/);
        assert.deepEqual(
          (await appliedMigrations(fresh.db)).map((r) => r.version),
          [1],
        );
        const half = await fresh.db.query(`SELECT 1 FROM pg_class WHERE relname = 'mig_half'`);
        assert.equal(half.length, 0, 'the first statement of the failed file was rolled back');
      } finally {
        await fresh.drop();
      }
    });

    test('reset drops everything; migrating again rebuilds the same schema', async () => {
      const fresh = await ctx.fresh({ migrate: true });
      try {
        const built = await schemaDump(fresh.db);
        await fresh.db.query(`INSERT INTO locations (name) VALUES ('lab')`);
        await resetDatabase(fresh.db);
        assert.equal(await schemaDump(fresh.db), '');
        await migrate(fresh.db);
        assert.equal(await schemaDump(fresh.db), built);
        assert.deepEqual(await fresh.db.query('SELECT * FROM locations'), []);
      } finally {
        await fresh.drop();
      }
    });
  },
  { migrate: false },
);

test('bad migration file names and duplicate versions are errors', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mig-'));
  writeFileSync(join(dir, '1_short.sql'), 'SELECT 1;');
  assert.throws(() => readMigrations(dir), /1_short\.sql is not named NNNN_lowercase_name\.sql/);
  const dup = mkdtempSync(join(tmpdir(), 'mig-'));
  writeFileSync(join(dup, '0001_a.sql'), 'SELECT 1;');
  writeFileSync(join(dup, '0001_b.sql'), 'SELECT 1;');
  assert.throws(() => readMigrations(dup), /0001_a\.sql and 0001_b\.sql share version 1/);
});
