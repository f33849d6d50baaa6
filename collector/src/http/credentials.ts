/**
 * The bearer credential verifier behind `permit()`: a token shaped like a JWT is checked as a
 * user's access token (AccessTokens), anything else as an integrator's API token
 * (ApiTokensService.authenticate, which carries the token's role, looked up by SHA-256: a junk
 * bearer costs one query, no password hash). A JWT is never tried as an API token.
 *
 * A valid JWT is also checked against the user's current record (remembered for `recheckMs`,
 * default 2 s): a user disabled or deleted since the token was issued is refused, and a changed
 * role applies, within that time rather than when the token expires. The record gives the
 * principal's stable id (`user:{id}`; an API token's is `token:{id}`).
 */
import type { AccessTokens } from '../domain/accounts/access-tokens.js';
import { looksLikeJwt } from '../domain/accounts/access-tokens.js';
import type { ApiTokensService } from '../domain/accounts/api-tokens.service.js';
import type { AuthenticatedUser, UsersService } from '../domain/accounts/users.service.js';
import type { TokenVerifier } from './auth.js';
import type { Principal } from './env.js';

type CurrentUser = AuthenticatedUser & { id: number };

export class CredentialVerifier implements TokenVerifier {
  private readonly current = new Map<string, { user: CurrentUser | null; until: number }>();

  constructor(
    private readonly access: Pick<AccessTokens, 'verify'>,
    private readonly apiTokens: Pick<ApiTokensService, 'authenticate'>,
    private readonly users: Pick<UsersService, 'currentWithId'>,
    private readonly recheckMs = 2_000,
    private readonly now: () => number = Date.now,
  ) {}

  async verify(token: string): Promise<Principal | null> {
    if (!looksLikeJwt(token)) {
      const apiToken = await this.apiTokens.authenticate(token);
      return apiToken === null ? null : { kind: 'api-token', id: `token:${apiToken.id}`, name: apiToken.name, role: apiToken.role };
    }
    const claimed = await this.access.verify(token);
    if (claimed === null) return null;
    const user = await this.recheck(claimed.username);
    return user === null ? null : { kind: 'user', id: `user:${user.id}`, name: user.username, role: user.role };
  }

  private async recheck(username: string): Promise<CurrentUser | null> {
    const hit = this.current.get(username);
    if (hit && hit.until > this.now()) return hit.user;
    const user = await this.users.currentWithId(username);
    if (this.current.size > 10_000) this.current.clear();
    this.current.set(username, { user, until: this.now() + this.recheckMs });
    return user;
  }
}
