/**
 * Partition manager of the time-series tables (daily RANGE partitions, UTC days).
 *
 * One `run(now)`:
 * - creates the partitions of today and the `ahead` following days that are missing; rows that
 *   had landed in the DEFAULT partition for such a day are moved into the new partition first
 *   (PostgreSQL refuses to create a partition whose range the default already holds);
 * - drops daily partitions whose day ended more than `retentionDays` ago;
 * - purges rows older than the retention from the DEFAULT partition;
 * and records every action in `partition_operations`. Runs are idempotent and safe from several
 * collectors at once (advisory lock, re-checked inside). Schedule it at start and hourly.
 *
 * @example
 *   const pm = new PartitionManager({ db, log, ahead: 3, tables: partitionedTables({ healthDays: 30, trafficDays: 30 }) });
 *   const report = await pm.run();
 */
import type { Logger } from '../log.js';
import type { Db, Queryable } from './db.js';

export interface PartitionedTable {
  /** Parent table, partitioned by RANGE on `column`, with a `<table>_default` partition. */
  table: string;
  column: string;
  retentionDays: number;
}

/** The collector's time-series tables with their retention (config.retention). */
export function partitionedTables(retention: { healthDays: number; trafficDays: number }): PartitionedTable[] {
  return [
    { table: 'health_samples', column: 'sampled_at', retentionDays: retention.healthDays },
    { table: 'traffic_samples', column: 'interval_start', retentionDays: retention.trafficDays },
  ];
}

export interface PartitionReport {
  created: string[];
  dropped: string[];
  /** Rows moved from default partitions into new ones. */
  moved: number;
  /** Rows deleted from default partitions as past retention. */
  purged: number;
}

export interface PartitionManagerDeps {
  db: Db;
  log: Logger;
  tables: PartitionedTable[];
  /** Days created ahead of today (config.retention.partitionsAhead). */
  ahead: number;
}

const LOCK_KEY = 4_242_002;
const DAY_MS = 86_400_000;
const IDENT = /^[a-z_][a-z0-9_]*$/;

export class PartitionManager {
  constructor(private readonly deps: PartitionManagerDeps) {
    for (const t of deps.tables) {
      if (!IDENT.test(t.table) || !IDENT.test(t.column)) throw new Error(`partition manager: bad identifier in ${JSON.stringify(t)}`);
    }
  }

  async run(now: Date = new Date()): Promise<PartitionReport> {
    const report: PartitionReport = { created: [], dropped: [], moved: 0, purged: 0 };
    const today = utcDay(now);
    for (const t of this.deps.tables) {
      try {
        for (let i = 0; i <= this.deps.ahead; i++) await this.ensure(t, today + i * DAY_MS, report);
        await this.expire(t, today - t.retentionDays * DAY_MS, report);
      } catch (err) {
        throw new Error(`partition maintenance of ${t.table} failed`, { cause: err });
      }
    }
    if (report.created.length + report.dropped.length + report.moved + report.purged > 0) {
      this.deps.log.info(report, 'partitions maintained');
    }
    return report;
  }

  /** Creates the partition of the day starting at `day` (ms) unless it exists. */
  private async ensure(t: PartitionedTable, day: number, report: PartitionReport): Promise<void> {
    const name = partitionName(t.table, day);
    const from = literal(day);
    const to = literal(day + DAY_MS);
    await this.deps.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
      if ((await partitionsOf(tx, t.table)).includes(name)) return;
      const where = `${t.column} >= ${from} AND ${t.column} < ${to}`;
      const [{ n } = { n: 0 }] = await tx.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${t.table}_default WHERE ${where}`);
      if (n > 0) {
        await tx.exec(`CREATE TEMP TABLE pcapmesh_moving ON COMMIT DROP AS SELECT * FROM ${t.table}_default WHERE ${where};
                       DELETE FROM ${t.table}_default WHERE ${where};`);
      }
      await tx.exec(`CREATE TABLE ${name} PARTITION OF ${t.table} FOR VALUES FROM (${from}) TO (${to})`);
      if (n > 0) {
        await tx.exec(`INSERT INTO ${t.table} SELECT * FROM pcapmesh_moving`);
        await record(tx, t.table, name, 'move-from-default', day, n);
        report.moved += n;
      }
      await record(tx, t.table, name, 'create', day, null);
      report.created.push(name);
    });
  }

  /** Drops daily partitions that end on or before `cutoff` and purges older default rows. */
  private async expire(t: PartitionedTable, cutoff: number, report: PartitionReport): Promise<void> {
    await this.deps.db.transaction(async (tx) => {
      await tx.query('SELECT pg_advisory_xact_lock($1)', [LOCK_KEY]);
      for (const name of await partitionsOf(tx, t.table)) {
        const day = dayOfPartition(t.table, name);
        if (day === null || day + DAY_MS > cutoff) continue;
        await tx.exec(`DROP TABLE ${name}`);
        await record(tx, t.table, name, 'drop', day, null);
        report.dropped.push(name);
      }
      const purged = await tx.query(`DELETE FROM ${t.table}_default WHERE ${t.column} < ${literal(cutoff)} RETURNING 1`);
      if (purged.length > 0) {
        await tx.query(
          `INSERT INTO partition_operations (table_name, partition_name, action, range_to, rows) VALUES ($1, $2, 'purge-default', $3, $4)`,
          [t.table, `${t.table}_default`, new Date(cutoff), purged.length],
        );
        report.purged += purged.length;
      }
    });
  }
}

/** Names of the partitions of `table` (the default one included). */
export async function partitionsOf(q: Queryable, table: string): Promise<string[]> {
  const rows = await q.query<{ name: string }>(
    `SELECT c.relname AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = $1::regclass ORDER BY 1`,
    [table],
  );
  return rows.map((r) => r.name);
}

async function record(q: Queryable, table: string, partition: string, action: string, day: number, rows: number | null): Promise<void> {
  await q.query(
    `INSERT INTO partition_operations (table_name, partition_name, action, range_from, range_to, rows) VALUES ($1, $2, $3, $4, $5, $6)`,
    [table, partition, action, new Date(day), new Date(day + DAY_MS), rows],
  );
}

/** `health_samples_p20261128` for the UTC day starting at `day` (ms). */
export function partitionName(table: string, day: number): string {
  return `${table}_p${new Date(day).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

function dayOfPartition(table: string, name: string): number | null {
  const m = new RegExp(`^${table}_p(\\d{4})(\\d{2})(\\d{2})$`).exec(name);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])) : null;
}

function utcDay(d: Date): number {
  return Math.floor(d.getTime() / DAY_MS) * DAY_MS;
}

/** A timestamptz literal of our own making (digits only: safe to inline in DDL). */
function literal(ms: number): string {
  return `'${new Date(ms).toISOString()}'::timestamptz`;
}
