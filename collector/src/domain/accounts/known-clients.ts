/**
 * Known clients (OWASP's "device cookie"): sources a user has signed in from before, so that the
 * login throttle can treat their attempts apart from an attacker's (domain/accounts/login-throttle.ts).
 *
 * Contract:
 * - `remember(username, address)` after a successful login marks the (user, address) pair as known
 *   for `days` (a cache-store key with that TTL, renewed by each success; with the memory cache a
 *   restart forgets the pairs — users then sign in as unknown until their next success) and returns
 *   a new device cookie value for the user;
 * - a device cookie is `v1.<payload>.<HMAC-SHA256>` (base64url) over { user, random id, expiry },
 *   signed with a 32-byte key generated on the first start and kept in the database
 *   (`auth_secrets`, shared by every collector on it, never logged or returned); it survives a
 *   restart of any cache. `pcapmesh keys rotate` replaces the key; cookies signed with the previous
 *   one stay valid until they expire (key-ring.ts);
 * - `identify(username, address, cookie?)` lists the known sources of an attempt: `pair:…` when
 *   the pair is known, `cookie:<id>` when the cookie is valid, unexpired and names this user.
 *   A forged, expired, foreign or malformed cookie is ignored (counted), never an error;
 * - an address the transport could not determine (`unknown`) is never remembered.
 *
 * @example
 *   const known = await KnownClients.open({ db, cache, days: 30 });
 *   const cookie = await known.remember('ana', '10.0.0.7');
 *   await known.identify('ana', '10.0.0.9', cookie); // ['cookie:…']
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CacheStore } from '../../cache/store.js';
import type { Queryable } from '../../storage/db.js';
import { KeyRing } from './key-ring.js';

/** The key's name in auth_secrets (and `pcapmesh keys rotate`). */
export const DEVICE_COOKIE_KEY = 'known-client-hmac';
const MAX_COOKIE_LENGTH = 1024;
/** What the transport passes when it cannot tell the client's address. */
export const UNKNOWN_ADDRESS = 'unknown';

export class KnownClients {
  readonly counters = { remembered: 0, cookiesIssued: 0, cookiesAccepted: 0, cookiesIgnored: 0 };

  private readonly keys: KeyRing;

  constructor(
    private readonly cache: CacheStore,
    key: Uint8Array | KeyRing,
    /** How long a source stays known after a successful login, days. */
    readonly days: number,
    private readonly now: () => number = Date.now,
  ) {
    this.keys = key instanceof KeyRing ? key : KeyRing.fixed(key);
    if (!Number.isInteger(days) || days < 1) throw new Error(`known-client lifetime must be a whole number of days ≥ 1, got ${days}`);
  }

  /** Loads (or on the first start creates) the cookie key from the database. */
  static async open(opts: { db: Queryable; cache: CacheStore; days: number; now?: () => number }): Promise<KnownClients> {
    const keys = await KeyRing.open({ db: opts.db, name: DEVICE_COOKIE_KEY, graceMs: opts.days * 86_400_000, ...(opts.now ? { now: opts.now } : {}) });
    return new KnownClients(opts.cache, keys, opts.days, opts.now);
  }

  /** Seconds a source stays known (the cookie's Max-Age). */
  get seconds(): number {
    return this.days * 86_400;
  }

  /** Marks the pair known (renewing it) and returns a fresh device cookie value for `username`. */
  async remember(username: string, address: string): Promise<string> {
    if (address !== UNKNOWN_ADDRESS) {
      await this.cache.set(pairKey(username, address), '1', this.seconds);
      this.counters.remembered += 1;
    }
    const payload = Buffer.from(
      JSON.stringify({ u: username, n: randomBytes(12).toString('base64url'), e: Math.floor(this.now() / 1000) + this.seconds }),
    ).toString('base64url');
    this.counters.cookiesIssued += 1;
    return `v1.${payload}.${sign(await this.keys.signing(), payload)}`;
  }

  /** The known sources of an attempt (empty: unknown). */
  async identify(username: string, address: string, cookie?: string | undefined): Promise<string[]> {
    const sources: string[] = [];
    if (address !== UNKNOWN_ADDRESS && (await this.cache.get(pairKey(username, address))) !== null) sources.push(`pair:${pairId(username, address)}`);
    if (cookie !== undefined && cookie !== '') {
      const id = this.cookieId(cookie, username, await this.keys.verifying());
      if (id === null) this.counters.cookiesIgnored += 1;
      else {
        this.counters.cookiesAccepted += 1;
        sources.push(`cookie:${id}`);
      }
    }
    return sources;
  }

  /** The random id of a valid, unexpired cookie naming `username`, else null. */
  private cookieId(cookie: string, username: string, keys: Uint8Array[]): string | null {
    if (cookie.length > MAX_COOKIE_LENGTH) return null;
    const [version, payload, signature, ...rest] = cookie.split('.');
    if (version !== 'v1' || payload === undefined || signature === undefined || rest.length > 0) return null;
    const given = Buffer.from(signature);
    const signedBy = (key: Uint8Array) => {
      const expected = Buffer.from(sign(key, payload));
      return given.length === expected.length && timingSafeEqual(given, expected);
    };
    if (!keys.some(signedBy)) return null;
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as { u?: unknown; n?: unknown; e?: unknown };
      if (claims.u !== username || typeof claims.n !== 'string' || typeof claims.e !== 'number') return null;
      return claims.e * 1000 > this.now() ? claims.n : null;
    } catch {
      return null;
    }
  }
}

function sign(key: Uint8Array, payload: string): string {
  return createHmac('sha256', key).update(`v1.${payload}`).digest('base64url');
}

const pairId = (username: string, address: string) => createHash('sha256').update(`${username}\n${address}`).digest('base64url');
const pairKey = (username: string, address: string) => `login-known:${pairId(username, address)}`;
