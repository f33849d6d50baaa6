/**
 * The embedded database: PGlite (PostgreSQL 18 in WASM) in a data directory guarded by a PID
 * lock (storage/lock.ts), or in memory for tests. Implements the Db contract of storage/db.types.ts.
 *
 * Where PGlite runs: a data directory's instance runs in a worker thread of its own
 * (pglite-thread.ts, pglite-worker.ts), because PGlite's WASM engine and its synchronous file
 * calls would otherwise take the thread that calls it — the collector's, with MQTT, HTTP and the
 * live feed behind it. An in-memory instance (unit tests) runs in-process unless `worker` is set.
 * `PCAPMESH_PGLITE_WORKER=0|1` in the environment overrides both defaults (1: the storage tests
 * through the thread; 0: back to in-process should the thread misbehave).
 */
import { mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PGlite, types, type Transaction } from '@electric-sql/pglite';
import { acquireLock, type DirLock } from './lock.js';
import { pgliteTemplate } from './pglite-template.js';
import type { Db, LockOutcome, Queryable } from './db.types.js';
import { parseInt8 } from './int8.js';
import { PgliteThread, type PgliteEngine } from './pglite-thread.js';

export interface PgliteOptions {
  /** Parent directory: the database lives in `<dataDir>/db`, the lock in `<dataDir>/db.lock`. */
  dataDir?: string;
  /** In-memory instance (nothing on disk, no lock); starts from a cached initdb dump (pglite-template.ts). */
  memory?: boolean;
  /** Run PGlite in a worker thread. Default: true for a data directory, false in memory; PCAPMESH_PGLITE_WORKER overrides. */
  worker?: boolean;
}

/** Whether PGlite runs in a worker thread: the environment's PCAPMESH_PGLITE_WORKER, else the option, else data dir → yes. */
export function pgliteInWorker(opts: PgliteOptions, env: NodeJS.ProcessEnv = process.env): boolean {
  const forced = env.PCAPMESH_PGLITE_WORKER;
  if (forced === '1' || forced === 'true') return true;
  if (forced === '0' || forced === 'false') return false;
  if (forced !== undefined && forced !== '') throw new Error(`PCAPMESH_PGLITE_WORKER must be 0 or 1, got ${JSON.stringify(forced)}`);
  return opts.worker ?? !opts.memory;
}

const parsers = { [types.INT8]: (text: string) => parseInt8(text) };

export async function openPglite(opts: PgliteOptions): Promise<Db> {
  const inWorker = pgliteInWorker(opts);
  let lock: DirLock | undefined;
  let where = 'memory://';
  if (!opts.memory) {
    if (!opts.dataDir) throw new Error('openPglite: dataDir is required unless memory is set');
    const dataDir = resolve(opts.dataDir);
    where = join(dataDir, 'db');
    mkdirSync(where, { recursive: true });
    lock = acquireLock(join(dataDir, 'db.lock'));
  }
  let engine: PgliteEngine;
  try {
    if (inWorker) engine = await PgliteThread.start({ where, memory: opts.memory === true });
    else
      engine = inProcess(
        opts.memory ? await PGlite.create('memory://', { parsers, loadDataDir: await pgliteTemplate() }) : await PGlite.create(where, { parsers }),
      );
  } catch (err) {
    lock?.release();
    if (err instanceof Error && err.message.startsWith('cannot open embedded database')) throw err;
    throw new Error(`cannot open embedded database at ${where}`, { cause: err });
  }
  return new PgliteDb(engine, where, lock);
}

/** The engine calls over a PGlite instance in this thread. */
function inProcess(pg: PGlite): PgliteEngine {
  return {
    get closed() {
      return pg.closed;
    },
    async query<T>(sql: string, params?: readonly unknown[]) {
      return (await pg.query<T>(sql, params as unknown[] | undefined)).rows;
    },
    async exec(sqlText: string) {
      await pg.exec(sqlText);
    },
    transaction: (fn) => pg.transaction((tx) => fn(wrapTx(tx))),
    close: () => pg.close(),
  };
}

class PgliteDb implements Db {
  readonly kind = 'pglite' as const;
  private closing: Promise<void> | undefined;
  /** Advisory locks held by this process: PGlite's one backend would let every taker in again. */
  private readonly locks = new Map<number, Promise<unknown>>();

  constructor(
    private readonly pglite: PgliteEngine,
    readonly description: string,
    private readonly lock: DirLock | undefined,
  ) {}

  async query<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.pglite.query<T>(sql, params);
  }

  exec(sqlText: string): Promise<void> {
    return this.pglite.exec(sqlText);
  }

  transaction<R>(fn: (tx: Queryable) => Promise<R>): Promise<R> {
    return this.pglite.transaction(fn);
  }

  async withAdvisoryLock<R>(key: number, fn: () => Promise<R>, opts: { wait?: boolean } = {}): Promise<LockOutcome<R>> {
    let held = this.locks.get(key);
    if (held && !opts.wait) return { acquired: false };
    while (held) {
      await held.catch(() => undefined);
      held = this.locks.get(key);
    }
    const run = (async () => {
      await this.pglite.query('SELECT pg_advisory_lock($1)', [key]);
      try {
        return await fn();
      } finally {
        if (!this.pglite.closed) await this.pglite.query('SELECT pg_advisory_unlock($1)', [key]);
      }
    })();
    this.locks.set(key, run);
    try {
      return { acquired: true, value: await run };
    } finally {
      this.locks.delete(key);
    }
  }

  async ping(): Promise<void> {
    if (this.pglite.closed) throw new Error(`embedded database ${this.description} is closed`);
    await this.pglite.query('SELECT 1');
  }

  close(): Promise<void> {
    this.closing ??= (async () => {
      try {
        if (!this.pglite.closed) await this.pglite.close();
      } finally {
        this.lock?.release();
      }
    })();
    return this.closing;
  }
}

function wrapTx(tx: Transaction): Queryable {
  return {
    async query<T>(sql: string, params?: readonly unknown[]) {
      return (await tx.query<T>(sql, params as unknown[] | undefined)).rows;
    },
    async exec(sqlText: string) {
      await tx.exec(sqlText);
    },
  };
}
