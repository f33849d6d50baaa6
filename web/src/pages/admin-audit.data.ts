/**
 * Loader of the audit log page (admin): GET /admin/audit with the chosen filters, newest first;
 * "Older entries" appends the next page (cursor paging).
 */
import { createSignal } from 'solid-js';
import type { AuditEntry } from '../api/types.js';
import type { AppServices } from '../context.jsx';

export interface AuditFilter {
  action?: string;
  outcome?: string;
  actor?: string;
}

export function loadAudit(app: Pick<AppServices, 'api'>) {
  const [entries, setEntries] = createSignal<AuditEntry[]>([]);
  const [next, setNext] = createSignal<string | null>(null);
  const [error, setError] = createSignal<Error | null>(null);
  let filter: AuditFilter = {};

  async function page(cursor?: string): Promise<void> {
    try {
      const res = await app.api.audit({ ...filter, limit: 100, ...(cursor ? { cursor } : {}) });
      setEntries((list) => (cursor ? [...list, ...res.entries] : res.entries));
      setNext(res.next);
      setError(null);
    } catch (err) {
      setError(err as Error);
    }
  }

  void page();
  return {
    entries,
    next,
    error,
    apply(f: AuditFilter): Promise<void> {
      filter = Object.fromEntries(Object.entries(f).filter(([, v]) => v)) as AuditFilter;
      return page();
    },
    more: () => page(next() ?? undefined),
  };
}
