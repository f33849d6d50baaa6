/**
 * The bearer credential verifier behind `permit()`: a token shaped like a JWT is checked as a
 * user's access token (AccessTokens, no database round trip), anything else as an integrator's
 * API token (ApiTokenVerifier). A JWT is never tried as an API token, so a bad JWT costs no argon2.
 */
import type { AccessTokens } from '../domain/access-tokens.js';
import { looksLikeJwt } from '../domain/access-tokens.js';
import type { TokenVerifier } from './auth.js';
import type { Principal } from './env.js';

export class CredentialVerifier implements TokenVerifier {
  constructor(
    private readonly access: Pick<AccessTokens, 'verify'>,
    private readonly apiTokens: TokenVerifier,
  ) {}

  async verify(token: string): Promise<Principal | null> {
    if (!looksLikeJwt(token)) return this.apiTokens.verify(token);
    const user = await this.access.verify(token);
    return user === null ? null : { kind: 'user', name: user.username, role: user.role };
  }
}
