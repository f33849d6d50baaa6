/**
 * `pcapmesh db backup FILE` and `pcapmesh db restore FILE` (storage/backup.ts has the formats and
 * guarantees). The configured database decides the backend: PostgreSQL when database.url is set
 * (pg_dump / pg_restore + psql from postgresql-client), else the embedded database in <dataDir>/db,
 * which needs the collector stopped (its PID lock refuses otherwise).
 *
 * Output: one line on stdout saying what was written or restored. Errors: BackupError and
 * LockedError messages name the file or the lock holder (exit 1, cli/main.ts).
 */
import { resolve } from 'node:path';
import { backupPglite, backupPostgres, restorePglite, restorePostgres } from '../storage/backup.js';
import { UsageError, type CliContext } from './context.js';

function target(file: string | undefined, verb: string): string {
  if (file === undefined || file === '') throw new UsageError(`db ${verb} needs a FILE`);
  return resolve(file);
}

export async function dbBackup({ config, log }: CliContext, file: string | undefined): Promise<void> {
  const path = target(file, 'backup');
  const url = config.database.url;
  const result = url ? await backupPostgres(url, path) : await backupPglite(config.dataDir, path);
  log.info({ file: path, bytes: result.bytes, kind: url ? 'postgres' : 'pglite' }, 'database backup written');
  process.stdout.write(`backup written: ${path} (${result.bytes} bytes, ${url ? 'PostgreSQL, pg_dump custom format' : 'embedded database'})\n`);
}

export async function dbRestore({ config, log }: CliContext, file: string | undefined): Promise<void> {
  const path = target(file, 'restore');
  const url = config.database.url;
  const result = url ? await restorePostgres(url, path) : await restorePglite(config.dataDir, path);
  log.info({ file: path, migrations: result.migrations, kind: url ? 'postgres' : 'pglite' }, 'database restored');
  process.stdout.write(
    `restored ${path}: ${result.migrations} migration(s), the last ${result.migration ?? 'none'}` +
      (result.previous ? `; the database it replaced is kept in ${result.previous}` : '') +
      '\n' +
      'start the collector: it applies any migration newer than the backup\n',
  );
}
