/**
 * Opens the database: PGlite (embedded, the default) or PostgreSQL. The contract both keep is in
 * db.types.ts (re-exported here, so repositories import `Db`/`Queryable` from './db.js' as before);
 * the int8 parser both drivers install is in int8.ts.
 */
import type { Db } from './db.types.js';

export type { Db, DbKind, LockOutcome, Queryable } from './db.types.js';

export interface OpenDbOptions {
  /**
   * postgres:// or postgresql:// → pg Pool; memory:// → an in-memory PGlite (tests);
   * undefined → PGlite in `<dataDir>/db`, guarded by a PID lock, running in a worker thread of its
   * own (storage/pglite-thread.ts; `PCAPMESH_PGLITE_WORKER=0` keeps it on the calling thread).
   */
  url?: string | undefined;
  /** Required when url is undefined. */
  dataDir?: string;
  /** pg pool size. Default 10. */
  maxConnections?: number;
  /** PostgreSQL: errors of idle pooled connections (server restart, network); the pool replaces them. */
  onError?: (err: Error) => void;
}

/** Opens the database `opts` point to. Errors name the target (without password) and keep the cause. */
export async function openDb(opts: OpenDbOptions): Promise<Db> {
  const url = opts.url;
  if (url === undefined || url === '') {
    if (!opts.dataDir) throw new Error('openDb: neither database.url nor dataDir is set');
    const { openPglite } = await import('./pglite.js');
    return openPglite({ dataDir: opts.dataDir });
  }
  if (url.startsWith('memory://')) {
    const { openPglite } = await import('./pglite.js');
    return openPglite({ memory: true });
  }
  if (url.startsWith('postgres://') || url.startsWith('postgresql://')) {
    const { openPostgres } = await import('./postgres.js');
    return openPostgres(url, { max: opts.maxConnections ?? 10, ...(opts.onError ? { onError: opts.onError } : {}) });
  }
  throw new Error(`openDb: unsupported database URL scheme in ${JSON.stringify(url.split(':')[0])} (use postgres://, postgresql:// or memory://)`);
}
