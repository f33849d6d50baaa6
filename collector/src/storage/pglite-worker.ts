/**
 * The embedded database's own thread: PGlite (WASM PostgreSQL, synchronous file calls) runs here so
 * its work does not hold the collector's event loop (MQTT, HTTP, live feed). The main-thread side
 * is pglite-thread.ts; `@electric-sql/pglite/worker` cannot be used on Node 20 (it needs
 * `navigator.locks` and Web Worker events).
 *
 * Protocol (structured clone over the worker port, in order):
 * - at start, from `workerData` ({@link PgliteWorkerData}) the thread opens PGlite with the same
 *   int8 parser as in-process, then posts `{ ready: true }` or `{ failed: SerializedError }`;
 * - each {@link PgliteRequest} gets exactly one {@link PgliteResponse} with its `id`: `ok` (rows of a
 *   query, nothing otherwise) or `error` (a SerializedError whose
 *   `props` keep the SQLSTATE `code`, `detail`, `constraint`…);
 * - a transaction is begun by its first statement (`tx` = an id the caller chose, `begin: true`:
 *   no round trip of its own); it holds PGlite's transaction lock until the matching `end` (so
 *   other queries wait, as they do in-process); statements carrying `tx` run inside it; `end`
 *   commits (`commit: true`) or rolls back and answers when that is done (an error when COMMIT or
 *   BEGIN failed);
 * - `close` closes PGlite (everything written is on disk) and answers; the thread then ends.
 * The PID lock of the data dir is held by the main thread, not here.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite, types, type Transaction } from '@electric-sql/pglite';
import { parseInt8 } from './int8.js';
import { pgliteTemplate } from './pglite-template.js';
import { serializeError, type PgliteRequest, type PgliteResponse, type PgliteStartup, type PgliteWorkerData } from './pglite-protocol.js';

const ROLLBACK = Symbol('rollback');

interface OpenTx {
  tx: Transaction;
  /** Settles the transaction callback: resolve → COMMIT, reject(ROLLBACK) → ROLLBACK. */
  finish(commit: boolean): void;
  /** The `end` request to answer when PGlite has committed or rolled back. */
  endId?: number;
}

async function main(port: NonNullable<typeof parentPort>, data: PgliteWorkerData): Promise<void> {
  // Nothing else keeps this thread alive while PGlite compiles and starts (V8's WASM compile is no
  // event-loop handle, and the port holds the thread only once it has a listener): under load the
  // thread ended with code 0 before opening the database.
  const keepAlive = setInterval(() => undefined, 60_000);
  try {
    await start(port, data);
  } finally {
    clearInterval(keepAlive);
  }
}

async function start(port: NonNullable<typeof parentPort>, data: PgliteWorkerData): Promise<void> {
  const parsers = { [types.INT8]: (text: string) => parseInt8(text) };
  let pg: PGlite;
  try {
    pg = data.memory ? await PGlite.create('memory://', { parsers, loadDataDir: await pgliteTemplate() }) : await PGlite.create(data.where, { parsers });
  } catch (err) {
    port.postMessage({ failed: serializeError(err) } satisfies PgliteStartup);
    return;
  }
  const txs = new Map<number, OpenTx>();
  /** Transactions begun (by their first statement) and not yet ended; rejected when BEGIN failed. */
  const opening = new Map<number, Promise<OpenTx>>();
  const reply = (id: number, ok: unknown) => port.postMessage({ id, ok } satisfies PgliteResponse);
  const fail = (id: number, err: unknown) => port.postMessage({ id, error: serializeError(err) } satisfies PgliteResponse);
  const notOpen = (tx: number) => new Error(`transaction ${tx} is not open (already committed or rolled back)`);

  /** Opens transaction `id`: resolves once BEGIN ran and PGlite's transaction lock is held. */
  const begin = (id: number): Promise<OpenTx> =>
    new Promise<OpenTx>((resolveOpen, rejectOpen) => {
      let opened = false;
      pg.transaction(
        (tx) =>
          new Promise<void>((resolve, reject) => {
            opened = true;
            const open: OpenTx = { tx, finish: (commit) => (commit ? resolve() : reject(ROLLBACK)) };
            txs.set(id, open);
            resolveOpen(open);
          }),
      ).then(
        () => {
          const open = txs.get(id);
          txs.delete(id);
          if (open?.endId !== undefined) reply(open.endId, null);
        },
        (err: unknown) => {
          const open = txs.get(id);
          txs.delete(id);
          if (!opened) rejectOpen(err);
          else if (open?.endId === undefined) return;
          else if (err === ROLLBACK) reply(open.endId, null);
          else fail(open.endId, err);
        },
      );
    });

  /**
   * Where a statement runs: PGlite, or its transaction — begun first when the statement carries
   * `begin` (registered before the first await, so the statements behind it find it).
   */
  const target = async (msg: { tx?: number | undefined; begin?: boolean | undefined }): Promise<Pick<Transaction, 'query' | 'exec'>> => {
    if (msg.tx === undefined) return pg;
    if (msg.begin) {
      const opened = begin(msg.tx);
      opened.catch(() => undefined); // its statements and its end report the failure
      opening.set(msg.tx, opened);
    }
    const opened = opening.get(msg.tx);
    if (!opened) throw notOpen(msg.tx);
    const open = await opened;
    if (txs.get(msg.tx) !== open || open.endId !== undefined) throw notOpen(msg.tx);
    return open.tx;
  };

  /** Ends transaction `tx`: COMMIT or ROLLBACK, answered when PGlite has done it. */
  const end = async (id: number, tx: number, commit: boolean): Promise<void> => {
    const opened = opening.get(tx);
    opening.delete(tx);
    if (!opened) return fail(id, notOpen(tx));
    let open: OpenTx;
    try {
      open = await opened;
    } catch (err) {
      return commit ? fail(id, err) : reply(id, null); // BEGIN failed: nothing to roll back
    }
    if (txs.get(tx) !== open || open.endId !== undefined) return fail(id, notOpen(tx)); // rolled back by close
    open.endId = id;
    open.finish(commit);
  };

  /** Statements received and not yet answered: `close` lets them finish first (no write is lost). */
  const inflight = new Set<Promise<void>>();
  const track = (work: Promise<void>) => {
    inflight.add(work);
    void work.finally(() => inflight.delete(work));
  };

  port.on('message', (msg: PgliteRequest) => {
    switch (msg.op) {
      case 'query':
        track(
          (async () => {
            try {
              reply(msg.id, (await (await target(msg)).query(msg.sql, msg.params)).rows);
            } catch (err) {
              fail(msg.id, err);
            }
          })(),
        );
        return;
      case 'exec':
        track(
          (async () => {
            try {
              await (await target(msg)).exec(msg.sql);
              reply(msg.id, null);
            } catch (err) {
              fail(msg.id, err);
            }
          })(),
        );
        return;
      case 'end':
        track(end(msg.id, msg.tx, msg.commit));
        return;
      case 'close':
        void (async () => {
          try {
            // Statements sent before close finish first; a transaction still open then is rolled back
            // (its owner never committed it), which also frees PGlite for the statements behind it.
            for (const open of txs.values()) if (open.endId === undefined) open.finish(false);
            while (inflight.size > 0) await Promise.allSettled([...inflight]);
            if (!pg.closed) await pg.close();
            reply(msg.id, null);
          } catch (err) {
            fail(msg.id, err);
          }
          port.close();
        })();
        return;
    }
  });
  port.postMessage({ ready: true } satisfies PgliteStartup);
}

if (parentPort && (workerData as Partial<PgliteWorkerData> | null)?.where !== undefined) await main(parentPort, workerData as PgliteWorkerData);
