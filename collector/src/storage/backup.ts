/**
 * Database backups (`pcapmesh db backup FILE` / `pcapmesh db restore FILE`, cli/db-backup.ts).
 *
 * Two formats, one per backend, told apart by their first bytes:
 * - PostgreSQL: a plain pg_dump custom-format archive ("PGDMP…"), made by `pg_dump --format=custom`;
 *   `pg_restore` reads it as well. Online: pg_dump reads one consistent snapshot while collectors run.
 * - PGlite (the embedded database): `PCAPMESH-BACKUP 1\n`, one JSON line (kind, time, PGlite
 *   version, last migration), then PGlite's own data directory dump (tar.gz, `dumpDataDir`). The
 *   data directory is PID-locked, so backup and restore need the collector stopped.
 *
 * Contracts:
 * - A backup is written to a temporary file beside FILE (mode 0600: it holds password hashes and
 *   signing keys) and renamed over FILE when complete: a failed backup never leaves a partial FILE.
 * - Restore replaces the whole database or nothing: PGlite moves the current data directory aside
 *   (kept, its path returned) and moves it back when loading fails; PostgreSQL runs the drop of the
 *   `public` schema and the archive's SQL in one transaction (psql --single-transaction).
 * - A file that is neither format, a pg_dump archive without `schema_migrations` (not a pcapmesh
 *   database), or a backup of the other backend is refused with BackupError before anything changes.
 * - The database password never appears in a command line or a message: pg tools get it as PGPASSWORD.
 */
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, readSync, renameSync, rmSync, writeSync, chmodSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { acquireLock } from './lock.js';
import { appliedMigrations } from './migrate.js';
import type { Queryable } from './db.types.js';

export const PGLITE_MAGIC = 'PCAPMESH-BACKUP 1\n';
const PGDUMP_MAGIC = 'PGDMP';

/** A backup that cannot be made or a file that cannot be restored, with the reason. */
export class BackupError extends Error {
  override name = 'BackupError';
}

/** The header line of a PGlite backup. */
export interface PgliteBackupMeta {
  kind: 'pglite';
  createdAt: string;
  pglite: string;
  /** File name of the last applied migration, or null for an unmigrated database. */
  migration: string | null;
}

export interface BackupResult {
  file: string;
  bytes: number;
  /** Last migration in the backup (PGlite), null when unknown or none. */
  migration: string | null;
}

export interface RestoreResult {
  /** Migrations recorded in the restored database. */
  migrations: number;
  migration: string | null;
  /** PGlite: where the data directory that was replaced now is (delete it when satisfied). */
  previous: string | null;
}

/** What a file holds, judged by its first bytes (and for PGlite its header line). */
export type BackupKind = { kind: 'pglite'; meta: PgliteBackupMeta; payloadOffset: number } | { kind: 'postgres' };

export function inspectBackup(file: string): BackupKind {
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    throw new BackupError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  const head = Buffer.alloc(4096);
  let n: number;
  try {
    n = readSync(fd, head, 0, head.length, 0);
  } finally {
    closeSync(fd);
  }
  const text = head.subarray(0, n).toString('latin1');
  if (text.startsWith(PGDUMP_MAGIC)) return { kind: 'postgres' };
  if (text.startsWith(PGLITE_MAGIC)) {
    const end = text.indexOf('\n', PGLITE_MAGIC.length);
    let meta: PgliteBackupMeta | undefined;
    try {
      meta = JSON.parse(text.slice(PGLITE_MAGIC.length, end)) as PgliteBackupMeta;
    } catch {
      meta = undefined;
    }
    if (end < 0 || meta?.kind !== 'pglite') throw new BackupError(`${file} starts like a pcapmesh backup but its header line is damaged`);
    const payloadOffset = end + 1;
    if (head[payloadOffset] !== 0x1f || head[payloadOffset + 1] !== 0x8b)
      throw new BackupError(`${file} is a damaged pcapmesh backup: no database archive after its header`);
    return { kind: 'pglite', meta, payloadOffset };
  }
  throw new BackupError(
    `${file} is not a pcapmesh backup: it is neither an embedded-database backup (from \`pcapmesh db backup\`) nor a pg_dump custom-format archive`,
  );
}

function pgliteVersion(): string {
  const entry = createRequire(import.meta.url).resolve('@electric-sql/pglite');
  return (JSON.parse(readFileSync(join(dirname(entry), '..', 'package.json'), 'utf8')) as { version: string }).version;
}

function queryable(pg: PGlite): Queryable {
  return {
    query: async <T>(sql: string, params?: readonly unknown[]) => (await pg.query<T>(sql, params as unknown[] | undefined)).rows,
    exec: async (sql: string) => {
      await pg.exec(sql);
    },
  };
}

async function migrationsOf(q: Queryable): Promise<{ count: number; last: string | null }> {
  const rows = await appliedMigrations(q);
  return { count: rows.length, last: rows.at(-1)?.name ?? null };
}

/** Writes `chunks` to a 0600 temp file beside `file`, fsyncs and renames it over `file`. */
function writeAtomically(file: string, chunks: Uint8Array[]): number {
  const temp = `${file}.tmp-${process.pid}`;
  let bytes = 0;
  const fd = openSync(temp, 'w', 0o600);
  try {
    for (const c of chunks) {
      writeSync(fd, c);
      bytes += c.length;
    }
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw new BackupError(`cannot write ${file}: ${(err as Error).message}`, { cause: err });
  }
  closeSync(fd);
  renameSync(temp, file);
  return bytes;
}

/** Backs up the embedded database in `<dataDir>/db` (the collector must be stopped: the lock says). */
export async function backupPglite(dataDir: string, file: string): Promise<BackupResult> {
  const where = join(resolve(dataDir), 'db');
  if (!existsSync(join(where, 'PG_VERSION'))) throw new BackupError(`there is no embedded database at ${where} to back up (dataDir ${dataDir})`);
  const lock = acquireLock(join(resolve(dataDir), 'db.lock'));
  try {
    const pg = await PGlite.create(where);
    try {
      const { last } = await migrationsOf(queryable(pg));
      const dump = await pg.dumpDataDir('gzip');
      const meta: PgliteBackupMeta = { kind: 'pglite', createdAt: new Date().toISOString(), pglite: pgliteVersion(), migration: last };
      const head = Buffer.from(`${PGLITE_MAGIC}${JSON.stringify(meta)}\n`);
      const bytes = writeAtomically(file, [head, new Uint8Array(await dump.arrayBuffer())]);
      return { file, bytes, migration: last };
    } finally {
      await pg.close();
    }
  } finally {
    lock.release();
  }
}

/** Replaces the embedded database in `<dataDir>/db` with the backup in `file`. */
export async function restorePglite(dataDir: string, file: string): Promise<RestoreResult> {
  const found = inspectBackup(file);
  if (found.kind !== 'pglite') {
    throw new BackupError(
      `${file} is a PostgreSQL backup (pg_dump); this configuration uses the embedded database: set database.url to restore it into PostgreSQL`,
    );
  }
  const root = resolve(dataDir);
  const where = join(root, 'db');
  const lock = acquireLock(join(root, 'db.lock'));
  try {
    const payload = readFileSync(file).subarray(found.payloadOffset);
    const previous = existsSync(where) ? `${where}.before-restore-${new Date().toISOString().replace(/[:.]/g, '-')}` : null;
    if (previous) renameSync(where, previous);
    try {
      const pg = await PGlite.create(where, { loadDataDir: new Blob([new Uint8Array(payload)]) });
      try {
        const m = await migrationsOf(queryable(pg));
        return { migrations: m.count, migration: m.last, previous };
      } finally {
        await pg.close();
      }
    } catch (err) {
      rmSync(where, { recursive: true, force: true });
      if (previous) renameSync(previous, where);
      throw new BackupError(
        `cannot load the database in ${file} (made with PGlite ${found.meta.pglite}, this is ${pgliteVersion()}); the database was left as it was`,
        {
          cause: err,
        },
      );
    }
  } finally {
    lock.release();
  }
}

/** Connection URL without its password, and the password (for PGPASSWORD). */
function splitPassword(url: string): { url: string; env: NodeJS.ProcessEnv } {
  const u = new URL(url);
  const password = decodeURIComponent(u.password);
  u.password = '';
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (password) env.PGPASSWORD = password;
  return { url: u.toString(), env };
}

function safeUrl(url: string): string {
  const u = new URL(url);
  if (u.password) u.password = '***';
  return u.toString();
}

interface Run {
  code: number | null;
  stderr: string;
  stdout: string;
}

/** Runs a pg tool; ENOENT becomes "install postgresql-client". */
function run(tool: string, args: string[], env: NodeJS.ProcessEnv, input?: (stdin: NodeJS.WritableStream) => Promise<void>): Promise<Run> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(tool, args, { env, stdio: [input ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-8192)));
    // Only pg_restore --list writes to stdout here: its table of contents, read whole.
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new BackupError(`${tool} is not installed: install the postgresql-client package (PostgreSQL 15 or later)`) : err),
    );
    child.on('close', (code) => resolvePromise({ code, stderr: stderr.trim(), stdout }));
    if (input && child.stdin) input(child.stdin).catch((err: unknown) => child.kill() && reject(err as Error));
  });
}

/** pg_dump --format=custom of the database at `url` into `file`. */
export async function backupPostgres(url: string, file: string): Promise<BackupResult> {
  const { url: bare, env } = splitPassword(url);
  const temp = `${file}.tmp-${process.pid}`;
  const r = await run('pg_dump', ['--format=custom', '--no-owner', '--no-privileges', `--file=${temp}`, `--dbname=${bare}`], env);
  if (r.code !== 0) {
    rmSync(temp, { force: true });
    throw new BackupError(`pg_dump of ${safeUrl(url)} failed (exit ${r.code}): ${r.stderr}`);
  }
  chmodSync(temp, 0o600);
  const fd = openSync(temp, 'r+');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(temp, file);
  return { file, bytes: statSync(file).size, migration: null };
}

/** Replaces the `public` schema of the database at `url` with the pg_dump archive in `file`. */
export async function restorePostgres(url: string, file: string): Promise<RestoreResult> {
  const found = inspectBackup(file);
  if (found.kind !== 'postgres') {
    throw new BackupError(
      `${file} is a backup of the embedded database (PGlite); this configuration uses PostgreSQL (database.url): restore it without database.url`,
    );
  }
  const { url: bare, env } = splitPassword(url);
  const list = await run('pg_restore', ['--list', file], env);
  if (list.code !== 0) throw new BackupError(`${file} is not a readable pg_dump archive: ${list.stderr}`);
  if (!/ TABLE \S+ schema_migrations /.test(list.stdout)) {
    throw new BackupError(`${file} is a pg_dump archive but not of a pcapmesh database (it has no schema_migrations table)`);
  }
  // psql reads BEGIN, the replacement of the schema, then the archive as SQL (COPY data included),
  // and COMMIT only once pg_restore has finished well: a failed statement (ON_ERROR_STOP) or a
  // broken archive ends the session without COMMIT, which rolls everything back.
  const dump = spawn('pg_restore', ['--no-owner', '--no-privileges', '--file=-', file], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let dumpErr = '';
  dump.stderr.setEncoding('utf8').on('data', (d: string) => (dumpErr = (dumpErr + d).slice(-4096)));
  const dumpDone = new Promise<number | null>((res) => dump.on('close', res));
  const applied = await run('psql', ['--no-psqlrc', '--quiet', '--set=ON_ERROR_STOP=1', `--dbname=${bare}`], env, async (stdin) => {
    stdin.on('error', () => undefined); // psql stopped early: its exit status and stderr tell why
    stdin.write('SET client_min_messages = warning;\nBEGIN;\nDROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n');
    dump.stdout.pipe(stdin, { end: false });
    const code = await dumpDone;
    if (code === 0) stdin.write('COMMIT;\n');
    stdin.end();
  });
  const dumpCode = await dumpDone;
  if (applied.code !== 0) throw new BackupError(`restoring ${file} into ${safeUrl(url)} failed, the database was left as it was: ${applied.stderr}`);
  if (dumpCode !== 0) throw new BackupError(`pg_restore could not read ${file} (exit ${dumpCode}): ${dumpErr.trim()}; the database was left as it was`);
  const m = await migrationCount(url);
  return { ...m, previous: null };
}

async function migrationCount(url: string): Promise<{ migrations: number; migration: string | null }> {
  const { openPostgres } = await import('./postgres.js');
  const db = await openPostgres(url, { max: 1 });
  try {
    const m = await migrationsOf(db);
    return { migrations: m.count, migration: m.last };
  } finally {
    await db.close();
  }
}
