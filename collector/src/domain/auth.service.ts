/**
 * Sessions: login (local password, or LDAP when configured), refresh-token rotation, logout, and
 * the audit entries they leave. Transport (http/routes/session.ts) calls this.
 *
 * Contract:
 * - `login` checks the throttle first (ThrottledError → 429, no password check, no database
 *   write), then the password; a wrong one is `unauthenticated` with the same message whether the
 *   user exists or not; failures and lockouts are audited ('login' failed, 'login.lockout');
 * - `refresh` rotates the refresh token; reuse of a used token revokes its family and is audited
 *   ('refresh.reuse'); a user disabled or deleted since cannot refresh;
 * - `logout` revokes the family of the presented refresh token.
 */
import type { AccessTokens } from './access-tokens.js';
import type { AuditService } from './audit.service.js';
import { DomainError } from './errors.js';
import type { LoginThrottle } from './login-throttle.js';
import type { RefreshTokens } from './refresh-tokens.js';
import type { AuthenticatedUser, UsersService } from './users.service.js';

export interface Session {
  accessToken: string;
  /** Seconds the access token is valid. */
  expiresIn: number;
  refreshToken: string;
  user: AuthenticatedUser;
}

/** Another way to check a password (LDAP); null when it does not know or refuses the user. */
export interface PasswordAuthenticator {
  authenticate(username: string, password: string): Promise<AuthenticatedUser | null>;
}

export interface AuthServiceDeps {
  users: UsersService;
  access: AccessTokens;
  refresh: RefreshTokens;
  throttle: LoginThrottle;
  audit: AuditService;
  /** Tried when the local password check fails (config auth.ldap). */
  ldap?: PasswordAuthenticator | undefined;
}

const BAD_CREDENTIALS = 'wrong username or password';

export class AuthService {
  constructor(private readonly deps: AuthServiceDeps) {}

  async login(username: string, password: string, sourceIp: string): Promise<Session> {
    const { throttle } = this.deps;
    // Refused attempts while locked out are counted (throttle.counters.refused), not audited one by
    // one: the lockout itself is audited, and a database write per attempt would hand an attacker a
    // cheap way to load the database (bench/login-throttle.ts).
    await throttle.check(username, sourceIp);
    return throttle.exclusive(sourceIp, () => this.checkPassword(username, password, sourceIp));
  }

  /** The password check of one attempt, serialised per address by the throttle. */
  private async checkPassword(username: string, password: string, sourceIp: string): Promise<Session> {
    const { throttle, audit } = this.deps;
    await throttle.check(username, sourceIp); // again: a lockout may have landed while queued
    const user = (await this.deps.users.verifyPassword(username, password)) ?? (await this.deps.ldap?.authenticate(username, password)) ?? null;
    if (user === null) {
      const locked = await throttle.failed(username, sourceIp);
      await audit.record({ actor: null, action: 'login', target: username, outcome: 'failed', sourceIp });
      for (const scope of locked) {
        await audit.record({ actor: null, action: 'login.lockout', target: scope === 'user' ? username : sourceIp, outcome: 'denied', sourceIp, details: { scope } });
      }
      throw new DomainError('unauthenticated', BAD_CREDENTIALS);
    }
    await throttle.succeeded(username);
    await this.deps.users.recordLogin(user.username);
    await audit.record({ actor: user.username, action: 'login', target: user.username, outcome: 'ok', sourceIp });
    return this.session(user, await this.deps.refresh.issue(user.username));
  }

  async refresh(token: string, sourceIp: string): Promise<Session> {
    const result = await this.deps.refresh.rotate(token);
    if (!result.ok) {
      if (result.reason === 'reused') {
        await this.deps.audit.record({ actor: result.username ?? null, action: 'refresh.reuse', target: result.username ?? null, outcome: 'denied', sourceIp, details: { revoked: 'family' } });
      }
      throw new DomainError('unauthenticated', 'refresh token is not valid (expired, used or revoked); log in again');
    }
    const user = await this.deps.users.current(result.username);
    if (user === null) {
      await this.deps.refresh.revoke(result.token);
      throw new DomainError('unauthenticated', 'this account can no longer sign in');
    }
    return this.session(user, result.token);
  }

  async logout(token: string | null, sourceIp: string): Promise<void> {
    const username = token === null ? null : await this.deps.refresh.revoke(token);
    if (username !== null) await this.deps.audit.record({ actor: username, action: 'logout', target: username, outcome: 'ok', sourceIp });
  }

  /** Ends every session of a user (disabled, deleted, password changed). */
  revokeUser(username: string): Promise<void> {
    return this.deps.refresh.revokeUser(username);
  }

  private async session(user: AuthenticatedUser, refreshToken: string): Promise<Session> {
    const { token, expiresIn } = await this.deps.access.issue(user);
    return { accessToken: token, expiresIn, refreshToken, user };
  }
}
