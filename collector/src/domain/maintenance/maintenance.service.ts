/**
 * The maintenance log (GET /admin/maintenance): every operation of the partition manager
 * (storage/partitions.ts) — table, partition, action, rows, bytes, outcome, duration, time —
 * newest first, a page at a time with a keyset cursor.
 *
 * @example
 *   const page = await maintenance.list({ table: 'health_samples', outcome: 'failed', limit: 50 });
 *   const older = await maintenance.list({ limit: 50, cursor: decodeCursor(page.next!)! });
 */
import type { Db } from '../../storage/db.js';
import { queryMaintenance, type MaintenanceAction, type MaintenanceFilter, type MaintenanceOutcome } from '../../storage/maintenance.repo.js';
import { encodeCursor } from '../accounts/audit.service.js';
import { invalid } from '../errors.js';

export { decodeCursor } from '../accounts/audit.service.js';
export { MAINTENANCE_ACTIONS, MAINTENANCE_OUTCOMES } from '../../storage/maintenance.repo.js';

export interface MaintenanceOperationView {
  id: number;
  /** When the operation started (ISO 8601). */
  at: string;
  table: string;
  partition: string;
  action: MaintenanceAction;
  rangeFrom: string | null;
  rangeTo: string | null;
  /** Rows moved or purged; a dropped partition's estimated rows; null for create. */
  rows: number | null;
  /** Bytes a dropped partition took; null otherwise. */
  bytes: number | null;
  outcome: MaintenanceOutcome;
  /** The database's message when the operation failed. */
  error: string | null;
  durationMs: number;
}

export interface MaintenancePage {
  operations: MaintenanceOperationView[];
  /** Cursor of the next (older) page, or null at the end. */
  next: string | null;
}

export type MaintenanceQuery = Omit<MaintenanceFilter, 'before'> & { cursor?: { at: Date; id: number } | undefined };

export class MaintenanceService {
  constructor(private readonly deps: { db: Db }) {}

  /** Operations newest first. Throws invalid when from is after to. */
  async list(q: MaintenanceQuery): Promise<MaintenancePage> {
    if (q.from && q.to && q.from.getTime() > q.to.getTime()) throw invalid('from: must not be after to');
    const rows = await queryMaintenance(this.deps.db, { ...q, before: q.cursor, limit: q.limit + 1 });
    const page = rows.slice(0, q.limit);
    const last = page.at(-1);
    return {
      operations: page.map((r) => ({
        ...r,
        at: r.at.toISOString(),
        rangeFrom: r.rangeFrom?.toISOString() ?? null,
        rangeTo: r.rangeTo?.toISOString() ?? null,
      })),
      next: rows.length > q.limit && last ? encodeCursor(last.at, last.id) : null,
    };
  }
}
