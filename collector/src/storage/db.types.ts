/**
 * One small query interface over the two databases the collector runs on: PGlite (PostgreSQL in
 * WASM, embedded, the default; in a worker thread of its own for a data directory) and PostgreSQL
 * through a pg Pool. Repositories use only this.
 *
 * Contract, identical on both:
 * - `query(sql, params)` runs ONE statement with `$1..$n` parameters and returns its rows.
 *   Values come back as: timestamptz → Date, json/jsonb → parsed value, int8 → number
 *   (counters stay far below 2^53), numeric → string. Pass json parameters as
 *   `JSON.stringify(x)` with a `$n::jsonb` cast (pg would send a JS array as a PG array).
 * - `exec(sqlText)` runs a script of several statements without parameters (migrations).
 * - `transaction(fn)` runs fn in BEGIN/COMMIT (ROLLBACK when fn throws). Inside, use ONLY `tx`:
 *   on PGlite queries are serialised and calling `db` from inside the transaction deadlocks
 *   (in its thread too: the transaction holds PGlite's lock there until it ends).
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

/** What `withAdvisoryLock` did: ran fn under the lock (its value), or found the lock taken. */
export type LockOutcome<R> = { acquired: true; value: R } | { acquired: false };

export interface Db extends Queryable {
  readonly kind: DbKind;
  /** Where it points, safe to log (no password). */
  readonly description: string;
  transaction<R>(fn: (tx: Queryable) => Promise<R>): Promise<R>;
  /**
   * Runs `fn` while this process holds the session-level advisory lock `key` (on a connection of
   * its own, so `fn` uses `db` freely, transactions included). Two holders never overlap — across
   * collectors on one PostgreSQL, and within one process on PGlite too (whose single backend would
   * otherwise let a second taker in). `wait: false` (default) answers `{ acquired: false }` at once
   * when someone else holds it; `wait: true` waits its turn. The lock is released when fn settles
   * (or its connection dies).
   */
  withAdvisoryLock<R>(key: number, fn: () => Promise<R>, opts?: { wait?: boolean }): Promise<LockOutcome<R>>;
  /** Resolves when the database answers a trivial query; rejects otherwise. */
  ping(): Promise<void>;
  /** Closes connections (and releases the PGlite lock). Idempotent. */
  close(): Promise<void>;
  /** PostgreSQL: the pg pool's open, idle and waiting counts (read by GET /metrics). Absent on PGlite (no pool). */
  poolStats?(): { total: number; idle: number; waiting: number };
}
