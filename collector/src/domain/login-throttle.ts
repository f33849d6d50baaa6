/**
 * Brute-force protection of logins: failures are counted per username and per source address in
 * the cache store (so every collector sharing a Redis shares the counts). Reaching a limit locks
 * that username or address out for `lockoutSeconds`; a locked-out attempt is refused before any
 * password is checked (no argon2 cost), with the seconds left (→ 429 + Retry-After).
 *
 * Counters count within a fixed window of `lockoutSeconds` from the first failure; a successful
 * login clears the username's counter (not the address's).
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

export class LoginThrottle {
  readonly counters = { refused: 0, failures: 0, lockouts: 0 };

  constructor(
    private readonly cache: CacheStore,
    private readonly limits: LoginThrottleLimits,
    private readonly now: () => number = Date.now,
  ) {}

  /** Throws ThrottledError when the username or the address is locked out. */
  async check(username: string, address: string): Promise<void> {
    const [user, addr] = await Promise.all([this.cache.get(lockKey('user', username)), this.cache.get(lockKey('address', address))]);
    const until = Math.max(Number(user ?? 0), Number(addr ?? 0));
    const left = Math.ceil((until - this.now()) / 1000);
    if (left > 0) {
      this.counters.refused += 1;
      throw new ThrottledError(left);
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
