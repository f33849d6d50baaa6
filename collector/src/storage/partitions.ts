/**
 * Partition manager of the time-series tables (daily RANGE partitions, UTC days).
 *
 * One `run(now)`, under the session advisory lock MAINTENANCE_LOCK_KEY (Db.withAdvisoryLock), so
 * two collectors — or two callers in one — never maintain at once:
 * - creates the partitions of today and the `ahead` following days that are missing; rows that
 *   had landed in the DEFAULT partition for such a day are moved into the new partition first
 *   (PostgreSQL refuses to create a partition whose range the default already holds);
 * - drops daily partitions whose day ended more than the table's `retentionDays` ago;
 * - purges rows older than the retention from the DEFAULT partition.
 * Each operation runs in a transaction of its own and is recorded in `maintenance_operations`
 * (storage/maintenance.repo.ts) with its table, partition, rows, bytes, outcome and duration: a
 * successful one in the same transaction, a failed one after its rollback (with the database's
 * message). A table whose operation fails is left for the next run; the other tables go on. Runs
 * are idempotent. Schedule it at start and hourly.
 *
 * Tables come as a list or a `PartitionRegistry`, which other modules add their tables or table
 * sources to (a source is asked at every run: per-location tables appear while the collector runs).
 *
 * @example
 *   const registry = new PartitionRegistry().add(...partitionedTables(config.retention));
 *   registry.addSource('network', (q) => networkPartitionedTables(q, config.retention.trafficDays));
 *   const pm = new PartitionManager({ db, log, ahead: 3, tables: registry });
 *   const report = await pm.run(new Date(), { ifLocked: 'skip' });
 */
import { performance } from 'node:perf_hooks';
import type { Logger } from '../log.js';
import type { Db, Queryable } from './db.js';
import { insertMaintenance, type MaintenanceAction } from './maintenance.repo.js';

export interface PartitionedTable {
  /** Parent table, partitioned by RANGE on `column`, with a `<table>_default` partition. */
  table: string;
  column: string;
  retentionDays: number;
}

/** Lists tables at run time (e.g. the network view's per-location tables). */
export type PartitionSource = (q: Queryable) => Promise<PartitionedTable[]>;

/**
 * The tables the manager keeps: fixed ones and sources asked at every run. A table listed twice
 * is kept once (the first listing's retention wins).
 */
export class PartitionRegistry {
  private readonly fixed: PartitionedTable[] = [];
  private readonly sources: { name: string; list: PartitionSource }[] = [];

  add(...tables: PartitionedTable[]): this {
    for (const t of tables) checkIdentifiers(t);
    this.fixed.push(...tables);
    return this;
  }

  /** `name` appears in the error when the source fails. */
  addSource(name: string, list: PartitionSource): this {
    this.sources.push({ name, list });
    return this;
  }

  async tables(q: Queryable): Promise<PartitionedTable[]> {
    const all = [...this.fixed];
    for (const s of this.sources) {
      try {
        const listed = await s.list(q);
        for (const t of listed) checkIdentifiers(t);
        all.push(...listed);
      } catch (err) {
        throw new Error(`partition source ${s.name} failed`, { cause: err });
      }
    }
    const seen = new Set<string>();
    return all.filter((t) => !seen.has(t.table) && seen.add(t.table));
  }
}

/**
 * The collector's own time-series tables with their retention (config.retention): health samples,
 * traffic samples, and the sensor status history when `statusDays` is given. The audit log adds
 * itself (audit.repo.ts auditPartitionedTable), the network view its per-location tables.
 */
export function partitionedTables(retention: { healthDays: number; trafficDays: number; statusDays?: number }): PartitionedTable[] {
  return [
    { table: 'health_samples', column: 'sampled_at', retentionDays: retention.healthDays },
    { table: 'traffic_samples', column: 'interval_start', retentionDays: retention.trafficDays },
    ...(retention.statusDays === undefined ? [] : [{ table: 'sensor_status_history', column: 'at', retentionDays: retention.statusDays }]),
  ];
}

export interface PartitionReport {
  created: string[];
  dropped: string[];
  /** Rows moved from default partitions into new ones. */
  moved: number;
  /** Rows deleted from default partitions as past retention. */
  purged: number;
  /** Operations that failed: `<action> <partition>: <message>` (also in maintenance_operations). */
  failed: string[];
  /** True when another run held the lock and this one did nothing (`ifLocked: 'skip'`). */
  skipped: boolean;
}

export interface PartitionManagerDeps {
  db: Db;
  log: Logger;
  tables: PartitionedTable[] | PartitionRegistry;
  /** Days created ahead of today (config.retention.partitionsAhead). */
  ahead: number;
}

/** The advisory lock every maintenance run holds. */
export const MAINTENANCE_LOCK_KEY = 4_242_002;
const DAY_MS = 86_400_000;
const IDENT = /^[a-z_][a-z0-9_]*$/;

interface Operation {
  table: PartitionedTable;
  partition: string;
  action: MaintenanceAction;
  rangeFrom: Date | null;
  rangeTo: Date | null;
}

export class PartitionManager {
  constructor(private readonly deps: PartitionManagerDeps) {
    if (Array.isArray(deps.tables)) for (const t of deps.tables) checkIdentifiers(t);
  }

  /**
   * One maintenance run. `ifLocked`: 'wait' (default) waits for a run in progress elsewhere, then
   * runs; 'skip' returns at once with `skipped: true` (the hourly run: the other run does the work).
   */
  async run(now: Date = new Date(), opts: { ifLocked?: 'wait' | 'skip' } = {}): Promise<PartitionReport> {
    const report: PartitionReport = { created: [], dropped: [], moved: 0, purged: 0, failed: [], skipped: false };
    const outcome = await this.deps.db.withAdvisoryLock(MAINTENANCE_LOCK_KEY, () => this.runLocked(now, report), {
      wait: (opts.ifLocked ?? 'wait') === 'wait',
    });
    if (!outcome.acquired) {
      this.deps.log.debug('partition maintenance skipped: another run holds the lock');
      return { ...report, skipped: true };
    }
    const { failed, ...counts } = report;
    if (failed.length > 0) this.deps.log.error({ ...counts, failed }, 'partition maintenance: operations failed');
    else if (counts.created.length + counts.dropped.length + counts.moved + counts.purged > 0) this.deps.log.info(counts, 'partitions maintained');
    return report;
  }

  private async runLocked(now: Date, report: PartitionReport): Promise<void> {
    const db = this.deps.db;
    const tables = Array.isArray(this.deps.tables) ? this.deps.tables : await this.deps.tables.tables(db);
    const today = utcDay(now);
    for (const t of tables) {
      const existing = new Set(await partitionsOf(db, t.table));
      let ok = true;
      for (let i = 0; i <= this.deps.ahead && ok; i++) {
        const day = today + i * DAY_MS;
        const name = partitionName(t.table, day);
        if (existing.has(name)) continue;
        ok = await this.ensure(t, day, now, report);
      }
      if (!ok) continue;
      const cutoff = today - t.retentionDays * DAY_MS;
      for (const name of existing) {
        const day = dayOfPartition(t.table, name);
        if (day === null || day + DAY_MS > cutoff) continue;
        const op: Operation = { table: t, partition: name, action: 'drop', rangeFrom: new Date(day), rangeTo: new Date(day + DAY_MS) };
        const dropped = await this.operate(op, now, report, async (tx) => {
          const [size] = await tx.query<{ bytes: number; rows: number }>(
            `SELECT pg_total_relation_size(c.oid)::int8 AS bytes, c.reltuples::int8 AS rows FROM pg_class c WHERE c.oid = $1::regclass`,
            [name],
          );
          await tx.exec(`DROP TABLE ${name}`);
          return { rows: size && size.rows >= 0 ? size.rows : null, bytes: size?.bytes ?? null };
        });
        if (dropped) report.dropped.push(name);
      }
      const purge: Operation = { table: t, partition: `${t.table}_default`, action: 'purge-default', rangeFrom: null, rangeTo: new Date(cutoff) };
      await this.operate(purge, now, report, async (tx) => {
        const purged = (await tx.query(`DELETE FROM ${t.table}_default WHERE ${t.column} < ${literal(cutoff)} RETURNING 1`)).length;
        report.purged += purged;
        return purged > 0 ? { rows: purged, bytes: null } : 'nothing';
      });
    }
  }

  /** Creates the partition of the day starting at `day` (ms), moving its rows out of DEFAULT; false when it failed. */
  private async ensure(t: PartitionedTable, day: number, now: Date, report: PartitionReport): Promise<boolean> {
    const name = partitionName(t.table, day);
    const range = { rangeFrom: new Date(day), rangeTo: new Date(day + DAY_MS) };
    const from = literal(day);
    const to = literal(day + DAY_MS);
    let moved = 0;
    const created = await this.operate({ table: t, partition: name, action: 'create', ...range }, now, report, async (tx) => {
      if ((await partitionsOf(tx, t.table)).includes(name)) return 'nothing';
      const where = `${t.column} >= ${from} AND ${t.column} < ${to}`;
      const [{ n } = { n: 0 }] = await tx.query<{ n: number }>(`SELECT count(*)::int8 AS n FROM ${t.table}_default WHERE ${where}`);
      if (n > 0) {
        await tx.exec(`CREATE TEMP TABLE pcapmesh_moving ON COMMIT DROP AS SELECT * FROM ${t.table}_default WHERE ${where};
                       DELETE FROM ${t.table}_default WHERE ${where};`);
      }
      await tx.exec(`CREATE TABLE ${name} PARTITION OF ${t.table} FOR VALUES FROM (${from}) TO (${to})`);
      if (n > 0) {
        await tx.exec(`INSERT INTO ${t.table} SELECT * FROM pcapmesh_moving`);
        await insertMaintenance(tx, {
          at: now,
          table: t.table,
          partition: name,
          action: 'move-from-default',
          ...range,
          rows: n,
          bytes: null,
          outcome: 'ok',
          error: null,
          durationMs: 0,
        });
        moved = n;
      }
      return { rows: null, bytes: null };
    });
    if (created === true) {
      report.created.push(name);
      report.moved += moved;
    }
    return created !== false;
  }

  /**
   * Runs one operation in a transaction and records it there; a failure is rolled back and then
   * recorded as failed. `work` answers 'nothing' when there was nothing to do (nothing recorded).
   * Returns true when done, 'nothing' when there was nothing to do, false when it failed.
   */
  private async operate(
    op: Operation,
    now: Date,
    report: PartitionReport,
    work: (tx: Queryable) => Promise<{ rows: number | null; bytes: number | null } | 'nothing'>,
  ): Promise<boolean | 'nothing'> {
    const started = performance.now();
    const at = new Date(now.getTime());
    const base = { at, table: op.table.table, partition: op.partition, action: op.action, rangeFrom: op.rangeFrom, rangeTo: op.rangeTo };
    try {
      return await this.deps.db.transaction(async (tx) => {
        const done = await work(tx);
        if (done === 'nothing') return 'nothing';
        await insertMaintenance(tx, { ...base, ...done, outcome: 'ok', error: null, durationMs: performance.now() - started });
        return true;
      });
    } catch (err) {
      const message = errorText(err);
      report.failed.push(`${op.action} ${op.partition}: ${message}`);
      this.deps.log.error({ err, table: op.table.table, partition: op.partition, action: op.action }, 'partition operation failed');
      try {
        await insertMaintenance(this.deps.db, { ...base, rows: null, bytes: null, outcome: 'failed', error: message, durationMs: performance.now() - started });
      } catch (recordErr) {
        this.deps.log.error({ err: recordErr, partition: op.partition }, 'cannot record a failed partition operation');
      }
      return false;
    }
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

/** `health_samples_p20261128` for the UTC day starting at `day` (ms). */
export function partitionName(table: string, day: number): string {
  return `${table}_p${new Date(day).toISOString().slice(0, 10).replaceAll('-', '')}`;
}

function checkIdentifiers(t: PartitionedTable): void {
  if (!IDENT.test(t.table) || !IDENT.test(t.column)) throw new Error(`partition manager: bad identifier in ${JSON.stringify(t)}`);
  if (!Number.isInteger(t.retentionDays) || t.retentionDays < 1) throw new Error(`partition manager: retentionDays of ${t.table} must be a whole number ≥ 1`);
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

/** The database's message, one line, bounded. */
function errorText(err: unknown): string {
  const e = err as { message?: unknown };
  return String(e?.message ?? err)
    .split('\n')[0]!
    .slice(0, 500);
}
