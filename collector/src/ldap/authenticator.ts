/**
 * Optional LDAP bind authentication (ldapts 8) with group → role mapping (config auth.ldap).
 *
 * A login binds as `userDn` (the template with `{username}` replaced; usernames are already
 * restricted to a-z, 0-9, ".", "_", "@", "-", so nothing needs DN escaping), then — still as that
 * user — searches `groupBaseDn` with `groupFilter` (`{dn}` replaced, RFC 4515-escaped) for the
 * groups the user is in. The highest role any mapped group grants wins; a user in no mapped group
 * gets `defaultRole`, or is refused when there is none. The local record (source 'ldap') is
 * created on the first login and its role refreshed on every login; an admin can disable it.
 *
 * Never throws for bad credentials or an unreachable server (logged; the login fails with 401).
 */
import { Client, InvalidCredentialsError } from 'ldapts';
import type { PasswordAuthenticator } from '../domain/accounts/auth.service.js';
import type { Role } from '../domain/accounts/roles.js';
import { USERNAME_PATTERN, type AuthenticatedUser, type UsersService } from '../domain/accounts/users.service.js';
import type { Logger } from '../log.js';

export interface LdapConfig {
  /** ldap:// or ldaps:// URL. */
  url: string;
  /** Bind DN of a user, with `{username}`: uid={username},ou=people,dc=example,dc=org */
  userDnTemplate: string;
  /** Where groups live: ou=groups,dc=example,dc=org */
  groupBaseDn: string;
  /** Filter of the groups a user is in, with `{dn}`. Default (member={dn}). */
  groupFilter: string;
  /** Group DN (case-insensitive) → role. */
  groupRoles: Record<string, Role>;
  /** Role of users in no mapped group; undefined: they may not log in. */
  defaultRole?: Role | undefined;
  /** Milliseconds for connect and each operation. Default 5000. */
  timeoutMs: number;
}

/** RFC 4515 escaping of a value inside a search filter. */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (ch) => `\\${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const RANK: Record<Role, number> = { viewer: 0, analyst: 1, admin: 2 };

export class LdapAuthenticator implements PasswordAuthenticator {
  readonly counters = { ok: 0, refused: 0, errors: 0 };
  private readonly groupRoles: Map<string, Role>;

  constructor(
    private readonly config: LdapConfig,
    private readonly users: Pick<UsersService, 'upsertLdap'>,
    private readonly log: Logger,
  ) {
    this.groupRoles = new Map(Object.entries(config.groupRoles).map(([dn, role]) => [normaliseDn(dn), role]));
  }

  async authenticate(username: string, password: string): Promise<AuthenticatedUser | null> {
    // An empty password would be an anonymous bind, which LDAP servers accept: never.
    if (!USERNAME_PATTERN.test(username) || password.length === 0) return null;
    const dn = this.config.userDnTemplate.replaceAll('{username}', username);
    const client = new Client({ url: this.config.url, timeout: this.config.timeoutMs, connectTimeout: this.config.timeoutMs });
    let role: Role | undefined;
    try {
      await client.bind(dn, password);
      const { searchEntries } = await client.search(this.config.groupBaseDn, {
        scope: 'sub',
        filter: this.config.groupFilter.replaceAll('{dn}', escapeFilterValue(dn)),
        attributes: ['dn'],
      });
      role = this.roleOf(searchEntries.map((e) => e.dn));
    } catch (err) {
      if (err instanceof InvalidCredentialsError) this.counters.refused += 1;
      else {
        this.counters.errors += 1;
        this.log.warn({ err, user: username, url: this.config.url }, 'LDAP authentication failed');
      }
      return null;
    } finally {
      await client.unbind().catch(() => undefined);
    }
    if (role === undefined) {
      this.counters.refused += 1;
      this.log.info({ user: username }, 'LDAP user in no mapped group and no defaultRole: refused');
      return null;
    }
    try {
      const user = await this.users.upsertLdap(username, role);
      if (user.disabled) return null;
      this.counters.ok += 1;
      return { username, role };
    } catch (err) {
      this.log.warn({ err, user: username }, 'LDAP user cannot be recorded (a local user of that name exists?)');
      return null;
    }
  }

  private roleOf(groupDns: string[]): Role | undefined {
    let best: Role | undefined;
    for (const dn of groupDns) {
      const role = this.groupRoles.get(normaliseDn(dn));
      if (role !== undefined && (best === undefined || RANK[role] > RANK[best])) best = role;
    }
    return best ?? this.config.defaultRole;
  }
}

function normaliseDn(dn: string): string {
  return dn
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .join(',');
}
