/**
 * Brute-force protection of logins, in the cache store (so every collector sharing a Redis shares
 * the counts). An attempt is *known* when it comes from a source that signed in as that user before
 * (domain/accounts/known-clients.ts: the (user, address) pair or the browser's signed cookie), else *unknown*.
 *
 * - Unknown attempts: failures are counted per username and per source address; reaching a limit
 *   locks that username or address out for `lockoutSeconds`.
 * - Known attempts are not refused by those two lockouts (an attacker who fails as `admin` from
 *   elsewhere cannot lock the real admin out); their failures still count everywhere and lock the
 *   known source itself out after `maxFailuresPerUser` (a stolen laptop cannot brute-force either).
 * - Global failure budget: failed (and budget-refused) logins of every source are counted per
 *   minute. While this minute or the previous one exceeded `globalFailuresPerMinute`, the collector
 *   is *under attack*: unknown attempts share `unknownChecksPerSecond` password checks a second
 *   (a counter per second in the cache store, so collectors on one Redis share it) and are refused
 *   beyond it. Known attempts are never limited by it. Entering and leaving the state is reported
 *   once per collector through `onBudgetChange` (accounts.ts logs and audits it).
 * - Password checks (argon2, ~60–90 ms of CPU each) run at most `maxConcurrentChecks` at a time in
 *   this process (default: the CPU count), known attempts first; more than `maxQueuedChecks`
 *   waiting are refused at once.
 *
 * Every refusal is a ThrottledError (→ 429 + Retry-After) raised before any password is checked.
 * Refused attempts are answered after TARPIT_MS: a scripted attacker's parallel connections then
 * cost this process a few hundred cheap answers a second instead of thousands (see
 * bench/login-throttle.ts); a person waiting for Retry-After does not notice.
 *
 * Counters count within a fixed window of `lockoutSeconds` from the first failure; a successful
 * login clears the username's and the known source's counters (not the address's).
 *
 * `exclusive(attempt, fn)` runs the password checks of one source address (of one known source,
 * for known attempts) one at a time in this process, so a burst of parallel guesses cannot
 * overshoot a limit before the lockout lands; more than MAX_WAITING queued attempts of one source
 * are refused at once.
 */
import { availableParallelism } from 'node:os';
import type { CacheStore } from '../../cache/store.js';
import { DomainError } from '../errors.js';

export interface LoginThrottleLimits {
  maxFailuresPerUser: number;
  maxFailuresPerAddress: number;
  lockoutSeconds: number;
  /** Failed logins per minute, all sources together, above which unknown attempts are rate-limited. Default 100. */
  globalFailuresPerMinute?: number | undefined;
  /** Password checks a second for unknown attempts while over the global budget. Default 2. */
  unknownChecksPerSecond?: number | undefined;
  /** Concurrent password checks in this process. Default: the CPU count. */
  maxConcurrentChecks?: number | undefined;
  /** Attempts waiting for a password check slot before more are refused. Default 100. */
  maxQueuedChecks?: number | undefined;
}

export const GLOBAL_DEFAULTS = { globalFailuresPerMinute: 100, unknownChecksPerSecond: 2, maxQueuedChecks: 100 } as const;

/** One login attempt as the throttle sees it. `known`: ids of the known sources it comes from (empty: unknown). */
export interface LoginAttempt {
  username: string;
  address: string;
  known: readonly string[];
}

/** A refused attempt: too many failures. `retryAfterSeconds` ≥ 1. */
export class ThrottledError extends DomainError {
  constructor(
    readonly retryAfterSeconds: number,
    message = `too many failed logins; try again in ${retryAfterSeconds} s`,
  ) {
    super('throttled', message);
  }
}

export type LockoutScope = 'user' | 'address' | 'known';

/** Entering (`entered`) or leaving (`left`) the under-attack state of the global failure budget. */
export interface BudgetChange {
  state: 'entered' | 'left';
  /** The larger of this minute's and the previous minute's failure counts. */
  failuresPerMinute: number;
  threshold: number;
}

export interface LoginThrottleOptions {
  now?: () => number;
  tarpitMs?: number;
  /** Called once per transition of this collector; what it throws is swallowed. */
  onBudgetChange?: (change: BudgetChange) => void | Promise<void>;
}

const MAX_WAITING = 64;
export const TARPIT_MS = 200;

export class LoginThrottle {
  readonly counters = {
    /** Attempts refused by a lockout, the global budget or a full queue. */
    refused: 0,
    failures: 0,
    lockouts: 0,
    /** Attempts refused by the global budget (also in `refused`). */
    budgetRefused: 0,
    /** Attempts refused because too many password checks were waiting (also in `refused`). */
    busyRefused: 0,
    /** Password checks started (each one argon2 verification or LDAP bind). */
    passwordChecks: 0,
    /** Attempts that came from a known source. */
    knownAttempts: 0,
    /** Transitions into and out of the under-attack state. */
    budgetEntered: 0,
    budgetLeft: 0,
  };
  /** Per source: the tail of its queue and how many wait in it. */
  private readonly queues = new Map<string, { tail: Promise<unknown>; waiting: number }>();
  private readonly limits: Required<LoginThrottleLimits>;
  private readonly now: () => number;
  private readonly tarpitMs: number;
  private readonly onBudgetChange: LoginThrottleOptions['onBudgetChange'];
  private underAttack = false;
  /** Password checks running, and the attempts waiting for one (known first). */
  private running = 0;
  private readonly waiting = { known: [] as Array<() => void>, unknown: [] as Array<() => void> };

  constructor(
    private readonly cache: CacheStore,
    limits: LoginThrottleLimits,
    opts: LoginThrottleOptions = {},
  ) {
    this.limits = {
      ...limits,
      globalFailuresPerMinute: limits.globalFailuresPerMinute ?? GLOBAL_DEFAULTS.globalFailuresPerMinute,
      unknownChecksPerSecond: limits.unknownChecksPerSecond ?? GLOBAL_DEFAULTS.unknownChecksPerSecond,
      maxConcurrentChecks: limits.maxConcurrentChecks ?? availableParallelism(),
      maxQueuedChecks: limits.maxQueuedChecks ?? GLOBAL_DEFAULTS.maxQueuedChecks,
    };
    this.now = opts.now ?? Date.now;
    this.tarpitMs = opts.tarpitMs ?? TARPIT_MS;
    this.onBudgetChange = opts.onBudgetChange;
  }

  /** Whether the global failure budget is exceeded (as of the last look at it). */
  get overBudget(): boolean {
    return this.underAttack;
  }

  /**
   * Admits an attempt to a password check or throws ThrottledError: the lockouts that apply to it
   * and, for unknown attempts while over the global budget, the shared per-second allowance.
   */
  async admit(attempt: LoginAttempt): Promise<void> {
    if (attempt.known.length > 0) this.counters.knownAttempts += 1;
    await this.checkLocks(attempt);
    if (attempt.known.length > 0 || !(await this.globalState())) return;
    const second = Math.floor(this.now() / 1000);
    // One counter per second, kept a minute (cheap): it must outlive its second on every clock.
    const taken = await this.cache.incr(`login-global-checks:${second}`, 60);
    if (taken <= this.limits.unknownChecksPerSecond) return;
    this.counters.budgetRefused += 1;
    await this.countGlobal();
    await this.refuse(new ThrottledError(1, 'too many failed logins on this server; try again in 1 s'));
  }

  /** Throws ThrottledError when a lockout that applies to the attempt is in force (checked again after queueing). */
  async checkLocks(attempt: LoginAttempt): Promise<void> {
    const keys =
      attempt.known.length > 0
        ? attempt.known.map((source) => lockKey('known', source))
        : [lockKey('user', attempt.username), lockKey('address', attempt.address)];
    const values = await Promise.all(keys.map((key) => this.cache.get(key)));
    const until = Math.max(0, ...values.map((v) => Number(v ?? 0)));
    const left = Math.ceil((until - this.now()) / 1000);
    if (left > 0) await this.refuse(new ThrottledError(left));
  }

  /** Runs `fn` after every earlier `exclusive` call of the same source has finished. */
  async exclusive<T>(attempt: LoginAttempt, fn: () => Promise<T>): Promise<T> {
    const source = attempt.known.length > 0 ? `known:${attempt.known[0]!}` : `address:${attempt.address}`;
    const queue = this.queues.get(source) ?? { tail: Promise.resolve(), waiting: 0 };
    if (queue.waiting >= MAX_WAITING) {
      this.counters.refused += 1;
      throw new ThrottledError(1);
    }
    queue.waiting += 1;
    this.queues.set(source, queue);
    const run = queue.tail.then(fn, fn);
    queue.tail = run.catch(() => undefined);
    try {
      return await run;
    } finally {
      queue.waiting -= 1;
      if (queue.waiting === 0) this.queues.delete(source);
    }
  }

  /**
   * Runs one password check `fn` when one of the `maxConcurrentChecks` slots is free (known
   * attempts are served first); refuses (ThrottledError) when `maxQueuedChecks` already wait.
   */
  async passwordCheck<T>(attempt: LoginAttempt, fn: () => Promise<T>): Promise<T> {
    const known = attempt.known.length > 0;
    if (this.running >= this.limits.maxConcurrentChecks) {
      const line = known ? this.waiting.known : this.waiting.unknown;
      if (line.length >= this.limits.maxQueuedChecks) {
        this.counters.refused += 1;
        this.counters.busyRefused += 1;
        throw new ThrottledError(1, 'the server is busy checking passwords; try again in 1 s');
      }
      // The slot is handed over by release(): `running` stays counted for us.
      await new Promise<void>((resolve) => line.push(resolve));
    } else {
      this.running += 1;
    }
    try {
      this.counters.passwordChecks += 1;
      return await fn();
    } finally {
      const next = this.waiting.known.shift() ?? this.waiting.unknown.shift();
      if (next) next();
      else this.running -= 1;
    }
  }

  /** Counts a failure; returns the scopes that have just been locked out (to audit). */
  async failed(attempt: LoginAttempt): Promise<LockoutScope[]> {
    this.counters.failures += 1;
    const ttl = this.limits.lockoutSeconds;
    const scoped: Array<[LockoutScope, string, number]> = [
      ['user', attempt.username, this.limits.maxFailuresPerUser],
      ['address', attempt.address, this.limits.maxFailuresPerAddress],
      ...attempt.known.map((source): [LockoutScope, string, number] => ['known', source, this.limits.maxFailuresPerUser]),
    ];
    const counts = await Promise.all(scoped.map(([scope, value]) => this.cache.incr(countKey(scope, value), ttl)));
    await this.countGlobal();
    const until = String(this.now() + ttl * 1000);
    const locked: LockoutScope[] = [];
    for (const [i, [scope, value, limit]] of scoped.entries()) {
      if (counts[i] !== limit) continue;
      await this.cache.set(lockKey(scope, value), until, ttl);
      await this.cache.del(countKey(scope, value));
      this.counters.lockouts += 1;
      if (!locked.includes(scope)) locked.push(scope);
    }
    return locked;
  }

  async succeeded(attempt: LoginAttempt): Promise<void> {
    await Promise.all([attempt.username, ...attempt.known].map((value, i) => this.cache.del(countKey(i === 0 ? 'user' : 'known', value))));
  }

  /**
   * Whether the global failure budget is exceeded now: this minute's or the previous minute's
   * failures above the threshold (the previous minute keeps the state from flapping at each
   * minute's start). Reports a transition once.
   */
  async globalState(): Promise<boolean> {
    const minute = Math.floor(this.now() / 60_000);
    const [current, previous] = await Promise.all([this.cache.get(globalKey(minute)), this.cache.get(globalKey(minute - 1))]);
    const failuresPerMinute = Math.max(Number(current ?? 0), Number(previous ?? 0));
    const over = failuresPerMinute > this.limits.globalFailuresPerMinute;
    if (over !== this.underAttack) {
      this.underAttack = over;
      if (over) this.counters.budgetEntered += 1;
      else this.counters.budgetLeft += 1;
      try {
        await this.onBudgetChange?.({ state: over ? 'entered' : 'left', failuresPerMinute, threshold: this.limits.globalFailuresPerMinute });
      } catch {
        // Reporting must not decide a login.
      }
    }
    return over;
  }

  /** Counts one failed or budget-refused attempt towards this minute's global count, then looks at the state. */
  private async countGlobal(): Promise<void> {
    await this.cache.incr(globalKey(Math.floor(this.now() / 60_000)), 120);
    await this.globalState();
  }

  private async refuse(err: ThrottledError): Promise<never> {
    this.counters.refused += 1;
    await new Promise((resolve) => setTimeout(resolve, this.tarpitMs));
    throw err;
  }
}

// Usernames are free text here (a failed login may name anything): hex keeps keys well-formed.
const id = (value: string) => Buffer.from(value.slice(0, 256)).toString('hex');
const countKey = (scope: LockoutScope, value: string) => `login-failures:${scope}:${id(value)}`;
const lockKey = (scope: LockoutScope, value: string) => `login-lock:${scope}:${id(value)}`;
const globalKey = (minute: number) => `login-failures:global:${minute}`;
