/**
 * The audit log: who did what, when, from where, with what outcome. Logins and their failures,
 * lockouts, user, sensor and configuration changes, job submit/cancel/download.
 *
 * `record` never throws: an audit write that fails is logged (error level) and counted, and the
 * action it describes is not undone. Query with `list` (filters and keyset paging, newest first).
 *
 * @example
 *   await audit.record({ actor: 'admin', action: 'user.create', target: 'ana', outcome: 'ok' });
 *   const { entries, next } = await audit.list({ action: 'login.', limit: 50 });
 */
import type { Logger } from '../../log.js';
import type { Db } from '../../storage/db.js';
import { insertAudit, queryAudit, type AuditFilter, type AuditRow } from '../../storage/audit.repo.js';

export interface AuditEntryInput {
  actor: string | null;
  action: string;
  target?: string | null;
  outcome: AuditRow['outcome'];
  sourceIp?: string | null;
  details?: Record<string, unknown>;
}

/** Who makes a change, for its audit entry: `admin1`, `token:<label>` for an API token, `cli`; null when unknown. */
export type ChangedBy = Pick<AuditEntryInput, 'actor' | 'sourceIp'>;

export interface AuditEntryView {
  id: number;
  at: string;
  actor: string | null;
  action: string;
  target: string | null;
  outcome: AuditRow['outcome'];
  sourceIp: string | null;
  details: Record<string, unknown>;
}

export interface AuditPage {
  entries: AuditEntryView[];
  /** Cursor for the next (older) page, or null at the end. */
  next: string | null;
}

/** An opaque paging cursor: base64url of "<iso>|<id>". */
export function encodeCursor(at: Date, id: number): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}

export function decodeCursor(cursor: string): { at: Date; id: number } | null {
  const [iso, id] = Buffer.from(cursor, 'base64url').toString().split('|');
  const at = new Date(iso ?? '');
  const n = Number(id);
  return Number.isNaN(at.getTime()) || !Number.isSafeInteger(n) ? null : { at, id: n };
}

export class AuditService {
  readonly counters = { recorded: 0, failed: 0 };
  private readonly now: () => Date;

  constructor(private readonly deps: { db: Db; log: Logger; now?: () => Date }) {
    this.now = deps.now ?? (() => new Date());
  }

  async record(entry: AuditEntryInput): Promise<void> {
    try {
      await insertAudit(this.deps.db, {
        at: this.now(),
        actor: entry.actor,
        action: entry.action,
        target: entry.target ?? null,
        outcome: entry.outcome,
        sourceIp: entry.sourceIp ?? null,
        details: entry.details ?? {},
      });
      this.counters.recorded += 1;
    } catch (err) {
      this.counters.failed += 1;
      this.deps.log.error({ err, action: entry.action, actor: entry.actor }, 'audit write failed');
    }
  }

  async list(filter: Omit<AuditFilter, 'before'> & { cursor?: { at: Date; id: number } | undefined }): Promise<AuditPage> {
    const rows = await queryAudit(this.deps.db, { ...filter, before: filter.cursor, limit: filter.limit + 1 });
    const page = rows.slice(0, filter.limit);
    const last = page.at(-1);
    return {
      entries: page.map((r) => ({ ...r, at: r.at.toISOString() })),
      next: rows.length > filter.limit && last ? encodeCursor(last.at, last.id) : null,
    };
  }
}
