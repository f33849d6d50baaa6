/**
 * Access tokens: short-lived JWTs (jose, HS256) carrying `sub` = username and `role`.
 *
 * Contract:
 * - the signing key is 32 random bytes generated on the first start and kept in the database
 *   (`auth_secrets`), shared by every collector on that database, never logged or returned;
 * - `verify` accepts only HS256 with our issuer and audience and an unexpired `exp` (no clock
 *   tolerance): a tampered, expired, `alg: none` or otherwise foreign token yields null;
 * - tokens are not revocable; their lifetime (auth.accessTokenMinutes, 15 by default) bounds the damage.
 *
 * @example
 *   const tokens = await AccessTokens.open({ db, minutes: 15 });
 *   const { token, expiresIn } = await tokens.issue({ username: 'ana', role: 'analyst' });
 *   await tokens.verify(token); // { username: 'ana', role: 'analyst' }
 */
import { randomBytes } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { Queryable } from '../../storage/db.js';
import { ensureSecret } from '../../storage/auth-secrets.repo.js';
import { isRole } from './roles.js';
import type { AuthenticatedUser } from './users.service.js';

const ISSUER = 'pcapmesh';
const AUDIENCE = 'pcapmesh-api';
const SECRET_NAME = 'jwt-hs256';

export interface IssuedAccessToken {
  token: string;
  /** Seconds until it expires. */
  expiresIn: number;
}

export class AccessTokens {
  readonly counters = { issued: 0, verified: 0, refused: 0 };

  constructor(
    private readonly key: Uint8Array,
    private readonly minutes: number,
    private readonly now: () => Date = () => new Date(),
  ) {
    if (key.length < 32) throw new Error('access token key must be at least 32 bytes');
  }

  /** Loads (or on the first start creates) the signing key from the database. */
  static async open(opts: { db: Queryable; minutes: number; now?: () => Date }): Promise<AccessTokens> {
    const stored = await ensureSecret(opts.db, SECRET_NAME, randomBytes(32).toString('base64url'));
    return new AccessTokens(Buffer.from(stored, 'base64url'), opts.minutes, opts.now);
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
      .sign(this.key);
    this.counters.issued += 1;
    return { token, expiresIn };
  }

  /** The user a valid token names, or null. Never throws for bad tokens. */
  async verify(token: string): Promise<AuthenticatedUser | null> {
    try {
      const { payload } = await jwtVerify(token, this.key, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        audience: AUDIENCE,
        requiredClaims: ['exp', 'sub'],
        currentDate: this.now(),
      });
      if (typeof payload.sub !== 'string' || !isRole(payload.role)) throw new Error('claims');
      this.counters.verified += 1;
      return { username: payload.sub, role: payload.role };
    } catch {
      this.counters.refused += 1;
      return null;
    }
  }
}

/** True when `token` has the shape of a JWT (three base64url parts), so it is never tried as an API token. */
export function looksLikeJwt(token: string): boolean {
  return /^[\w-]+\.[\w-]*\.[\w-]*$/.test(token);
}
