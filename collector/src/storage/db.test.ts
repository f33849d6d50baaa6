import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachDatabase } from '../testing/databases.js';
import { openDb } from './db.js';
import { LockedError } from './lock.js';

forEachDatabase(
  'Db contract',
  (ctx) => {
    test('types come back alike on both databases', async () => {
      const [row] = await ctx.db.query<Record<string, unknown>>(
        `SELECT 42::int8 AS big, 7::int4 AS small, 1.5::numeric AS num, 0.25::float8 AS dbl, '{"a":[1,2]}'::jsonb AS j,
                '2026-01-02T03:04:05.678Z'::timestamptz AS t, ARRAY['x','y']::text[] AS arr, NULL::text AS nothing, true AS yes`,
      );
      assert.deepEqual(row, {
        big: 42,
        small: 7,
        num: '1.5',
        dbl: 0.25,
        j: { a: [1, 2] },
        t: new Date('2026-01-02T03:04:05.678Z'),
        arr: ['x', 'y'],
        nothing: null,
        yes: true,
      });
      await assert.rejects(ctx.db.query('SELECT 9007199254740993::int8 AS huge'), /exceeds JavaScript's safe integer range/);
    });

    test('json parameters, exec scripts, transactions commit and roll back', async () => {
      await ctx.db.exec('CREATE TABLE db_probe (id int PRIMARY KEY, doc jsonb); CREATE INDEX db_probe_doc ON db_probe USING gin (doc);');
      await ctx.db.query('INSERT INTO db_probe VALUES ($1, $2::jsonb)', [1, JSON.stringify([{ k: 'v' }])]);
      assert.deepEqual(await ctx.db.query('SELECT doc FROM db_probe'), [{ doc: [{ k: 'v' }] }]);

      const result = await ctx.db.transaction(async (tx) => {
        await tx.query('INSERT INTO db_probe VALUES (2, NULL)');
        return (await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM db_probe'))[0]!.n;
      });
      assert.equal(result, 2);
      await assert.rejects(
        ctx.db.transaction(async (tx) => {
          await tx.query('INSERT INTO db_probe VALUES (3, NULL)');
          await tx.query('INSERT INTO db_probe VALUES (1, NULL)'); // duplicate key
        }),
        (err: Error & { code?: string }) => err.code === '23505',
      );
      assert.deepEqual(await ctx.db.query('SELECT id FROM db_probe ORDER BY id'), [{ id: 1 }, { id: 2 }], 'row 3 rolled back');
      await ctx.db.ping();
    });
  },
  { migrate: false },
);

test('embedded PGlite: a second opener of the same data dir is refused; after close it opens again', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'pglite-'));
  const db = await openDb({ dataDir });
  try {
    await db.query('CREATE TABLE kept (v text)');
    await db.query(`INSERT INTO kept VALUES ('persisted')`);
    await assert.rejects(openDb({ dataDir }), (err) => err instanceof LockedError && err.message.includes(join(dataDir, 'db.lock')));
  } finally {
    await db.close();
  }
  const again = await openDb({ dataDir });
  try {
    assert.equal(again.kind, 'pglite');
    assert.deepEqual(await again.query('SELECT v FROM kept'), [{ v: 'persisted' }]);
  } finally {
    await again.close();
  }
});

test('bad URLs and unreachable PostgreSQL are clear errors without the password', async () => {
  await assert.rejects(openDb({ url: 'mysql://x' }), /unsupported database URL scheme in "mysql"/);
  await assert.rejects(openDb({}), /neither database\.url nor dataDir/);
  await assert.rejects(openDb({ url: 'postgres://u:hunter2@127.0.0.1:1/db' }), (err: Error) => {
    assert.match(err.message, /cannot connect to PostgreSQL at postgres:\/\/u:\*\*\*@127\.0\.0\.1:1\/db/);
    assert.ok(!err.message.includes('hunter2'));
    return true;
  });
});
