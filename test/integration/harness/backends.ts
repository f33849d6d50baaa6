/**
 * The storage backends every acceptance scenario runs on: the embedded default (PGlite in the
 * collector's data dir, in-memory cache) and PostgreSQL 15 with Redis (scripts/services.sh). Each
 * PostgreSQL run gets a database of its own, dropped at the end; each gets its own Redis db index.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { openDb, type Db } from '../../../collector/src/storage/db.js';
import { requireEnv } from './env.js';
import type { TestScope } from './scope.js';

export type BackendName = 'pglite' | 'postgres';
export const BACKENDS: readonly BackendName[] = ['pglite', 'postgres'];

export interface Backend {
  name: BackendName;
  /** The collector's `database` and `redis` config sections for this backend. */
  config: { database: { url?: string }; redis: { url?: string } };
  /**
   * Opens the collector's database from the test process, to check what was stored. For PGlite the
   * collector must be stopped (the data dir is locked while it runs). Close it after use.
   */
  openDb(collectorDataDir: string): Promise<Db>;
}

/** Prepares a backend for one test, or returns null when the test was skipped (outside CI). */
export async function prepareBackend(scope: TestScope, name: BackendName): Promise<Backend | null> {
  if (name === 'pglite') {
    return { name, config: { database: {}, redis: {} }, openDb: (dataDir) => openDb({ dataDir }) };
  }
  const baseUrl = requireEnv(scope.t, 'PCAPMESH_TEST_DATABASE_URL', 'PostgreSQL');
  if (baseUrl === null) return null;
  const redisUrl = requireEnv(scope.t, 'PCAPMESH_TEST_REDIS_URL', 'Redis');
  if (redisUrl === null) return null;
  const database = `pcapmesh_it_${randomBytes(6).toString('hex')}`;
  await adminQuery(baseUrl, `CREATE DATABASE ${database}`);
  scope.defer(() => dropDatabase(baseUrl, database));
  const url = new URL(baseUrl);
  url.pathname = `/${database}`;
  return {
    name,
    config: { database: { url: url.toString() }, redis: { url: `${redisUrl.replace(/\/\d*$/, '')}/${await acquireRedisDb(scope, redisUrl)}` } },
    openDb: () => openDb({ url: url.toString(), maxConnections: 2 }),
  };
}

async function adminQuery(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } catch (err) {
    throw new Error(`PostgreSQL admin query failed: ${sql}`, { cause: err });
  } finally {
    await client.end();
  }
}

/**
 * Drops a test database, ending its sessions. A role without pg_signal_backend (a server set up
 * before scripts/services.sh granted it) cannot end an autovacuum worker there; that worker
 * finishes on its own, so the drop is tried again for a while.
 */
async function dropDatabase(url: string, database: string): Promise<void> {
  for (let attempt = 1; ; attempt++) {
    try {
      await adminQuery(url, `DROP DATABASE IF EXISTS ${database} WITH (FORCE)`);
      return;
    } catch (err) {
      if ((err as { cause?: { code?: string } }).cause?.code !== '42501' || attempt >= 20) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/**
 * A Redis database index (1–15) no other running test holds, emptied: tests run two at a time, and
 * two collectors on one index would read each other's caches, tokens and login counters. Held
 * through a lock directory per index (mkdir is atomic); a lock whose process is gone is taken over.
 */
async function acquireRedisDb(scope: TestScope, redisUrl: string): Promise<number> {
  const { hostname, port } = new URL(redisUrl);
  const locks = join(tmpdir(), 'pcapmesh-it-redis-locks', `${hostname}-${port || '6379'}`);
  mkdirSync(locks, { recursive: true });
  for (let round = 0; round < 600; round++) {
    for (let index = 1; index <= 15; index++) {
      const lock = join(locks, String(index));
      if (!takeLock(lock)) continue;
      scope.defer(() => rmSync(lock, { recursive: true, force: true }));
      await promisify(execFile)('redis-cli', ['-h', hostname, '-p', port || '6379', '-n', String(index), 'FLUSHDB']);
      return index;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no free Redis database index under ${locks} after a minute`);
}

function takeLock(lock: string): boolean {
  try {
    mkdirSync(lock);
  } catch {
    if (!stale(lock)) return false;
    rmSync(lock, { recursive: true, force: true });
    try {
      mkdirSync(lock);
    } catch {
      return false;
    }
  }
  writeFileSync(join(lock, 'pid'), String(process.pid));
  return true;
}

/** A lock whose process is gone, or one left without an owner for over 10 s. */
function stale(lock: string): boolean {
  try {
    const owner = Number(readFileSync(join(lock, 'pid'), 'utf8'));
    return !(Number.isInteger(owner) && alive(owner));
  } catch {
    try {
      return Date.now() - statSync(lock).mtimeMs > 10_000;
    } catch {
      return false;
    }
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
