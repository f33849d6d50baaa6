/** SQL of the `audit_log` table (sql/0004_users.sql), partitioned by day on `at`. */
import type { Queryable } from './db.js';
import type { PartitionedTable } from './partitions.js';

export interface AuditRow {
  id: number;
  at: Date;
  actor: string | null;
  action: string;
  target: string | null;
  outcome: 'ok' | 'denied' | 'failed';
  sourceIp: string | null;
  details: Record<string, unknown>;
}

export type NewAuditRow = Omit<AuditRow, 'id' | 'at'> & { at: Date };

export interface AuditFilter {
  from?: Date | undefined;
  to?: Date | undefined;
  actor?: string | undefined;
  /** Exact action, or a prefix ending in "." ("user." matches user.create, user.update, ...). */
  action?: string | undefined;
  outcome?: AuditRow['outcome'] | undefined;
  /** Keyset paging: rows strictly older than this (at, id). */
  before?: { at: Date; id: number } | undefined;
  limit: number;
}

export async function insertAudit(q: Queryable, row: NewAuditRow): Promise<void> {
  await q.query(`INSERT INTO audit_log (at, actor, action, target, outcome, source_ip, details) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)`, [
    row.at,
    row.actor,
    row.action,
    row.target,
    row.outcome,
    row.sourceIp,
    JSON.stringify(row.details),
  ]);
}

/** Newest first; every filter is a bound parameter. */
export async function queryAudit(q: Queryable, f: AuditFilter): Promise<AuditRow[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const add = (sql: (n: string) => string, value: unknown) => {
    params.push(value);
    where.push(sql(`$${params.length}`));
  };
  if (f.from) add((p) => `at >= ${p}`, f.from);
  if (f.to) add((p) => `at < ${p}`, f.to);
  if (f.actor) add((p) => `actor = ${p}`, f.actor);
  if (f.action?.endsWith('.')) add((p) => `starts_with(action, ${p})`, f.action);
  else if (f.action) add((p) => `action = ${p}`, f.action);
  if (f.outcome) add((p) => `outcome = ${p}`, f.outcome);
  if (f.before) {
    params.push(f.before.at, f.before.id);
    where.push(`(at, id) < ($${params.length - 1}, $${params.length})`);
  }
  params.push(f.limit);
  return q.query<AuditRow>(
    `SELECT id, at, actor, action, target, outcome, source_ip AS "sourceIp", details FROM audit_log
      ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY at DESC, id DESC LIMIT $${params.length}`,
    params,
  );
}

/** The audit log as a table for the PartitionManager (daily partitions, `days` kept). */
export function auditPartitionedTable(days: number): PartitionedTable {
  return { table: 'audit_log', column: 'at', retentionDays: days };
}
