/**
 * Migration 0016 (sql/0016_job_owner_ids.sql) over rows made before it: jobs and downloads of a
 * user or API token get that principal's stable id; a name no principal has any more stays NULL.
 * PGlite and PostgreSQL.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachDatabase } from '../testing/databases.js';
import { DEFAULT_MIGRATIONS_DIR, migrate } from './migrate.js';

const work = mkdtempSync(join(tmpdir(), 'pcapmesh-migration-0016-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A directory holding the repository's migrations up to `version`. */
function migrationsUpTo(version: number): string {
  const dir = mkdtempSync(join(work, `upto-${version}-`));
  for (const f of readdirSync(DEFAULT_MIGRATIONS_DIR))
    if (/^\d{4}_/.test(f) && Number(f.slice(0, 4)) <= version) copyFileSync(join(DEFAULT_MIGRATIONS_DIR, f), join(dir, f));
  return dir;
}

forEachDatabase(
  'migration 0016: job owners by principal id',
  (ctx) => {
    test('jobs and downloads of existing users and tokens get their ids; a gone owner stays NULL', async () => {
      await migrate(ctx.db, migrationsUpTo(15));
      const [user] = await ctx.db.query<{ id: number }>(`INSERT INTO users (username, role, source) VALUES ('alice', 'analyst', 'ldap') RETURNING id`);
      const [token] = await ctx.db.query<{ id: number }>(`INSERT INTO api_tokens (name, token_hash, role) VALUES ('ci', 'sha256:x', 'analyst') RETURNING id`);
      const jobs: Record<string, string> = {};
      for (const owner of ['alice', 'token:ci', 'gone', 'token:gone']) {
        jobs[owner] = randomUUID();
        await ctx.db.query(
          `INSERT INTO jobs (id, owner, window_from, window_to, window_ns, filter, filter_expression, targets, limits, deadline_at)
           VALUES ($1, $2, now() - interval '1 hour', now(), '{}'::jsonb, '{}'::jsonb, 'tcp', '{}'::jsonb, '{}'::jsonb, now())`,
          [jobs[owner], owner],
        );
        await ctx.db.query('INSERT INTO job_downloads (username, job_id, bytes) VALUES ($1, $2, 10)', [owner, jobs[owner]]);
      }
      await migrate(ctx.db, DEFAULT_MIGRATIONS_DIR);
      const owners = await ctx.db.query<{ owner: string; ownerId: string | null }>('SELECT owner, owner_id AS "ownerId" FROM jobs ORDER BY owner');
      const expected = [
        { owner: 'alice', ownerId: `user:${user!.id}` },
        { owner: 'gone', ownerId: null },
        { owner: 'token:ci', ownerId: `token:${token!.id}` },
        { owner: 'token:gone', ownerId: null },
      ];
      assert.deepEqual(owners, expected);
      const downloads = await ctx.db.query<{ owner: string; ownerId: string | null }>(
        'SELECT username AS owner, principal AS "ownerId" FROM job_downloads ORDER BY username',
      );
      assert.deepEqual(downloads, expected);
    });
  },
  { migrate: false },
);
