/**
 * Run a storage test suite on every database the collector supports: PGlite (in memory) always,
 * PostgreSQL when `PCAPMESH_TEST_DATABASE_URL` is set (e.g. postgres://pcapmesh@127.0.0.1:55432/pcapmesh;
 * scripts/services.sh starts one). Each suite gets a database of its own — a fresh PGlite
 * instance, or a freshly created PostgreSQL database dropped afterwards — so suites and test files
 * run concurrently without seeing each other's rows.
 *
 * House rule: with CI=true and no URL the PostgreSQL variant FAILS; elsewhere it is skipped with
 * a message saying what to set.
 *
 * @example
 *   forEachDatabase('sensors repo', (ctx) => {
 *     test('register', async () => { await ctx.db.query('SELECT 1'); });
 *   });
 */
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { inCi } from '@pcapmesh/shared/util/testing';
import type { Db, DbKind } from '../storage/db.js';
import { openPglite } from '../storage/pglite.js';
import { openPostgres } from '../storage/postgres.js';
import { migrate } from '../storage/migrate.js';

export const TEST_DATABASE_URL_ENV = 'PCAPMESH_TEST_DATABASE_URL';

export interface TestDatabase {
  kind: DbKind;
  db: Db;
  /** URL of this very database for a second opener (a collector under test): memory:// for PGlite (a separate, empty instance). */
  url: string;
  /** Closes `db` and deletes the database. */
  drop(): Promise<void>;
}

export interface DatabaseContext {
  readonly kind: DbKind;
  /** The suite's database (opened in `before`, dropped in `after`). */
  readonly db: Db;
  /** Its URL (see TestDatabase.url). */
  readonly url: string;
  /** Another fresh database of the same kind; the caller drops it. */
  fresh(opts?: { migrate?: boolean }): Promise<TestDatabase>;
}

export interface ForEachDatabaseOptions {
  /** Apply the repository's migrations to the suite's database first. Default true. */
  migrate?: boolean;
}

/** Runs `fn` (which declares tests) once per available database kind, as `describe` blocks. */
export function forEachDatabase(name: string, fn: (ctx: DatabaseContext) => void, opts: ForEachDatabaseOptions = {}): void {
  for (const kind of ['pglite', 'postgres'] as const) {
    const title = `${name} [${kind}]`;
    const missing = kind === 'postgres' ? postgresMissing() : null;
    if (missing) {
      if (inCi()) {
        test(title, () => {
          throw new Error(`${missing}; CI=true requires PostgreSQL`);
        });
      } else {
        test(title, { skip: missing }, () => undefined);
      }
      continue;
    }
    describe(title, () => {
      let current: TestDatabase | undefined;
      const ctx: DatabaseContext = {
        kind,
        get db() {
          if (!current) throw new Error('the test database is opened in before(): use ctx.db inside tests');
          return current.db;
        },
        get url() {
          if (!current) throw new Error('the test database is opened in before(): use ctx.url inside tests');
          return current.url;
        },
        fresh: (o) => createTestDatabase(kind, o),
      };
      before(async () => {
        current = await createTestDatabase(kind, { migrate: opts.migrate ?? true });
      });
      after(async () => {
        await current?.drop();
      });
      fn(ctx);
    });
  }
}

/** Why the PostgreSQL variant cannot run, or null when it can. */
function postgresMissing(): string | null {
  return process.env[TEST_DATABASE_URL_ENV] ? null : `${TEST_DATABASE_URL_ENV} is not set (scripts/services.sh starts PostgreSQL and prints it)`;
}

/** A fresh, empty (or migrated) database of `kind`. */
export async function createTestDatabase(kind: DbKind, opts: { migrate?: boolean } = {}): Promise<TestDatabase> {
  const created = kind === 'pglite' ? await freshPglite() : await freshPostgres();
  if (opts.migrate) {
    try {
      await migrate(created.db);
    } catch (err) {
      await created.drop();
      throw err;
    }
  }
  return created;
}

async function freshPglite(): Promise<TestDatabase> {
  const db = await openPglite({ memory: true });
  return { kind: 'pglite', db, url: 'memory://', drop: () => db.close() };
}

async function freshPostgres(): Promise<TestDatabase> {
  const adminUrl = process.env[TEST_DATABASE_URL_ENV];
  if (!adminUrl) throw new Error(postgresMissing()!);
  const name = `pcapmesh_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withAdmin(adminUrl, (admin) => admin.query(`CREATE DATABASE ${name}`));
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const db = await openPostgres(url.toString(), { max: 4 });
  let dropped = false;
  return {
    kind: 'postgres',
    db,
    url: url.toString(),
    async drop() {
      if (dropped) return;
      dropped = true;
      await db.close();
      await withAdmin(adminUrl, (admin) => admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
    },
  };
}

async function withAdmin<R>(url: string, fn: (client: pg.Client) => Promise<R>): Promise<R> {
  const client = new pg.Client({ connectionString: url });
  try {
    await client.connect();
  } catch (err) {
    throw new Error(`cannot connect to ${TEST_DATABASE_URL_ENV} (${new URL(url).host}): ${(err as Error).message}`, { cause: err });
  }
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}
