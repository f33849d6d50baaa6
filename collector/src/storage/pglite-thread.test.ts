import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPglite, pgliteInWorker } from './pglite.js';

// PGlite in its worker thread (pglite-thread.ts): the Db contract as in-process — the storage suites
// run through it with PCAPMESH_PGLITE_WORKER=1; these tests cover what is particular to the thread.

test('worker mode: values, SQLSTATE errors and transactions come back as in-process', async () => {
  const db = await openPglite({ memory: true, worker: true });
  try {
    const [row] = await db.query<Record<string, unknown>>(
      `SELECT 42::int8 AS big, 1.5::numeric AS num, '{"a":[1,2]}'::jsonb AS j, '2026-01-02T03:04:05.678Z'::timestamptz AS t,
              '\\x00ff10'::bytea AS bin, ARRAY[1,2]::int8[] AS arr, NULL::text AS nothing`,
    );
    assert.deepEqual(row, {
      big: 42,
      num: '1.5',
      j: { a: [1, 2] },
      t: new Date('2026-01-02T03:04:05.678Z'),
      bin: new Uint8Array([0, 255, 16]),
      arr: [1, 2],
      nothing: null,
    });
    assert.ok(row!.t instanceof Date);
    await assert.rejects(db.query('SELECT 9007199254740993::int8 AS huge'), /exceeds JavaScript's safe integer range/);

    await db.exec('CREATE TABLE t (id int PRIMARY KEY, doc jsonb, at timestamptz, raw bytea)');
    const at = new Date('2025-05-05T05:05:05.005Z');
    await db.query('INSERT INTO t VALUES ($1, $2::jsonb, $3, $4)', [1, JSON.stringify({ k: 'v' }), at, Buffer.from([1, 2, 3])]);
    assert.deepEqual(await db.query('SELECT doc, at, raw FROM t'), [{ doc: { k: 'v' }, at, raw: new Uint8Array([1, 2, 3]) }]);

    await assert.rejects(db.query('INSERT INTO t (id) VALUES (1)'), (err: Error & Record<string, unknown>) => {
      assert.equal(err.code, '23505');
      assert.equal(err.constraint, 't_pkey');
      assert.match(err.message, /duplicate key value violates unique constraint "t_pkey"/);
      return true;
    });
    await assert.rejects(db.query('SELEC 1'), (err: Error & { code?: string }) => err.code === '42601' && /syntax error/.test(err.message));
    await assert.rejects(db.query('SELECT $1::int', [() => 1]), /cannot send this query to the embedded database thread/);

    // Commit; a statement from outside waits for the transaction (PGlite's lock, held in the thread).
    let outside: Promise<{ n: number }[]> | undefined;
    const n = await db.transaction(async (tx) => {
      await tx.query('INSERT INTO t (id) VALUES (2)');
      outside = db.query<{ n: number }>('SELECT count(*)::int AS n FROM t');
      await tx.exec('INSERT INTO t (id) VALUES (3); INSERT INTO t (id) VALUES (4);');
      return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM t'))[0]!.n;
    });
    assert.equal(n, 4);
    assert.deepEqual(await outside, [{ n: 4 }], 'the outside statement ran after COMMIT');

    // Roll back: fn's own error is rethrown; a failing statement's SQLSTATE reaches fn.
    const boom = new Error('boom');
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO t (id) VALUES (5)');
        throw boom;
      }),
      (err) => err === boom,
    );
    await assert.rejects(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO t (id) VALUES (6)');
        await tx.query('INSERT INTO t (id) VALUES (1)');
      }),
      (err: Error & { code?: string }) => err.code === '23505',
    );
    assert.deepEqual(await db.query('SELECT id FROM t ORDER BY id'), [{ id: 1 }, { id: 2 }, { id: 3 }, { id: 4 }], 'rows 5 and 6 rolled back');

    // BEGIN travels with the first statement: two first statements at once, and a transaction without any.
    const both = await db.transaction((tx) => Promise.all([tx.query<{ n: number }>('SELECT 1 AS n'), tx.query<{ n: number }>('SELECT 2 AS n')]));
    assert.deepEqual(both, [[{ n: 1 }], [{ n: 2 }]]);
    assert.equal(await db.transaction(async () => 'nothing ran'), 'nothing ran');

    const outcome = await db.withAdvisoryLock(17, async () => (await db.query<{ n: number }>('SELECT 1 AS n'))[0]!.n);
    assert.deepEqual(outcome, { acquired: true, value: 1 });
  } finally {
    await db.close();
  }
  await assert.rejects(db.query('SELECT 1'), /closed/);
  await db.close(); // idempotent
});

test('worker mode: the event loop turns during a long query; close lets statements sent before it finish', async () => {
  // (A data directory's PGlite runs in the thread by default — see the last test — and db.test.ts
  // reopens one after close: its PID lock is released.)
  const db = await openPglite({ memory: true, worker: true });
  let ticks = 0;
  const timer = setInterval(() => ticks++, 1);
  try {
    await db.query('SELECT sum(i) FROM generate_series(1, 1000000) AS i');
  } finally {
    clearInterval(timer);
  }
  assert.ok(ticks > 0, 'timers ran on this thread while the database worked');

  await db.exec('CREATE TABLE w (i int)');
  const writes = Array.from({ length: 200 }, (_, i) => db.query('INSERT INTO w VALUES ($1) RETURNING i', [i]));
  const counted = db.query<{ n: number }>('SELECT count(*)::int AS n FROM w');
  await db.close();
  assert.equal((await Promise.all(writes)).length, 200);
  assert.deepEqual(await counted, [{ n: 200 }], 'every write sent before close ran');
});

test('PCAPMESH_PGLITE_WORKER overrides the defaults and refuses other values', () => {
  assert.equal(pgliteInWorker({ dataDir: '/x' }, {}), true);
  assert.equal(pgliteInWorker({ memory: true }, {}), false);
  assert.equal(pgliteInWorker({ memory: true, worker: true }, {}), true);
  assert.equal(pgliteInWorker({ memory: true }, { PCAPMESH_PGLITE_WORKER: '1' }), true);
  assert.equal(pgliteInWorker({ dataDir: '/x' }, { PCAPMESH_PGLITE_WORKER: '0' }), false);
  assert.throws(() => pgliteInWorker({ dataDir: '/x' }, { PCAPMESH_PGLITE_WORKER: 'yes' }), /PCAPMESH_PGLITE_WORKER must be 0 or 1, got "yes"/);
});
