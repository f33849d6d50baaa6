/**
 * The per-user rate limit of dry runs (jobs.quota.dryRunsPerMinute): each dry run asks every
 * online target sensor for an index estimate over MQTT, so one user must not make sensors compute
 * estimates without end.
 *
 * Contract:
 * - `take(principal)` counts one dry run of `principal` at `now()` when fewer than `perMinute` were
 *   counted in the 60 s before; otherwise it throws DomainError('throttled') naming
 *   jobs.quota.dryRunsPerMinute and nothing is counted. `perMinute` 0 means no limit.
 * - Only dry runs that reach the sensors are counted (the caller takes after validation), so a form
 *   that checks a half-typed filter is not held back by its refusals.
 * - The count lives in this process (a dry run stores nothing): with several collectors, each one
 *   allows `perMinute`.
 *
 * @example
 *   const limit = new DryRunLimit(10, () => new Date());
 *   limit.take('user:7'); // throws DomainError('throttled') on the 11th within a minute
 */
import { DomainError } from '../errors.js';

const WINDOW_MS = 60_000;
/** Users remembered at most; the oldest idle ones are forgotten first. */
const MAX_USERS = 10_000;

export class DryRunLimit {
  /** Times (ms) of each principal's dry runs within the last minute, oldest first. */
  private readonly recent = new Map<string, number[]>();

  constructor(
    private readonly perMinute: number,
    private readonly now: () => Date,
  ) {}

  /** Counts a dry run of `principal` (shown as `name` in the refusal), or refuses it over the limit. */
  take(principal: string, name: string = principal): void {
    if (this.perMinute <= 0) return;
    const now = this.now().getTime();
    const times = (this.recent.get(principal) ?? []).filter((t) => t > now - WINDOW_MS && t <= now);
    if (times.length >= this.perMinute) {
      const waitSeconds = Math.max(1, Math.ceil((times[0]! + WINDOW_MS - now) / 1000));
      this.recent.set(principal, times);
      throw new DomainError(
        'throttled',
        `${name} made ${times.length} dry runs in the last minute; jobs.quota.dryRunsPerMinute allows ${this.perMinute} (try again in ${waitSeconds} s)`,
      );
    }
    times.push(now);
    // Re-inserted last, so the Map's first keys are the least recently active.
    this.recent.delete(principal);
    this.recent.set(principal, times);
    if (this.recent.size > MAX_USERS) this.recent.delete(this.recent.keys().next().value!);
  }
}
