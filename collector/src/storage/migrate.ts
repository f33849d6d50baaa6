/**
 * Forward-only schema migrations: `sql/NNNN_name.sql` applied in version order, each in its own
 * transaction together with its `schema_migrations` row (version, name, checksum, applied_at).
 *
 * - A file already applied is skipped; if its content changed since (checksum mismatch) the run
 *   stops with an error naming the file: applied migrations are never edited, add a new one.
 * - Several collectors starting at once against one PostgreSQL serialise on an advisory lock
 *   and re-check inside it, so each migration runs exactly once.
 * - Bad file names (`.sql` not matching NNNN_name.sql) and duplicate versions are errors.
 */
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Db, Queryable } from './db.js';

/** The repository's migrations directory (same depth from src/storage and dist/storage). */
export const DEFAULT_MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../../sql');

/** Arbitrary constant identifying pcapmesh's migration lock among advisory locks. */
const MIGRATION_LOCK_KEY = 4_242_001;

export interface Migration {
  version: number;
  name: string;
  file: string;
  sql: string;
  checksum: string;
}

export interface MigrateResult {
  /** Versions applied by this run, in order. */
  applied: Migration[];
  /** Versions that were already in place. */
  skipped: number;
}

const FILE_PATTERN = /^(\d{4})_([a-z0-9_]+)\.sql$/;

/** Reads and checks the migration files of `dir`, sorted by version. */
export function readMigrations(dir: string = DEFAULT_MIGRATIONS_DIR): Migration[] {
  let names: string[];
  try {
    names = readdirSync(dir).filter((f) => f.endsWith('.sql'));
  } catch (err) {
    throw new Error(`cannot read migrations directory ${dir}`, { cause: err });
  }
  const byVersion = new Map<number, Migration>();
  for (const file of names) {
    const m = FILE_PATTERN.exec(file);
    if (!m) throw new Error(`migration file ${join(dir, file)} is not named NNNN_lowercase_name.sql`);
    const version = Number(m[1]);
    const sql = readFileSync(join(dir, file), 'utf8');
    const other = byVersion.get(version);
    if (other) throw new Error(`migrations ${other.file} and ${file} share version ${version}`);
    byVersion.set(version, { version, name: m[2]!, file, sql, checksum: sha256(sql) });
  }
  return [...byVersion.values()].sort((a, b) => a.version - b.version);
}

/** Applies every pending migration of `dir`. */
export async function migrate(db: Db, dir: string = DEFAULT_MIGRATIONS_DIR): Promise<MigrateResult> {
  const migrations = readMigrations(dir);
  await db.transaction(async (tx) => {
    await lock(tx);
    await tx.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
      version    integer PRIMARY KEY,
      name       text NOT NULL,
      checksum   text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
  });
  const applied: Migration[] = [];
  let skipped = 0;
  for (const migration of migrations) {
    const ran = await db.transaction(async (tx) => {
      await lock(tx);
      const [done] = await tx.query<{ checksum: string }>('SELECT checksum FROM schema_migrations WHERE version = $1', [migration.version]);
      if (done) {
        if (done.checksum !== migration.checksum) {
          throw new Error(
            `migration ${migration.file} was changed after it was applied (checksum ${done.checksum.slice(0, 12)}… in the database, ${migration.checksum.slice(0, 12)}… on disk); add a new migration instead`,
          );
        }
        return false;
      }
      try {
        await tx.exec(migration.sql);
      } catch (err) {
        throw new Error(`migration ${migration.file} failed: ${(err as Error).message}`, { cause: err });
      }
      await tx.query('INSERT INTO schema_migrations (version, name, checksum) VALUES ($1, $2, $3)', [migration.version, migration.name, migration.checksum]);
      return true;
    });
    if (ran) applied.push(migration);
    else skipped += 1;
  }
  return { applied, skipped };
}

/** The recorded migrations, by version. */
export async function appliedMigrations(db: Queryable): Promise<{ version: number; name: string; checksum: string; appliedAt: Date }[]> {
  return db.query('SELECT version, name, checksum, applied_at AS "appliedAt" FROM schema_migrations ORDER BY version');
}

/**
 * Drops every table, view, sequence, function and type of the current schema (what
 * `pcapmesh db reset --force` does before migrating again). Irreversible.
 */
export async function resetDatabase(db: Db): Promise<void> {
  await db.transaction(async (tx) => {
    await lock(tx);
    // Views, then tables (CASCADE takes partitions, identity sequences and dependants along), then
    // whatever sequences are left: each query sees what the previous drops left behind.
    for (const kinds of [['v', 'm'], ['r', 'p'], ['S']]) {
      const objects = await tx.query<{ kind: string; name: string }>(
        `SELECT CASE c.relkind WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'S' THEN 'SEQUENCE' ELSE 'TABLE' END AS kind,
                quote_ident(c.relname) AS name
           FROM pg_class c
          WHERE c.relnamespace = current_schema()::regnamespace AND c.relkind = ANY ($1) AND NOT c.relispartition`,
        [kinds],
      );
      for (const o of objects) await tx.exec(`DROP ${o.kind} IF EXISTS ${o.name} CASCADE`);
    }
    const functions = await tx.query<{ signature: string }>(
      `SELECT p.oid::regprocedure::text AS signature FROM pg_proc p
        WHERE p.pronamespace = current_schema()::regnamespace
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')`,
    );
    for (const f of functions) await tx.exec(`DROP ROUTINE IF EXISTS ${f.signature} CASCADE`);
    const types = await tx.query<{ name: string }>(
      `SELECT quote_ident(t.typname) AS name FROM pg_type t
        WHERE t.typnamespace = current_schema()::regnamespace AND t.typtype IN ('e', 'd', 'c', 'r')
          AND (t.typtype <> 'c' OR (SELECT c.relkind FROM pg_class c WHERE c.oid = t.typrelid) = 'c')
          AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = t.oid AND d.deptype = 'e')`,
    );
    for (const t of types) await tx.exec(`DROP TYPE IF EXISTS ${t.name} CASCADE`);
  });
}

async function lock(tx: Queryable): Promise<void> {
  await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_KEY]);
}

function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}
