/**
 * Sessions: login (local password, or LDAP when configured), refresh-token rotation, logout, and
 * the audit entries they leave. Transport (http/routes/session.ts) calls this.
 *
 * Contract:
 * - `signIn` (and `login`, which drops the device cookie) first asks KnownClients whether the
 *   attempt comes from a known source (the user signed in from this address before, or presents
 *   their valid device cookie), then the throttle (ThrottledError → 429, no password check, no
 *   database write), then checks the password in one of the throttle's bounded slots; a wrong one
 *   is `unauthenticated` with the same message whether the user exists or not; failures and
 *   lockouts are audited ('login' failed, 'login.lockout' with its scope user/address/known);
 *   a success remembers the source as known and returns a new device cookie for the user;
 * - `refresh` rotates the refresh token; reuse of a used token revokes its family and is audited
 *   ('refresh.reuse'); a user disabled or deleted since cannot refresh;
 * - LDAP users (with an authenticator that can `recheck`): a refresh asks the directory again when
 *   the last answer is older than `ldapRecheck.seconds` (shared through the cache store). Gone from
 *   the directory or in no mapped group → every session of the user ends ('ldap.recheck' denied,
 *   audited); a changed group → the new role from this refresh on. When the directory cannot be
 *   asked the refresh goes through while the last good answer is younger than 3 × seconds, and is
 *   refused after that (fail closed, logged);
 * - `logout` revokes the family of the presented refresh token.
 */
import type { CacheStore } from '../../cache/store.js';
import type { Logger } from '../../log.js';
import type { AccessTokens } from './access-tokens.js';
import type { AuditService } from './audit.service.js';
import { DomainError } from '../errors.js';
import type { KnownClients } from './known-clients.js';
import type { LoginAttempt, LoginThrottle } from './login-throttle.js';
import type { RefreshTokens } from './refresh-tokens.js';
import type { Role } from './roles.js';
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
  /** Asks the directory again about a user it created (ldap/authenticator.ts); throws when it cannot. */
  recheck?(username: string): Promise<{ role: Role } | 'gone' | 'refused'>;
}

export interface AuthServiceDeps {
  users: UsersService;
  access: AccessTokens;
  refresh: RefreshTokens;
  throttle: LoginThrottle;
  known: KnownClients;
  audit: AuditService;
  /** Tried when the local password check fails (config auth.ldap). */
  ldap?: PasswordAuthenticator | undefined;
  /** How often LDAP users are re-checked on refresh, and where the last check is remembered. */
  ldapRecheck?: { seconds: number; cache: CacheStore; log: Logger } | undefined;
}

/** A session and the device cookie value that marks the browser as known for its user. */
export interface SignIn {
  session: Session;
  /** The device cookie's value and lifetime (seconds). */
  knownCookie: { value: string; maxAge: number };
}

const BAD_CREDENTIALS = 'wrong username or password';

export class AuthService {
  constructor(private readonly deps: AuthServiceDeps) {}

  async login(username: string, password: string, sourceIp: string): Promise<Session> {
    return (await this.signIn(username, password, sourceIp)).session;
  }

  /** Login with the device cookie the client presented (if any); see the contract above. */
  async signIn(username: string, password: string, sourceIp: string, knownCookie?: string): Promise<SignIn> {
    const { throttle } = this.deps;
    const attempt: LoginAttempt = { username, address: sourceIp, known: await this.deps.known.identify(username, sourceIp, knownCookie) };
    // Refused attempts while locked out are counted (throttle.counters.refused), not audited one by
    // one: the lockout itself is audited, and a database write per attempt would hand an attacker a
    // cheap way to load the database (bench/login-throttle.ts).
    await throttle.admit(attempt);
    return throttle.exclusive(attempt, () => this.checkPassword(attempt, password));
  }

  /** The password check of one attempt, serialised per source by the throttle. */
  private async checkPassword(attempt: LoginAttempt, password: string): Promise<SignIn> {
    const { throttle, audit } = this.deps;
    const { username, address: sourceIp } = attempt;
    await throttle.checkLocks(attempt); // again: a lockout may have landed while queued
    const user = await throttle.passwordCheck(
      attempt,
      async () => (await this.deps.users.verifyPassword(username, password)) ?? (await this.deps.ldap?.authenticate(username, password)) ?? null,
    );
    if (user === null) {
      const locked = await throttle.failed(attempt);
      await audit.record({ actor: null, action: 'login', target: username, outcome: 'failed', sourceIp, details: { known: attempt.known.length > 0 } });
      for (const scope of locked) {
        await audit.record({
          actor: null,
          action: 'login.lockout',
          target: scope === 'address' ? sourceIp : username,
          outcome: 'denied',
          sourceIp,
          details: { scope },
        });
      }
      throw new DomainError('unauthenticated', BAD_CREDENTIALS);
    }
    await throttle.succeeded(attempt);
    const knownCookie = { value: await this.deps.known.remember(user.username, sourceIp), maxAge: this.deps.known.seconds };
    await this.deps.users.recordLogin(user.username);
    await audit.record({ actor: user.username, action: 'login', target: user.username, outcome: 'ok', sourceIp, details: { known: attempt.known.length > 0 } });
    return { session: await this.session(user, await this.deps.refresh.issue(user.username)), knownCookie };
  }

  async refresh(token: string, sourceIp: string): Promise<Session> {
    const result = await this.deps.refresh.rotate(token);
    if (!result.ok) {
      if (result.reason === 'reused') {
        await this.deps.audit.record({
          actor: result.username ?? null,
          action: 'refresh.reuse',
          target: result.username ?? null,
          outcome: 'denied',
          sourceIp,
          details: { revoked: 'family' },
        });
      }
      throw new DomainError('unauthenticated', 'refresh token is not valid (expired, used or revoked); log in again');
    }
    let user: AuthenticatedUser | null = await this.deps.users.current(result.username);
    if (user !== null) user = await this.recheckLdap(user, sourceIp);
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

  /** The user as the directory says now (see the contract); null: the user may no longer sign in. */
  private async recheckLdap(user: AuthenticatedUser, sourceIp: string): Promise<AuthenticatedUser | null> {
    const { ldap, ldapRecheck } = this.deps;
    if (ldap?.recheck === undefined || ldapRecheck === undefined) return user;
    const { cache, seconds, log } = ldapRecheck;
    if ((await cache.get(`ldap-checked:${user.username}`)) !== null) return user;
    if ((await this.deps.users.get(user.username)).source !== 'ldap') return user;
    let answer: Awaited<ReturnType<NonNullable<PasswordAuthenticator['recheck']>>>;
    try {
      answer = await ldap.recheck(user.username);
    } catch (err) {
      const recent = (await cache.get(`ldap-ok:${user.username}`)) !== null;
      log.warn({ err, user: user.username, allowed: recent }, 'LDAP re-check failed: the directory cannot be asked');
      return recent ? user : null;
    }
    if (answer === 'gone' || answer === 'refused') {
      await this.deps.refresh.revokeUser(user.username);
      await this.deps.audit.record({
        actor: null,
        action: 'ldap.recheck',
        target: user.username,
        outcome: 'denied',
        sourceIp,
        details: { reason: answer === 'gone' ? 'not in the directory' : 'in no mapped group' },
      });
      return null;
    }
    await cache.set(`ldap-checked:${user.username}`, '1', seconds);
    await cache.set(`ldap-ok:${user.username}`, '1', 3 * seconds);
    if (answer.role === user.role) return user;
    await this.deps.users.upsertLdap(user.username, answer.role);
    log.info({ user: user.username, from: user.role, to: answer.role }, 'LDAP re-check: role changed');
    return { ...user, role: answer.role };
  }

  private async session(user: AuthenticatedUser, refreshToken: string): Promise<Session> {
    const { token, expiresIn } = await this.deps.access.issue(user);
    return { accessToken: token, expiresIn, refreshToken, user };
  }
}
