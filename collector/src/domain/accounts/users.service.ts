/**
 * Users: local accounts with argon2id password hashes (and LDAP accounts created on their first
 * login, which have no local password). Transport (http/, cli/) calls this; this calls
 * storage/users.repo.ts only.
 *
 * Contract:
 * - usernames: lower-case letters, digits, `.`, `_`, `@`, `-`; 1–64 characters, starting with a letter or digit;
 * - passwords: 10–1024 characters; only their argon2id hash is stored;
 * - `verifyPassword` costs one argon2 verification whether or not the user exists (no user
 *   enumeration by timing) and returns null for unknown, disabled, LDAP-only or wrong;
 * - the last enabled admin cannot be disabled, demoted or deleted (conflict).
 *
 * @example
 *   const users = new UsersService({ db, log });
 *   await users.create({ username: 'ana', role: 'analyst', password: 'correct horse battery' });
 *   await users.verifyPassword('ana', 'correct horse battery'); // { username: 'ana', role: 'analyst' }
 */
import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import type { Logger } from '../../log.js';
import type { Db } from '../../storage/db.js';
import {
  countActiveAdmins,
  countUsers,
  deleteUser,
  findUser,
  insertUser,
  listUsers,
  passwordHashOf,
  touchLogin,
  updateUser,
  type UserRow,
} from '../../storage/users.repo.js';
import { conflict, invalid, notFound } from '../errors.js';
import { isRole, type Role } from './roles.js';

export interface UserView {
  username: string;
  role: Role;
  source: 'local' | 'ldap';
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
  lastLoginAt: string | null;
}

/** Who a successful authentication is. */
export interface AuthenticatedUser {
  username: string;
  role: Role;
}

export const USERNAME_PATTERN = /^[a-z0-9][a-z0-9._@-]{0,63}$/;
export const MIN_PASSWORD = 10;
const MAX_PASSWORD = 1024;

export function checkUsername(username: string): string {
  if (!USERNAME_PATTERN.test(username)) {
    throw invalid(`username ${JSON.stringify(username.slice(0, 80))} is not valid (a-z, 0-9, ".", "_", "@", "-"; 1-64 characters)`);
  }
  return username;
}

function checkPassword(password: string): string {
  if (password.length < MIN_PASSWORD || password.length > MAX_PASSWORD) {
    throw invalid(`password must be ${MIN_PASSWORD}-${MAX_PASSWORD} characters long`);
  }
  return password;
}

function checkRole(role: string): Role {
  if (!isRole(role)) throw invalid(`role ${JSON.stringify(role)} is not one of admin, analyst, viewer`);
  return role;
}

function toView(row: UserRow): UserView {
  return {
    username: row.username,
    role: checkRole(row.role),
    source: row.source,
    disabled: row.disabled,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
    lastLoginAt: row.lastLoginAt?.toISOString() ?? null,
  };
}

/** A random password for the first admin: 18 random bytes, base64url (24 characters). */
export function generatePassword(): string {
  return randomBytes(18).toString('base64url');
}

export interface UsersServiceDeps {
  db: Db;
  log: Logger;
  now?: () => Date;
}

export class UsersService {
  /** A hash verified against for unknown users, so they cost the same as known ones. */
  private readonly decoyHash: Promise<string>;
  private readonly now: () => Date;

  constructor(private readonly deps: UsersServiceDeps) {
    this.now = deps.now ?? (() => new Date());
    this.decoyHash = hash(randomBytes(16).toString('hex'));
  }

  async list(): Promise<UserView[]> {
    return (await listUsers(this.deps.db)).map(toView);
  }

  async get(username: string): Promise<UserView> {
    const row = await findUser(this.deps.db, username);
    if (!row) throw notFound(`user ${username}`);
    return toView(row);
  }

  async create(input: { username: string; role: string; password: string }): Promise<UserView> {
    const username = checkUsername(input.username);
    const role = checkRole(input.role);
    const passwordHash = await hash(checkPassword(input.password));
    const row = await insertUser(this.deps.db, { username, role, source: 'local', passwordHash });
    if (!row) throw conflict(`user ${username} already exists`);
    this.deps.log.info({ user: username, role }, 'user created');
    return toView(row);
  }

  /** An LDAP user's local record, created on first login (role from the group mapping, refreshed on each login). */
  async upsertLdap(username: string, role: Role): Promise<UserView> {
    checkUsername(username);
    const existing = await findUser(this.deps.db, username);
    if (!existing) {
      const row = await insertUser(this.deps.db, { username, role, source: 'ldap', passwordHash: null });
      if (row) return toView(row);
    } else if (existing.source !== 'ldap') {
      throw conflict(`user ${username} is a local account`);
    } else if (existing.role !== role) {
      await updateUser(this.deps.db, username, { role });
    }
    return this.get(username);
  }

  async setPassword(username: string, password: string): Promise<void> {
    const passwordHash = await hash(checkPassword(password));
    const user = await this.get(username);
    if (user.source !== 'local') throw invalid(`user ${username} authenticates with LDAP and has no local password`);
    await updateUser(this.deps.db, username, { passwordHash });
    this.deps.log.info({ user: username }, 'password changed');
  }

  /** Changes role and/or disabled state; keeps at least one enabled admin. */
  async update(username: string, change: { role?: string; disabled?: boolean }): Promise<UserView> {
    const role = change.role === undefined ? undefined : checkRole(change.role);
    return this.deps.db.transaction(async (tx) => {
      const row = await findUser(tx, username);
      if (!row) throw notFound(`user ${username}`);
      const losesAdmin = row.role === 'admin' && !row.disabled && ((role !== undefined && role !== 'admin') || change.disabled === true);
      if (losesAdmin && (await countActiveAdmins(tx)) <= 1) throw conflict(`user ${username} is the last enabled admin`);
      await updateUser(tx, username, { ...(role ? { role } : {}), ...(change.disabled !== undefined ? { disabled: change.disabled } : {}) });
      const updated = await findUser(tx, username);
      return toView(updated!);
    });
  }

  async remove(username: string): Promise<void> {
    await this.deps.db.transaction(async (tx) => {
      const row = await findUser(tx, username);
      if (!row) throw notFound(`user ${username}`);
      if (row.role === 'admin' && !row.disabled && (await countActiveAdmins(tx)) <= 1) {
        throw conflict(`user ${username} is the last enabled admin`);
      }
      await deleteUser(tx, username);
    });
    this.deps.log.info({ user: username }, 'user deleted');
  }

  /** The user when `password` is theirs and they may log in; null otherwise (same cost either way). */
  async verifyPassword(username: string, password: string): Promise<AuthenticatedUser | null> {
    const candidate = USERNAME_PATTERN.test(username) && password.length <= MAX_PASSWORD ? await passwordHashOf(this.deps.db, username) : null;
    const stored = candidate?.passwordHash ?? (await this.decoyHash);
    const ok = await verify(stored, password.slice(0, MAX_PASSWORD)).catch(() => false);
    if (!ok || !candidate || candidate.disabled || candidate.passwordHash === null || !isRole(candidate.role)) return null;
    return { username, role: candidate.role };
  }

  /** Whether the user exists, is enabled, and has this role now (checked on refresh). */
  async current(username: string): Promise<AuthenticatedUser | null> {
    const user = await this.currentWithId(username);
    return user === null ? null : { username: user.username, role: user.role };
  }

  /** `current`, with the user's stable id (users.id): what a signed-in user's principal id is made of. */
  async currentWithId(username: string): Promise<(AuthenticatedUser & { id: number }) | null> {
    const row = await findUser(this.deps.db, username);
    return row && !row.disabled && isRole(row.role) ? { id: row.id, username, role: row.role } : null;
  }

  async recordLogin(username: string): Promise<void> {
    await touchLogin(this.deps.db, username, this.now());
  }

  /**
   * First start: with no user at all, creates `admin` with `password` (config or
   * PCAPMESH_ADMIN_PASSWORD) or a generated one, which is returned so it can be printed once.
   */
  async ensureFirstAdmin(password: string | undefined): Promise<{ created: boolean; generatedPassword: string | null }> {
    if ((await countUsers(this.deps.db)) > 0) return { created: false, generatedPassword: null };
    const generatedPassword = password === undefined ? generatePassword() : null;
    try {
      await this.create({ username: 'admin', role: 'admin', password: password ?? generatedPassword! });
    } catch (err) {
      // Another collector created it at the same moment.
      if (err instanceof Error && 'code' in err && err.code === 'conflict') return { created: false, generatedPassword: null };
      throw err;
    }
    return { created: true, generatedPassword };
  }
}
