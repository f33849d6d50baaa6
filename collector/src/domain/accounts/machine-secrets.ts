/**
 * Hashes of machine secrets: API tokens, sensor secrets and integration-account secrets. These are
 * 256-bit random values, so a password hash (argon2, ~13 ms of CPU each) buys nothing against an
 * offline attack and lets anyone with a network path burn the collector's CPU with junk
 * credentials. They are stored as `sha256:` + hex SHA-256 of the secret and compared with
 * timingSafeEqual (microseconds).
 *
 * Stored values from before (argon2id, `$argon2...`) still verify, the old way, through
 * `LegacyVerifier`; callers rewrite a verified legacy hash with `hashMachineSecret` so each one
 * costs argon2 at most once more. `secretHashCounters` counts both kinds of checks (tests and the
 * fault suite assert that junk credentials cost no argon2).
 *
 * @example
 *   const stored = hashMachineSecret(secret);           // 'sha256:9f86…'
 *   matchesSha256(stored, secret);                      // true
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { verify } from '@node-rs/argon2';

const PREFIX = 'sha256:';

/** Checks performed since start, by kind (process-wide). */
export const secretHashCounters = { sha256: 0, argon2: 0, argon2Throttled: 0 };

/** The stored form of a machine secret: `sha256:` + 64 hex digits. */
export function hashMachineSecret(secret: string): string {
  return PREFIX + createHash('sha256').update(secret, 'utf8').digest('hex');
}

/** True for the current stored form; false for a legacy argon2 hash (or anything else). */
export function isSha256Hash(stored: string): boolean {
  return stored.startsWith(PREFIX) && stored.length === PREFIX.length + 64;
}

/** True for a legacy argon2 stored hash. */
export function isLegacyHash(stored: string): boolean {
  return stored.startsWith('$argon2');
}

/** Constant-time comparison of `secret` with a `sha256:` stored value; false for any other form. */
export function matchesSha256(stored: string, secret: string): boolean {
  if (!isSha256Hash(stored)) return false;
  secretHashCounters.sha256 += 1;
  const want = Buffer.from(stored.slice(PREFIX.length), 'hex');
  const got = createHash('sha256').update(secret, 'utf8').digest();
  return want.length === got.length && timingSafeEqual(want, got);
}

/**
 * argon2 verification of legacy stored hashes with a process-wide budget: at most `perSecond`
 * verifications in any second (default 8, about a tenth of a core). Over budget, `verify` answers
 * `'throttled'` without hashing, so junk credentials cannot cost more than the budget while
 * legacy hashes remain.
 */
export class LegacyVerifier {
  private windowStart = 0;
  private used = 0;

  constructor(
    private readonly perSecond = 8,
    private readonly now: () => number = Date.now,
  ) {}

  /** true/false: verified or not; 'throttled': over budget, not checked. Malformed hash → false. */
  async verify(stored: string, secret: string): Promise<boolean | 'throttled'> {
    if (!isLegacyHash(stored)) return false;
    const t = this.now();
    if (t - this.windowStart >= 1000) {
      this.windowStart = t;
      this.used = 0;
    }
    if (this.used >= this.perSecond) {
      secretHashCounters.argon2Throttled += 1;
      return 'throttled';
    }
    this.used += 1;
    secretHashCounters.argon2 += 1;
    return verify(stored, secret).catch(() => false);
  }
}

/** The process-wide budget shared by API tokens, sensor secrets and integration secrets. */
export const sharedLegacyVerifier = new LegacyVerifier();
