/**
 * Periodic work run once per interval across every collector on the database (docs/operations.md
 * "Several collectors"): results expiry, the heartbeat sweep, partition maintenance, subnet map
 * learning. Each collector checks every half interval; the one whose claim finds the run due and
 * none in progress runs it (`periodic_runs`, storage/cluster.repo.ts — concurrent claims serialise
 * on the row, so exactly one wins), the others skip.
 *
 * Contract of `runIfDue(name, intervalSeconds, fn)`:
 * - the claim makes the next run due 0.9 × interval later (so a check half an interval later
 *   than exactly one interval still finds it due): with one collector it runs every interval, with
 *   several once per 0.9–1.4 intervals whatever their number;
 * - a run in progress holds the claim (a lease of max(interval, 30 s)); a holder that dies
 *   mid-run blocks the next one until that lease has passed;
 * - `fn`'s error is rethrown after the run is marked finished (the caller's every() logs it);
 *   resolves true when `fn` ran here, false when another collector has it.
 */
import type { Logger } from 'pino';
import type { Db } from '../../storage/db.js';
import { claimPeriodicRun, finishPeriodicRun } from '../../storage/cluster.repo.js';

/** A run claimed now is due again after this share of its interval. */
const DUE_SHARE = 0.9;
/** Shortest lease of a run in progress, seconds. */
const MIN_LEASE_SECONDS = 30;

export class PeriodicRuns {
  constructor(
    private readonly db: Db,
    /** This collector (unique among the live ones on the database). */
    private readonly holder: string,
    private readonly log: Logger,
  ) {}

  async runIfDue(name: string, intervalSeconds: number, fn: () => Promise<unknown>): Promise<boolean> {
    if (!(intervalSeconds > 0)) throw new RangeError(`periodic work ${name}: interval must be > 0 s (got ${intervalSeconds})`);
    const claimed = await claimPeriodicRun(this.db, name, this.holder, intervalSeconds * DUE_SHARE, Math.max(intervalSeconds, MIN_LEASE_SECONDS));
    if (!claimed) return false;
    this.log.debug({ work: name, holder: this.holder }, 'periodic work claimed');
    try {
      await fn();
    } finally {
      await finishPeriodicRun(this.db, name, this.holder).catch((err: unknown) => this.log.warn({ work: name, err }, 'marking periodic work finished failed'));
    }
    return true;
  }

  /** How often a collector should check `intervalSeconds` work: half of it, at least a second (ms). */
  static checkEveryMs(intervalSeconds: number): number {
    return Math.max(1000, Math.round((intervalSeconds * 1000) / 2));
  }
}
