/**
 * PostgreSQL through a pg Pool (when database.url / DATABASE_URL is set). Implements the Db
 * contract of storage/db.types.ts: int8 is parsed to number like on PGlite; `exec` uses the simple
 * query protocol (no parameters), which runs multi-statement scripts.
 */
import pg from 'pg';
import { redactUrl } from '../log.js';
import type { Db, LockOutcome, Queryable } from './db.types.js';
import { parseInt8 } from './int8.js';

export interface PostgresOptions {
  max: number;
  /**
   * Errors of idle connections (server restart, network); the pool replaces the client. Default:
   * one JSON line on stderr (the pool must never leave such an error unhandled: it would crash).
   */
  onError?: (err: Error) => void;
}

/**
 * Pool timeouts: a connection attempt gives up after 10 s and a statement after 5 min (maintenance
 * and merges included), a session idle inside a transaction is ended after 1 min, idle pooled
 * connections close after 30 s, and TCP keepalive finds a dead server or a dropped NAT mapping
 * instead of waiting forever. A failed query rejects, so ingest withholds the sensor's
 * acknowledgement and the message is sent again (broker/ingest.ts).
 */
export const POOL_TIMEOUTS = {
  connectionTimeoutMillis: 10_000,
  idleTimeoutMillis: 30_000,
  statement_timeout: 300_000,
  idle_in_transaction_session_timeout: 60_000,
  keepAlive: true,
  keepAliveInitialDelayMillis: 10_000,
} as const;

function logToStderr(err: Error): void {
  process.stderr.write(
    `${JSON.stringify({ level: 50, time: Date.now(), component: 'postgres', err: { message: err.message }, msg: 'idle PostgreSQL connection failed' })}\n`,
  );
}

const INT8_OID = 20;
const typeParsers = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8_OID && format !== 'binary' ? parseInt8 : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/** Opens a pool and checks that the server answers; the error names the URL without its password. */
export async function openPostgres(url: string, opts: PostgresOptions): Promise<Db> {
  const description = redactUrl(url);
  const pool = new pg.Pool({ connectionString: url, max: opts.max, types: typeParsers, ...POOL_TIMEOUTS });
  pool.on('error', opts.onError ?? logToStderr);
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new Error(`cannot connect to PostgreSQL at ${description}: ${(err as Error).message}`, { cause: err });
  }
  return new PostgresDb(pool, description);
}

class PostgresDb implements Db {
  readonly kind = 'postgres' as const;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    readonly description: string,
  ) {}

  async query<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return (await this.pool.query(sql, params as unknown[] | undefined)).rows as T[];
  }

  async exec(sqlText: string): Promise<void> {
    await this.pool.query(sqlText);
  }

  poolStats(): { total: number; idle: number; waiting: number } {
    return { total: this.pool.totalCount, idle: this.pool.idleCount, waiting: this.pool.waitingCount };
  }

  async transaction<R>(fn: (tx: Queryable) => Promise<R>): Promise<R> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      await client.query('BEGIN');
      const result = await fn(clientQueryable(client));
      await client.query('COMMIT');
      return result;
    } catch (err) {
      try {
        await client.query('ROLLBACK');
      } catch (rollbackErr) {
        broken = rollbackErr as Error; // the connection is unusable: destroy it
      }
      throw err;
    } finally {
      client.release(broken);
    }
  }

  /** The lock lives on a pooled connection of its own, held until fn settles. */
  async withAdvisoryLock<R>(key: number, fn: () => Promise<R>, opts: { wait?: boolean } = {}): Promise<LockOutcome<R>> {
    const client = await this.pool.connect();
    let broken: Error | undefined;
    try {
      if (opts.wait) {
        await client.query('SELECT pg_advisory_lock($1)', [key]);
      } else {
        const { rows } = await client.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1) AS ok', [key]);
        if (rows[0]?.ok !== true) return { acquired: false };
      }
      try {
        return { acquired: true, value: await fn() };
      } finally {
        try {
          await client.query('SELECT pg_advisory_unlock($1)', [key]);
        } catch (err) {
          broken = err as Error; // the session (and with it the lock) must go
        }
      }
    } finally {
      client.release(broken);
    }
  }

  async ping(): Promise<void> {
    await this.pool.query('SELECT 1');
  }

  close(): Promise<void> {
    this.closing ??= this.pool.end();
    return this.closing;
  }
}

function clientQueryable(client: pg.PoolClient): Queryable {
  return {
    async query<T>(sql: string, params?: readonly unknown[]) {
      return (await client.query(sql, params as unknown[] | undefined)).rows as T[];
    },
    async exec(sqlText: string) {
      await client.query(sqlText);
    },
  };
}
