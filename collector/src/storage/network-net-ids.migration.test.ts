/**
 * Migration 0020 (sql/0020_network_net_ids.sql) over rows made before it: network_traffic and
 * network_pairs_hour keep every row, with their subnet texts now network_nets ids, and the
 * primary keys (the replay check, the rollup's upsert target) are on the ids. PGlite and PostgreSQL.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachDatabase } from '../testing/databases.js';
import { DEFAULT_MIGRATIONS_DIR, migrate } from './migrate.js';
import { ensureLocationTrafficTable } from './network-traffic.repo.js';

const work = mkdtempSync(join(tmpdir(), 'pcapmesh-migration-0020-'));
after(() => rmSync(work, { recursive: true, force: true }));

/** A directory holding the repository's migrations up to `version`. */
function migrationsUpTo(version: number): string {
  const dir = mkdtempSync(join(work, `upto-${version}-`));
  for (const f of readdirSync(DEFAULT_MIGRATIONS_DIR))
    if (/^\d{4}_/.test(f) && Number(f.slice(0, 4)) <= version) copyFileSync(join(DEFAULT_MIGRATIONS_DIR, f), join(dir, f));
  return dir;
}

const ROWS = [
  ['2026-03-10T12:00:00Z', 'p1', '10.1.0.0/24', '10.2.0.0/24', 3, 300],
  ['2026-03-10T12:00:00Z', 'p1', '10.2.0.0/24', '10.1.0.0/24', 1, 90],
  ['2026-03-10T12:01:00Z', '', '10.1.0.0/24', 'other', 2, 120],
  ['2026-03-11T08:30:00Z', 'p2', '2001:db8::/64', '10.1.0.0/24', 5, 700],
] as const;

forEachDatabase(
  'migration 0020: network subnets as ids',
  (ctx) => {
    test('base rows and hourly pairs keep their values under ids; the keys are on the ids', async () => {
      await migrate(ctx.db, migrationsUpTo(19));
      const [loc] = await ctx.db.query<{ id: number }>(`INSERT INTO locations (name) VALUES ('site-m') RETURNING id`);
      await ctx.db.transaction((tx) => ensureLocationTrafficTable(tx, loc!.id));
      for (const [minute, part, src, dst, packets, bytes] of ROWS) {
        await ctx.db.query(
          `INSERT INTO network_traffic (location_id, minute, sensor_id, part, src_net, dst_net, packets, bytes) VALUES ($1, $2, 7, $3, $4, $5, $6, $7)`,
          [loc!.id, minute, part, src, dst, packets, bytes],
        );
        await ctx.db.query(
          `INSERT INTO network_pairs_hour (location_id, hour, src_net, dst_net, packets, bytes)
           VALUES ($1, date_trunc('hour', $2::timestamptz AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', $3, $4, $5, $6)
           ON CONFLICT (location_id, hour, src_net, dst_net) DO UPDATE SET packets = network_pairs_hour.packets + EXCLUDED.packets, bytes = network_pairs_hour.bytes + EXCLUDED.bytes`,
          [loc!.id, minute, src, dst, packets, bytes],
        );
      }
      await migrate(ctx.db, DEFAULT_MIGRATIONS_DIR);

      const base = await ctx.db.query<{ r: string }>(
        `SELECT concat_ws(',', t.minute AT TIME ZONE 'UTC', t.part, s.net, d.net, t.packets, t.bytes) AS r
           FROM network_traffic t JOIN network_nets s ON s.id = t.src_id JOIN network_nets d ON d.id = t.dst_id ORDER BY 1`,
      );
      const at = (iso: string) => iso.slice(0, 19).replace('T', ' ');
      assert.deepEqual(
        base.map((x) => x.r),
        ROWS.map(([m, part, src, dst, p, b]) => [at(m), part, src, dst, p, b].join(',')).sort(),
      );
      const hours = await ctx.db.query<{ r: string }>(
        `SELECT concat_ws(',', s.net, d.net, t.packets, t.bytes) AS r
           FROM network_pairs_hour t JOIN network_nets s ON s.id = t.src_id JOIN network_nets d ON d.id = t.dst_id ORDER BY 1`,
      );
      assert.deepEqual(
        hours.map((x) => x.r),
        ROWS.map(([, , src, dst, p, b]) => [src, dst, p, b].join(',')).sort(),
      );
      assert.deepEqual(
        (await ctx.db.query<{ net: string }>('SELECT net FROM network_nets ORDER BY net')).map((x) => x.net),
        ['10.1.0.0/24', '10.2.0.0/24', '2001:db8::/64', 'other'],
      );
      // The same row again is a conflict on the id key (the replay check).
      const [first] = await ctx.db.query<{ src: number; dst: number }>(
        `SELECT src_id AS src, dst_id AS dst FROM network_traffic WHERE part = 'p1' ORDER BY bytes DESC LIMIT 1`,
      );
      await assert.rejects(
        ctx.db.query(
          `INSERT INTO network_traffic (location_id, minute, sensor_id, part, src_id, dst_id, packets, bytes) VALUES ($1, '2026-03-10T12:00:00Z', 7, 'p1', $2, $3, 1, 1)`,
          [loc!.id, first!.src, first!.dst],
        ),
        /duplicate key/,
      );
    });
  },
  { migrate: false },
);
