/**
 * PGlite in a worker thread, seen from the collector's thread: the same engine calls as an
 * in-process PGlite (query, exec, transaction, close), each carried to pglite-worker.ts as a
 * message (SQL + parameters there, rows back; the protocol is in pglite-worker.ts). Values come
 * back exactly as in-process: the worker parses them with the same parsers (int8 → number,
 * timestamptz → Date, json → value, bytea → Uint8Array) and structured clone keeps those types.
 * Errors keep their message and SQLSTATE fields (pglite-protocol.ts).
 *
 * Transactions: `transaction(fn)` opens one in the worker (which holds PGlite's transaction lock,
 * so other queries wait as they do in-process), `fn`'s `tx` queries carry its id, and it ends with
 * COMMIT when fn resolves or ROLLBACK when fn throws (fn's error is rethrown).
 *
 * The thread keeps the process alive only while a call is waiting for its answer. If it dies
 * (a crash in the WASM engine), every waiting call and every later one rejects naming the cause.
 */
import type { Worker } from 'node:worker_threads';
import { startModuleWorker } from '@pcapmesh/shared/util/worker';
import type { Queryable } from './db.types.js';
import { deserializeError, type PgliteRequest, type PgliteResponse, type PgliteStartup, type PgliteWorkerData } from './pglite-protocol.js';

/** What PgliteDb needs of PGlite: implemented over an in-process instance (pglite.ts) and by PgliteThread. */
export interface PgliteEngine {
  readonly closed: boolean;
  query<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  exec(sqlText: string): Promise<void>;
  transaction<R>(fn: (tx: Queryable) => Promise<R>): Promise<R>;
  close(): Promise<void>;
}

type Pending = { resolve(v: unknown): void; reject(e: Error): void };
type Request = PgliteRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

export class PgliteThread implements PgliteEngine {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private dead: Error | undefined;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly where: string,
  ) {
    worker.on('message', (m: PgliteResponse) => {
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (this.pending.size === 0) worker.unref();
      if ('error' in m) p.reject(deserializeError(m.error));
      else p.resolve(m.ok);
    });
    worker.on('error', (err) => this.die(new Error(`embedded database thread (${where}) failed: ${err.message}`, { cause: err })));
    worker.on('exit', (code) => this.die(new Error(`embedded database thread (${where}) exited (code ${code})`)));
    worker.unref();
  }

  /**
   * Starts the thread and opens PGlite in it at `where` (a data directory) or in memory.
   * @throws Error naming `where`, with PGlite's error as cause, when it cannot be opened.
   */
  static async start(data: PgliteWorkerData): Promise<PgliteThread> {
    const worker = startModuleWorker(new URL('./pglite-worker.js', import.meta.url), { workerData: data });
    let onMessage!: (m: PgliteStartup) => void, onError!: (e: Error) => void, onExit!: (code: number) => void;
    try {
      const first = await new Promise<PgliteStartup>((resolve, reject) => {
        onMessage = resolve;
        onError = reject;
        onExit = (code) => reject(new Error(`the thread exited (code ${code}) before opening the database`));
        worker.once('message', onMessage).once('error', onError).once('exit', onExit);
      });
      if ('failed' in first) throw deserializeError(first.failed);
    } catch (err) {
      await worker.terminate();
      throw new Error(`cannot open embedded database at ${data.where}`, { cause: err });
    } finally {
      worker.off('message', onMessage).off('error', onError).off('exit', onExit);
    }
    return new PgliteThread(worker, data.where);
  }

  get closed(): boolean {
    return this.dead !== undefined || this.closing !== undefined;
  }

  query<T>(sql: string, params?: readonly unknown[]): Promise<T[]> {
    return this.call({ op: 'query', sql, params: params as unknown[] | undefined }) as Promise<T[]>;
  }

  async exec(sqlText: string): Promise<void> {
    await this.call({ op: 'exec', sql: sqlText });
  }

  async transaction<R>(fn: (tx: Queryable) => Promise<R>): Promise<R> {
    // BEGIN travels with the first statement (one round trip fewer per transaction); a transaction
    // that ran no statement has nothing to end.
    const tx = this.nextId++;
    let begun = false;
    const first = () => {
      const begin = !begun;
      begun = true;
      return begin;
    };
    const q: Queryable = {
      query: <T>(sql: string, params?: readonly unknown[]) =>
        this.call({ op: 'query', sql, params: params as unknown[] | undefined, tx, begin: first() }) as Promise<T[]>,
      exec: async (sqlText: string) => {
        await this.call({ op: 'exec', sql: sqlText, tx, begin: first() });
      },
    };
    let result: R;
    try {
      result = await fn(q);
    } catch (err) {
      if (begun) await this.call({ op: 'end', tx, commit: false }).catch(() => undefined); // fn's error is the one that matters
      throw err;
    }
    if (begun) await this.call({ op: 'end', tx, commit: true });
    return result;
  }

  /** Closes PGlite in the thread (what was written is on disk when this resolves) and ends the thread. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      if (this.dead) return;
      try {
        await this.call({ op: 'close' }, true);
      } finally {
        await this.worker.terminate();
      }
    })();
    return this.closing;
  }

  private call(req: Request, closing = false): Promise<unknown> {
    if (this.closing && !closing) return Promise.reject(new Error(`embedded database ${this.where} is closed`));
    if (this.dead) return Promise.reject(this.dead);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      if (this.pending.size === 0) this.worker.ref();
      this.pending.set(id, { resolve, reject });
      try {
        this.worker.postMessage({ ...req, id } as PgliteRequest);
      } catch (err) {
        // e.g. a parameter structured clone cannot copy (a function, a class instance with private state)
        this.pending.delete(id);
        if (this.pending.size === 0) this.worker.unref();
        reject(new Error(`cannot send this query to the embedded database thread: ${(err as Error).message}`, { cause: err }));
      }
    });
  }

  private die(err: Error): void {
    this.dead ??= err;
    for (const p of this.pending.values()) p.reject(this.dead);
    this.pending.clear();
  }
}
