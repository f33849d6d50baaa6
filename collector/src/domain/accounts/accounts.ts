/**
 * Builds the accounts stack — users and their administration, API tokens, audit log, access and refresh tokens, known clients, login
 * throttle (whose global-budget transitions it logs and audits as `login.global-budget`), the
 * session service — over one database and cache store. The collector (app.ts), `pcapmesh user`
 * (cli/user.ts) and the HTTP test fixture build it the same way here.
 */
import type { CacheStore } from '../../cache/store.js';
import type { Logger } from '../../log.js';
import type { Db } from '../../storage/db.js';
import { AccessTokens } from './access-tokens.js';
import { ApiTokensService } from './api-tokens.service.js';
import { AuditService } from './audit.service.js';
import { AuthService, type PasswordAuthenticator } from './auth.service.js';
import { KnownClients } from './known-clients.js';
import { LoginThrottle, type LoginThrottleLimits } from './login-throttle.js';
import { PreferencesService } from './preferences.service.js';
import { RefreshTokens } from './refresh-tokens.js';
import { UserAdminService } from './user-admin.service.js';
import { UsersService } from './users.service.js';

export interface AccountsConfig extends LoginThrottleLimits {
  accessTokenMinutes: number;
  refreshTokenDays: number;
  /** Days a source stays known after a successful login. Default 30. */
  knownForDays?: number | undefined;
  /** Minutes between directory re-checks of an LDAP user on refresh (auth.ldap.recheckMinutes). Default 5. */
  ldapRecheckMinutes?: number | undefined;
}

export interface Accounts {
  users: UsersService;
  /** Creating, changing and deleting users: audited, ending sessions when rights go away (HTTP and CLI). */
  userAdmin: UserAdminService;
  /** Integrators' role-scoped bearer tokens (and the first start's generated one). */
  apiTokens: ApiTokensService;
  audit: AuditService;
  access: AccessTokens;
  refresh: RefreshTokens;
  throttle: LoginThrottle;
  known: KnownClients;
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
  const known = await KnownClients.open({ db: opts.db, cache: opts.cache, days: opts.config.knownForDays ?? 30, now: () => now().getTime() });
  const throttle = new LoginThrottle(opts.cache, opts.config, {
    now: () => now().getTime(),
    // Once per transition of this collector: a warning line and an audit entry.
    onBudgetChange: async (change) => {
      if (change.state === 'entered') log.warn(change, 'global login failure budget exceeded: unknown sources are rate-limited');
      else log.info(change, 'global login failure budget back to normal');
      await audit.record({
        actor: null,
        action: 'login.global-budget',
        target: null,
        outcome: change.state === 'entered' ? 'denied' : 'ok',
        details: { ...change },
      });
    },
  });
  const auth = new AuthService({
    users,
    access,
    refresh,
    throttle,
    known,
    audit,
    ldap: opts.ldap?.(users),
    ldapRecheck: { seconds: (opts.config.ldapRecheckMinutes ?? 5) * 60, cache: opts.cache, log: log.child({ component: 'ldap' }) },
  });
  const userAdmin = new UserAdminService({ users, refresh, audit });
  const apiTokens = new ApiTokensService({ db: opts.db, audit, log });
  return { users, userAdmin, apiTokens, audit, access, refresh, throttle, known, auth, preferences: new PreferencesService(opts.db) };
}
