/**
 * Acceptance: "Migrations apply from zero on PGlite and PostgreSQL 15; applying again changes
 * nothing" — through the operator's command, `pcapmesh db migrate`, run twice on an empty database
 * of each backend. "Changes nothing" is checked on a fingerprint of the schema (tables, columns,
 * indexes, constraints, partitions) and the schema_migrations rows.
 */
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BACKENDS, Collector, describeExit, integrationTest, prepareBackend, repoRoot } from './harness.js';
import type { Db } from '../../collector/src/storage/db.js';

async function fingerprint(db: Db): Promise<unknown> {
  return {
    columns: await db.query(
      `SELECT table_name, column_name, data_type, is_nullable, column_default
         FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
    ),
    indexes: await db.query(`SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname`),
    constraints: await db.query(
      `SELECT conrelid::regclass::text AS rel, conname, pg_get_constraintdef(oid) AS def
         FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY rel, conname`,
    ),
    relations: await db.query(
      `SELECT c.relname, c.relkind::text AS kind FROM pg_class c
         WHERE c.relnamespace = 'public'::regnamespace ORDER BY c.relname`,
    ),
    migrations: await db.query('SELECT * FROM schema_migrations ORDER BY version'),
  };
}

const migrationFiles = readdirSync(join(repoRoot, 'sql'))
  .filter((f) => /^\d{4}_.+\.sql$/.test(f))
  .sort();

for (const backendName of BACKENDS) {
  integrationTest(`migrations: from zero, then again changes nothing [${backendName}]`, async (scope) => {
    const backend = await prepareBackend(scope, backendName);
    if (!backend) return;
    const collector = await Collector.create(scope, { backend });

    const first = await collector.cli(['db', 'migrate']);
    assert.equal(first.exit.code, 0, `first db migrate failed (${describeExit(first.exit)}):\n${first.output}`);
    for (const file of migrationFiles) assert.match(first.output, new RegExp(`applied ${file.replace('.', '\\.')}`), `${file} applied`);
    let db = await backend.openDb(collector.dataDir);
    const before = await fingerprint(db).finally(() => db.close());

    const second = await collector.cli(['db', 'migrate']);
    assert.equal(second.exit.code, 0, `second db migrate failed (${describeExit(second.exit)}):\n${second.output}`);
    assert.match(second.output, new RegExp(`^0 migration\\(s\\) applied, ${migrationFiles.length} already in place`, 'm'));
    db = await backend.openDb(collector.dataDir);
    const after = await fingerprint(db).finally(() => db.close());
    assert.deepEqual(after, before, 'a second migrate changed the schema');
  });
}
