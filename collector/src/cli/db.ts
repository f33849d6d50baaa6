/** `pcapmesh db migrate` and `pcapmesh db reset --force`. */
import { openDb, type Db } from '../storage/db.js';
import { migrate, resetDatabase } from '../storage/migrate.js';
import { UsageError, type CliContext } from './context.js';

export async function withDb<T>({ config }: CliContext, fn: (db: Db) => Promise<T>): Promise<T> {
  const db = await openDb({ url: config.database.url, dataDir: config.dataDir });
  try {
    return await fn(db);
  } finally {
    await db.close();
  }
}

export async function dbMigrate(ctx: CliContext): Promise<void> {
  await withDb(ctx, async (db) => {
    const { applied, skipped } = await migrate(db);
    for (const m of applied) process.stdout.write(`applied ${m.file}\n`);
    process.stdout.write(`${applied.length} migration(s) applied, ${skipped} already in place (${db.description})\n`);
  });
}

export async function dbReset(ctx: CliContext, force: boolean): Promise<void> {
  if (!force) throw new UsageError('db reset deletes every table and row; run it again with --force to do so');
  await withDb(ctx, async (db) => {
    await resetDatabase(db);
    const { applied } = await migrate(db);
    process.stdout.write(`database reset: ${applied.length} migration(s) applied from zero (${db.description})\n`);
  });
}
