/**
 * User administration as one business rule, whoever asks (http/routes/admin-users.ts, cli/user.ts):
 * every change is audited, and a change that takes rights away or replaces the credential — a new
 * password, disabling, a role change, deletion — ends every session of the user (their refresh
 * tokens stop working; the next login carries the new state).
 *
 * Contract:
 * - `create` → audit `user.create` { role };
 * - `update` applies a new password first, then role/disabled (so one call can re-enable a user with
 *   a new password), ends the sessions as above, and audits `user.update` with the change (a new
 *   password shows as `password: 'changed'`, never its value); an unknown user is `not_found` before
 *   anything changes;
 * - `remove` → ends the sessions, audit `user.delete`;
 * - validation and the last-enabled-admin rule are UsersService's (invalid, conflict).
 *
 * @example
 *   await accounts.userAdmin.update({ actor: 'cli' }, 'ana', { password: 'a new password here' });
 */
import type { AuditService, ChangedBy } from './audit.service.js';
import type { RefreshTokens } from './refresh-tokens.js';
import type { UsersService, UserView } from './users.service.js';

export interface UserChange {
  role?: string | undefined;
  disabled?: boolean | undefined;
  password?: string | undefined;
}

export interface UserAdminDeps {
  users: UsersService;
  /** Sessions live here: `revokeUser` ends every refresh-token family of a user. */
  refresh: Pick<RefreshTokens, 'revokeUser'>;
  audit: AuditService;
}

export class UserAdminService {
  constructor(private readonly deps: UserAdminDeps) {}

  async create(by: ChangedBy, input: { username: string; role: string; password: string }): Promise<UserView> {
    const user = await this.deps.users.create(input);
    await this.deps.audit.record({ ...by, action: 'user.create', target: user.username, outcome: 'ok', details: { role: user.role } });
    return user;
  }

  async update(by: ChangedBy, username: string, change: UserChange): Promise<UserView> {
    const { users } = this.deps;
    const { password, role, disabled } = change;
    await users.get(username); // not_found before anything changes
    if (password !== undefined) await users.setPassword(username, password);
    const rights = { ...(role !== undefined ? { role } : {}), ...(disabled !== undefined ? { disabled } : {}) };
    const user = role !== undefined || disabled !== undefined ? await users.update(username, rights) : await users.get(username);
    if (password !== undefined || disabled === true || role !== undefined) await this.endSessions(username);
    await this.deps.audit.record({
      ...by,
      action: 'user.update',
      target: username,
      outcome: 'ok',
      details: { ...rights, ...(password !== undefined ? { password: 'changed' } : {}) },
    });
    return user;
  }

  async remove(by: ChangedBy, username: string): Promise<void> {
    await this.deps.users.remove(username);
    await this.endSessions(username);
    await this.deps.audit.record({ ...by, action: 'user.delete', target: username, outcome: 'ok' });
  }

  /** Ends every session of a user. */
  private endSessions(username: string): Promise<void> {
    return this.deps.refresh.revokeUser(username);
  }
}
