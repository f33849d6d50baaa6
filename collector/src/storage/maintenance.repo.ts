/** SQL of `maintenance_operations` (sql/0011_maintenance.sql): what the partition manager did. */
import type { Queryable } from './db.js';

export const MAINTENANCE_ACTIONS = ['create', 'drop', 'move-from-default', 'purge-default'] as const;
export type MaintenanceAction = (typeof MAINTENANCE_ACTIONS)[number];
export const MAINTENANCE_OUTCOMES = ['ok', 'failed'] as const;
export type MaintenanceOutcome = (typeof MAINTENANCE_OUTCOMES)[number];

export interface MaintenanceRow {
  id: number;
  /** When the operation started. */
  at: Date;
  table: string;
  partition: string;
  action: MaintenanceAction;
  rangeFrom: Date | null;
  rangeTo: Date | null;
  rows: number | null;
  bytes: number | null;
  outcome: MaintenanceOutcome;
  error: string | null;
  durationMs: number;
}

export type NewMaintenanceRow = Omit<MaintenanceRow, 'id'>;

export interface MaintenanceFilter {
  from?: Date | undefined;
  to?: Date | undefined;
  /** Exact table name (a parent such as `health_samples`, or a per-location table). */
  table?: string | undefined;
  outcome?: MaintenanceOutcome | undefined;
  /** Keyset paging: rows strictly older than this (at, id). */
  before?: { at: Date; id: number } | undefined;
  limit: number;
}

export async function insertMaintenance(q: Queryable, r: NewMaintenanceRow): Promise<void> {
  await q.query(
    `INSERT INTO maintenance_operations (at, table_name, partition_name, action, range_from, range_to, rows, bytes, outcome, error, duration_ms)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [r.at, r.table, r.partition, r.action, r.rangeFrom, r.rangeTo, r.rows, r.bytes, r.outcome, r.error, r.durationMs],
  );
}

/** Newest first; every filter is a bound parameter. */
export async function queryMaintenance(q: Queryable, f: MaintenanceFilter): Promise<MaintenanceRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (f.from) add((p) => `at >= ${p}`, f.from);
  if (f.to) add((p) => `at < ${p}`, f.to);
  if (f.table) add((p) => `table_name = ${p}`, f.table);
  if (f.outcome) add((p) => `outcome = ${p}`, f.outcome);
  if (f.before) {
    params.push(f.before.at, f.before.id);
    where.push(`(at, id) < ($${params.length - 1}, $${params.length})`);
  }
  params.push(f.limit);
  return q.query<MaintenanceRow>(
    `SELECT id, at, table_name AS "table", partition_name AS "partition", action, range_from AS "rangeFrom", range_to AS "rangeTo",
            rows, bytes, outcome, error, duration_ms AS "durationMs"
       FROM maintenance_operations ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
}
