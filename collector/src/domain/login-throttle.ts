/**
 * Brute-force protection of logins: failures are counted per username and per source address in
 * the cache store (so every collector sharing a Redis shares the counts). Reaching a limit locks
 * that username or address out for `lockoutSeconds`; a locked-out attempt is refused before any
 * password is checked (no argon2 cost), with the seconds left (→ 429 + Retry-After).
 *
 * Counters count within a fixed window of `lockoutSeconds` from the first failure; a successful
 * login clears the username's counter (not the address's).
 *
 * A refused attempt is answered after TARPIT_MS: a scripted attacker's parallel connections then
 * cost this process a few hundred cheap answers a second instead of thousands (see
 * bench/login-throttle.ts); a person waiting for Retry-After does not notice.
 *
 * `exclusive(address, fn)` runs the password checks of one source address one at a time in this
 * process, so a burst of parallel guesses cannot overshoot the limit before the lockout lands
 * (each check costs an argon2 verification); more than MAX_WAITING queued attempts of one address
 * are refused at once.
 */
import type { CacheStore } from '../cache/store.js';
import { DomainError } from './errors.js';

export interface LoginThrottleLimits {
  maxFailuresPerUser: number;
  maxFailuresPerAddress: number;
  lockoutSeconds: number;
}

/** A refused attempt: too many failures. `retryAfterSeconds` ≥ 1. */
export class ThrottledError extends DomainError {
  constructor(readonly retryAfterSeconds: number) {
    super('throttled', `too many failed logins; try again in ${retryAfterSeconds} s`);
  }
}

export type LockoutScope = 'user' | 'address';

const MAX_WAITING = 64;
export const TARPIT_MS = 200;

export class LoginThrottle {
  readonly counters = { refused: 0, failures: 0, lockouts: 0 };
  /** Per address: the tail of its queue and how many wait in it. */
  private readonly queues = new Map<string, { tail: Promise<unknown>; waiting: number }>();

  constructor(
    private readonly cache: CacheStore,
    private readonly limits: LoginThrottleLimits,
    private readonly now: () => number = Date.now,
    private readonly tarpitMs: number = TARPIT_MS,
  ) {}

  /** Throws ThrottledError when the username or the address is locked out. */
  async check(username: string, address: string): Promise<void> {
    const [user, addr] = await Promise.all([this.cache.get(lockKey('user', username)), this.cache.get(lockKey('address', address))]);
    const until = Math.max(Number(user ?? 0), Number(addr ?? 0));
    const left = Math.ceil((until - this.now()) / 1000);
    if (left > 0) {
      this.counters.refused += 1;
      await new Promise((resolve) => setTimeout(resolve, this.tarpitMs));
      throw new ThrottledError(left);
    }
  }

  /** Runs `fn` after every earlier `exclusive` call of the same address has finished. */
  async exclusive<T>(address: string, fn: () => Promise<T>): Promise<T> {
    const queue = this.queues.get(address) ?? { tail: Promise.resolve(), waiting: 0 };
    if (queue.waiting >= MAX_WAITING) {
      this.counters.refused += 1;
      throw new ThrottledError(1);
    }
    queue.waiting += 1;
    this.queues.set(address, queue);
    const run = queue.tail.then(fn, fn);
    queue.tail = run.catch(() => undefined);
    try {
      return await run;
    } finally {
      queue.waiting -= 1;
      if (queue.waiting === 0) this.queues.delete(address);
    }
  }

  /** Counts a failure; returns the scopes that have just been locked out (to audit). */
  async failed(username: string, address: string): Promise<LockoutScope[]> {
    this.counters.failures += 1;
    const ttl = this.limits.lockoutSeconds;
    const [byUser, byAddress] = await Promise.all([
      this.cache.incr(countKey('user', username), ttl),
      this.cache.incr(countKey('address', address), ttl),
    ]);
    const locked: LockoutScope[] = [];
    const until = String(this.now() + ttl * 1000);
    if (byUser === this.limits.maxFailuresPerUser) locked.push('user');
    if (byAddress === this.limits.maxFailuresPerAddress) locked.push('address');
    for (const scope of locked) {
      await this.cache.set(lockKey(scope, scope === 'user' ? username : address), until, ttl);
      await this.cache.del(countKey(scope, scope === 'user' ? username : address));
      this.counters.lockouts += 1;
    }
    return locked;
  }

  async succeeded(username: string): Promise<void> {
    await this.cache.del(countKey('user', username));
  }
}

// Usernames are free text here (a failed login may name anything): hex keeps keys well-formed.
const id = (value: string) => Buffer.from(value.slice(0, 256)).toString('hex');
const countKey = (scope: LockoutScope, value: string) => `login-failures:${scope}:${id(value)}`;
const lockKey = (scope: LockoutScope, value: string) => `login-lock:${scope}:${id(value)}`;
