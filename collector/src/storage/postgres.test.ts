/**
 * The pg pool survives its server dropping connections (#14 finding 3): an idle connection killed
 * by the server reaches the error handler (it would otherwise crash the process as an unhandled
 * 'error'), the pool replaces it, and a statement over the timeout fails instead of hanging.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import pg from 'pg';
import { inCi } from '@pcapmesh/shared/util/testing';
import { TEST_DATABASE_URL_ENV } from '../testing/databases.js';
import { openPostgres, POOL_TIMEOUTS } from './postgres.js';

const url = process.env[TEST_DATABASE_URL_ENV];

test('pool timeouts and keepalive are set', () => {
  assert.equal(POOL_TIMEOUTS.keepAlive, true);
  assert.ok(POOL_TIMEOUTS.connectionTimeoutMillis > 0 && POOL_TIMEOUTS.connectionTimeoutMillis <= 30_000);
  assert.ok(POOL_TIMEOUTS.statement_timeout > 0);
  assert.ok(POOL_TIMEOUTS.idleTimeoutMillis > 0);
});

test('an idle connection terminated by the server goes to the error handler; the next query works', async (t) => {
  if (!url) {
    // With CI=true a missing service fails (scripts/services.sh provides it); elsewhere the test is skipped.
    if (inCi()) throw new Error(`${TEST_DATABASE_URL_ENV} is not set; CI=true requires PostgreSQL (scripts/services.sh)`);
    t.skip(`${TEST_DATABASE_URL_ENV} is not set`);
    return;
  }
  const errors: Error[] = [];
  const db = await openPostgres(url, { max: 2, onError: (err) => errors.push(err) });
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  try {
    const [{ pid }] = (await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')) as [{ pid: number }];
    const [{ timeout }] = (await db.query<{ timeout: string }>("SELECT current_setting('statement_timeout') AS timeout")) as [{ timeout: string }];
    assert.equal(timeout, '5min', 'statement_timeout reaches the server');
    await admin.query('SELECT pg_terminate_backend($1)', [pid]);
    for (let i = 0; i < 100 && errors.length === 0; i += 1) await new Promise((r) => setTimeout(r, 20));
    assert.equal(errors.length, 1, 'the killed idle connection reached the handler');
    assert.deepEqual(await db.query('SELECT 1 AS one'), [{ one: 1 }]);
  } finally {
    await admin.end();
    await db.close();
  }
});
