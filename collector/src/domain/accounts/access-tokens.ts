/**
 * Access tokens: short-lived JWTs (jose, HS256) carrying `sub` = username and `role`.
 *
 * Contract:
 * - the signing key is 32 random bytes generated on the first start and kept in the database
 *   (`auth_secrets`), shared by every collector on that database, never logged or returned;
 *   `pcapmesh keys rotate` replaces it, and tokens signed with the previous key stay valid until
 *   they expire (key-ring.ts);
 * - `verify` accepts only HS256 with our issuer and audience and an unexpired `exp` (no clock
 *   tolerance): a tampered, expired, `alg: none` or otherwise foreign token yields null;
 * - tokens are not revocable; their lifetime (auth.accessTokenMinutes, 15 by default) bounds the damage.
 *
 * @example
 *   const tokens = await AccessTokens.open({ db, minutes: 15 });
 *   const { token, expiresIn } = await tokens.issue({ username: 'ana', role: 'analyst' });
 *   await tokens.verify(token); // { username: 'ana', role: 'analyst' }
 */
import { jwtVerify, SignJWT } from 'jose';
import type { Queryable } from '../../storage/db.js';
import { KeyRing } from './key-ring.js';
import { isRole } from './roles.js';
import type { AuthenticatedUser } from './users.service.js';

const ISSUER = 'pcapmesh';
const AUDIENCE = 'pcapmesh-api';
/** The key's name in auth_secrets (and `pcapmesh keys rotate`). */
export const ACCESS_TOKEN_KEY = 'jwt-hs256';

export interface IssuedAccessToken {
  token: string;
  /** Seconds until it expires. */
  expiresIn: number;
}

export class AccessTokens {
  readonly counters = { issued: 0, verified: 0, refused: 0 };

  private readonly keys: KeyRing;

  constructor(
    key: Uint8Array | KeyRing,
    private readonly minutes: number,
    private readonly now: () => Date = () => new Date(),
  ) {
    this.keys = key instanceof KeyRing ? key : KeyRing.fixed(key);
  }

  /** Loads (or on the first start creates) the signing key from the database. */
  static async open(opts: { db: Queryable; minutes: number; now?: () => Date }): Promise<AccessTokens> {
    const now = opts.now ?? (() => new Date());
    const keys = await KeyRing.open({ db: opts.db, name: ACCESS_TOKEN_KEY, graceMs: opts.minutes * 60_000, now: () => now().getTime() });
    return new AccessTokens(keys, opts.minutes, now);
  }

  async issue(user: AuthenticatedUser): Promise<IssuedAccessToken> {
    const expiresIn = this.minutes * 60;
    const iat = Math.floor(this.now().getTime() / 1000);
    const token = await new SignJWT({ role: user.role })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(user.username)
      .setIssuer(ISSUER)
      .setAudience(AUDIENCE)
      .setIssuedAt(iat)
      .setExpirationTime(iat + expiresIn)
      .sign(await this.keys.signing());
    this.counters.issued += 1;
    return { token, expiresIn };
  }

  /** The user a valid token names, or null. Never throws for bad tokens. */
  async verify(token: string): Promise<AuthenticatedUser | null> {
    const user =
      (await this.verifyWith(token, await this.keys.verifying())) ??
      ((await this.keys.reloadEarly()) ? await this.verifyWith(token, await this.keys.verifying()) : null);
    if (user === null) this.counters.refused += 1;
    else this.counters.verified += 1;
    return user;
  }

  private async verifyWith(token: string, keys: Uint8Array[]): Promise<AuthenticatedUser | null> {
    for (const key of keys) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['HS256'],
          issuer: ISSUER,
          audience: AUDIENCE,
          requiredClaims: ['exp', 'sub'],
          currentDate: this.now(),
        });
        if (typeof payload.sub !== 'string' || !isRole(payload.role)) return null;
        return { username: payload.sub, role: payload.role };
      } catch {
        // the next key, if any
      }
    }
    return null;
  }
}

/** True when `token` has the shape of a JWT (three base64url parts), so it is never tried as an API token. */
export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]*\.[\w-]*$/.test(token);
}
