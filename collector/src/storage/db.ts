/**
 * One small query interface over the two databases the collector runs on: PGlite (PostgreSQL in
 * WASM, embedded, the default) and PostgreSQL through a pg Pool. Repositories use only this.
 *
 * Contract, identical on both:
 * - `query(sql, params)` runs ONE statement with `$1..$n` parameters and returns its rows.
 *   Values come back as: timestamptz → Date, json/jsonb → parsed value, int8 → number
 *   (counters stay far below 2^53), numeric → string. Pass json parameters as
 *   `JSON.stringify(x)` with a `$n::jsonb` cast (pg would send a JS array as a PG array).
 * - `exec(sqlText)` runs a script of several statements without parameters (migrations).
 * - `transaction(fn)` runs fn in BEGIN/COMMIT (ROLLBACK when fn throws). Inside, use ONLY `tx`:
 *   on PGlite queries are serialised and calling `db` from inside the transaction deadlocks.
 *
 * @example
 *   const db = await openDb({ url: undefined, dataDir: './data' }); // PGlite at ./data/db, PID-locked
 *   const rows = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM sensors');
 *   await db.close();
 */
export interface Queryable {
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  exec(sqlText: string): Promise<void>;
}

export type DbKind = 'pglite' | 'postgres';

export interface Db extends Queryable {
  readonly kind: DbKind;
  /** Where it points, safe to log (no password). */
  readonly description: string;
  transaction<R>(fn: (tx: Queryable) => Promise<R>): Promise<R>;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  /** Closes connections (and releases the PGlite lock). Idempotent. */
  close(): Promise<void>;
}

export interface OpenDbOptions {
  /**
   * postgres:// or postgresql:// → pg Pool; memory:// → an in-memory PGlite (tests);
   * undefined → PGlite in `<dataDir>/db`, guarded by a PID lock.
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

/** int8 text → number (both drivers). Throws rather than silently losing precision. */
export function parseInt8(text: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n)) throw new Error(`int8 value ${text} exceeds JavaScript's safe integer range`);
  return n;
}
