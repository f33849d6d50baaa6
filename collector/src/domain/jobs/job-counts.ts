/**
 * Jobs per state, for the metrics endpoint (http/metrics.ts): every state of JOB_STATUSES is
 * present (0 when none). One aggregate query; reads no job rows.
 */
import type { Queryable } from '../../storage/db.types.js';
import { jobCountsByState } from '../../storage/metrics.repo.js';

export function jobStateCounts(db: Queryable): Promise<Record<string, number>> {
  return jobCountsByState(db);
}
