/**
 * A job's lease (docs/jobs.md "Job lease"): with several collectors on one database, exactly one
 * dispatches a job, retries its stalled tasks, ends it at its deadline and starts its merge — the
 * holder of its lease in the database (`jobs.lease_holder`, `lease_until`, sql/0019).
 *
 * Contract:
 * - `claim(jobId)` takes or renews the lease of one open job (free, already ours, or expired);
 *   false when another collector holds it — the caller then leaves the job alone.
 * - `claimOpen()` renews every lease this collector holds and takes the free and expired ones, in
 *   one statement; it returns the jobs held now and, of those, the ones taken over from another
 *   holder (whose lease expired: it died or lost the database), which the caller resumes.
 * - A lease lives `seconds` (jobs.mergeLeaseSeconds) and is renewed by every jobs tick (~2 s) of
 *   its holder, so a holder that stops ticking loses it after `seconds`.
 * - `holder` must be unique among the live collectors on the database (jobs/stack.ts gives each
 *   collector `{hostname}:{dataDir}`, its data directory being locked by one process at a time), so
 *   a collector restarted on its data directory finds its own leases again without waiting.
 */
import type { Db } from '../../storage/db.js';
import { claimJobLease, claimOpenJobLeases, releaseOtherJobLeases } from '../../storage/cluster.repo.js';

export interface HeldJobs {
  /** Open jobs whose lease this collector holds now. */
  held: Set<string>;
  /** Of those, the ones taken from another holder by this claim. */
  takenOver: string[];
}

export class JobLeases {
  constructor(
    private readonly db: Db,
    /** This collector in job leases. */
    readonly holder: string,
    private readonly seconds: number,
  ) {}

  claim(jobId: string): Promise<boolean> {
    return claimJobLease(this.db, jobId, this.holder, this.seconds);
  }

  async claimOpen(): Promise<HeldJobs> {
    const rows = await claimOpenJobLeases(this.db, this.holder, this.seconds);
    return {
      held: new Set(rows.map((r) => r.id)),
      takenOver: rows.filter((r) => r.previous !== null && r.previous !== this.holder).map((r) => r.id),
    };
  }

  /**
   * At start on PGlite, where this process is the only one that can open the database (PID lock):
   * leases of anyone else are a previous run's and are given up at once instead of waiting for
   * them to expire. Does nothing on PostgreSQL (other collectors may be alive). Returns the count.
   */
  async releaseStale(): Promise<number> {
    if (this.db.kind !== 'pglite') return 0;
    return releaseOtherJobLeases(this.db, this.holder);
  }
}
