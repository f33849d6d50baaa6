/**
 * Builds the accounts stack — users, audit log, access and refresh tokens, login throttle, the
 * session service — over one database and cache store. The collector (app.ts) and the HTTP test
 * fixture build it the same way here.
 */
import type { CacheStore } from '../cache/store.js';
import type { Logger } from '../log.js';
import type { Db } from '../storage/db.js';
import { AccessTokens } from './access-tokens.js';
import { AuditService } from './audit.service.js';
import { AuthService, type PasswordAuthenticator } from './auth.service.js';
import { LoginThrottle, type LoginThrottleLimits } from './login-throttle.js';
import { PreferencesService } from './preferences.js';
import { RefreshTokens } from './refresh-tokens.js';
import { UsersService } from './users.service.js';

export interface AccountsConfig extends LoginThrottleLimits {
  accessTokenMinutes: number;
  refreshTokenDays: number;
}

export interface Accounts {
  users: UsersService;
  audit: AuditService;
  access: AccessTokens;
  refresh: RefreshTokens;
  throttle: LoginThrottle;
  auth: AuthService;
  preferences: PreferencesService;
}

export async function createAccounts(opts: {
  db: Db;
  cache: CacheStore;
  log: Logger;
  config: AccountsConfig;
  /** Builds the LDAP authenticator over the users service (config auth.ldap). */
  ldap?: ((users: UsersService) => PasswordAuthenticator) | undefined;
  now?: () => Date;
}): Promise<Accounts> {
  const now = opts.now ?? (() => new Date());
  const log = opts.log.child({ component: 'accounts' });
  const users = new UsersService({ db: opts.db, log, now });
  const audit = new AuditService({ db: opts.db, log, now });
  const access = await AccessTokens.open({ db: opts.db, minutes: opts.config.accessTokenMinutes, now });
  const refresh = new RefreshTokens(opts.cache, opts.config.refreshTokenDays);
  const throttle = new LoginThrottle(opts.cache, opts.config, () => now().getTime());
  const auth = new AuthService({ users, access, refresh, throttle, audit, ldap: opts.ldap?.(users) });
  return { users, audit, access, refresh, throttle, auth, preferences: new PreferencesService(opts.db) };
}
