/**
 * Counts the metrics endpoint reads at scrape time (http/metrics.ts): one aggregate query each.
 */
import { JOB_STATUSES } from '@pcapmesh/shared/wire';
import type { Queryable } from './db.types.js';

/** Jobs per state: every state of JOB_STATUSES (0 when none), and any other the table holds. */
export async function jobCountsByState(q: Queryable): Promise<Record<string, number>> {
  const counts: Record<string, number> = Object.fromEntries(JOB_STATUSES.map((s) => [s, 0]));
  const rows = await q.query<{ status: string; n: number }>('SELECT status, count(*)::int AS n FROM jobs GROUP BY status');
  for (const r of rows) counts[r.status] = r.n;
  return counts;
}
