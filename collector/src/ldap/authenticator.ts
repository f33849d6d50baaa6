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
 *
 * Transport: `ldaps://`, or `ldap://` with `startTls` (the connection is upgraded before any bind);
 * plain `ldap://` sends passwords in clear and is refused at construction unless `allowPlain`.
 * `caFile` (PEM) is the CA the server's certificate must chain to (default: the system's CAs).
 *
 * Re-check (`recheck(username)`, called on session refresh by AuthService every few minutes):
 * binds as `bindDn`/`bindPassword` when given (else anonymously), reads the user's entry and its
 * groups: 'gone' when the entry no longer exists, 'refused' when no mapped group (and no
 * defaultRole) is left, else the role now. Throws when the directory cannot be asked.
 */
import { readFileSync } from 'node:fs';
import { Client, InvalidCredentialsError, NoSuchObjectError } from 'ldapts';
import type { ConnectionOptions } from 'node:tls';
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
  /** Upgrade an ldap:// connection with StartTLS before binding. */
  startTls?: boolean | undefined;
  /** Accept plain ldap:// without StartTLS (passwords in clear). */
  allowPlain?: boolean | undefined;
  /** PEM file of the CA the server certificate must chain to. */
  caFile?: string | undefined;
  /** DN the re-check binds as (else anonymous). */
  bindDn?: string | undefined;
  /** Password of bindDn (never logged). */
  bindPassword?: string | undefined;
}

/** The result of a directory re-check. */
export type LdapRecheck = { role: Role } | 'gone' | 'refused';

/** RFC 4515 escaping of a value inside a search filter. */
export function escapeFilterValue(value: string): string {
  return value.replace(/[\\*()\0]/g, (ch) => `\\${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

const RANK: Record<Role, number> = { viewer: 0, analyst: 1, admin: 2 };

export class LdapAuthenticator implements PasswordAuthenticator {
  readonly counters = { ok: 0, refused: 0, errors: 0 };
  private readonly groupRoles: Map<string, Role>;
  private readonly tls: ConnectionOptions;

  constructor(
    private readonly config: LdapConfig,
    private readonly users: Pick<UsersService, 'upsertLdap'>,
    private readonly log: Logger,
  ) {
    this.groupRoles = new Map(Object.entries(config.groupRoles).map(([dn, role]) => [normaliseDn(dn), role]));
    if (config.url.startsWith('ldap://') && config.startTls !== true && config.allowPlain !== true) {
      throw new Error(
        `auth.ldap.url ${config.url}: ldap:// without StartTLS sends passwords in clear; use ldaps://, set auth.ldap.startTls, or auth.ldap.allowPlain to accept that`,
      );
    }
    this.tls = { minVersion: 'TLSv1.2', ...(config.caFile !== undefined ? { ca: readCaFile(config.caFile) } : {}) };
  }

  /** A connected client (StartTLS done when configured); the caller unbinds it. */
  private async connect(): Promise<Client> {
    // ldapts opens TLS whenever tlsOptions is given: only for ldaps:// (StartTLS gets them below).
    const secure = this.config.url.startsWith('ldaps://');
    const client = new Client({
      url: this.config.url,
      timeout: this.config.timeoutMs,
      connectTimeout: this.config.timeoutMs,
      ...(secure ? { tlsOptions: this.tls } : {}),
    });
    if (this.config.startTls === true && this.config.url.startsWith('ldap://')) {
      try {
        await client.startTLS(this.tls);
      } catch (err) {
        await client.unbind().catch(() => undefined); // closes the socket: no connection left behind
        throw new Error(`StartTLS with ${this.config.url} failed`, { cause: err });
      }
    }
    return client;
  }

  /** Asks the directory again about `username` (see the header). Throws when it cannot be asked. */
  async recheck(username: string): Promise<LdapRecheck> {
    if (!USERNAME_PATTERN.test(username)) return 'gone';
    const dn = this.config.userDnTemplate.replaceAll('{username}', username);
    const client = await this.connect();
    try {
      if (this.config.bindDn !== undefined) await client.bind(this.config.bindDn, this.config.bindPassword ?? '');
      try {
        const { searchEntries } = await client.search(dn, { scope: 'base', filter: '(objectClass=*)', attributes: ['dn'] });
        if (searchEntries.length === 0) return 'gone';
      } catch (err) {
        if (err instanceof NoSuchObjectError) return 'gone';
        throw err;
      }
      const role = this.roleOf(await this.groupsOf(client, dn));
      return role === undefined ? 'refused' : { role };
    } finally {
      await client.unbind().catch(() => undefined);
    }
  }

  private async groupsOf(client: Client, dn: string): Promise<string[]> {
    const { searchEntries } = await client.search(this.config.groupBaseDn, {
      scope: 'sub',
      filter: this.config.groupFilter.replaceAll('{dn}', escapeFilterValue(dn)),
      attributes: ['dn'],
    });
    return searchEntries.map((e) => e.dn);
  }

  async authenticate(username: string, password: string): Promise<AuthenticatedUser | null> {
    // An empty password would be an anonymous bind, which LDAP servers accept: never.
    if (!USERNAME_PATTERN.test(username) || password.length === 0) return null;
    const dn = this.config.userDnTemplate.replaceAll('{username}', username);
    let client: Client | undefined;
    let role: Role | undefined;
    try {
      client = await this.connect();
      await client.bind(dn, password);
      role = this.roleOf(await this.groupsOf(client, dn));
    } catch (err) {
      if (err instanceof InvalidCredentialsError) this.counters.refused += 1;
      else {
        this.counters.errors += 1;
        this.log.warn({ err, user: username, url: this.config.url }, 'LDAP authentication failed');
      }
      return null;
    } finally {
      await client?.unbind().catch(() => undefined);
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

function readCaFile(path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (err) {
    throw new Error(`auth.ldap.caFile: cannot read ${path}`, { cause: err });
  }
}

function normaliseDn(dn: string): string {
  return dn
    .split(',')
    .map((part) => part.trim().toLowerCase())
    .join(',');
}
