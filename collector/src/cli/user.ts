/**
 * `pcapmesh user add|passwd|disable|enable|list`: local user administration on the database.
 *
 * Passwords: `--password-stdin` reads the first line of stdin (scripts); otherwise a random one
 * is generated and printed once on stdout. Passwords are never taken from the command line (they
 * would land in shell history and `ps`).
 */
import { createInterface } from 'node:readline';
import { AuditService } from '../domain/accounts/audit.service.js';
import { generatePassword, UsersService } from '../domain/accounts/users.service.js';
import type { Db } from '../storage/db.js';
import { migrate } from '../storage/migrate.js';
import { UsageError, type CliContext } from './context.js';
import { withDb } from './db.js';

export interface UserCommandOptions {
  role?: string | undefined;
  passwordStdin?: boolean | undefined;
}

/** First line of stdin, without its line ending. */
async function readStdinLine(): Promise<string> {
  const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    lines.close();
    return line;
  }
  throw new UsageError('--password-stdin: stdin is empty');
}

async function withUsers(ctx: CliContext, fn: (users: UsersService, audit: AuditService, db: Db) => Promise<void>): Promise<void> {
  await withDb(ctx, async (db) => {
    await migrate(db);
    const log = ctx.log.child({ component: 'users' });
    await fn(new UsersService({ db, log }), new AuditService({ db, log }), db);
  });
}

const CLI_ACTOR = 'cli';

export async function userCommand(ctx: CliContext, sub: string | undefined, name: string | undefined, opts: UserCommandOptions): Promise<void> {
  if (sub === 'list') {
    if (name !== undefined) throw new UsageError(`user list takes no NAME (got ${JSON.stringify(name)})`);
    return withUsers(ctx, async (users) => {
      const rows = await users.list();
      process.stdout.write('USERNAME\tROLE\tSOURCE\tSTATE\tLAST LOGIN\n');
      for (const u of rows) {
        process.stdout.write(`${u.username}\t${u.role}\t${u.source}\t${u.disabled ? 'disabled' : 'enabled'}\t${u.lastLoginAt ?? '-'}\n`);
      }
    });
  }
  if (!['add', 'passwd', 'disable', 'enable'].includes(sub ?? '')) {
    throw new UsageError(`unknown user command ${JSON.stringify(sub ?? '')} (add, passwd, disable, enable, list)`);
  }
  if (name === undefined) throw new UsageError(`user ${sub} needs a NAME`);
  if (sub !== 'add' && opts.role !== undefined) throw new UsageError('--role applies to user add only');
  const password = sub === 'add' || sub === 'passwd' ? (opts.passwordStdin ? await readStdinLine() : null) : null;
  const chosen = password ?? generatePassword();
  await withUsers(ctx, async (users, audit) => {
    if (sub === 'add') {
      const user = await users.create({ username: name, role: opts.role ?? 'viewer', password: chosen });
      await audit.record({ actor: CLI_ACTOR, action: 'user.create', target: user.username, outcome: 'ok', details: { role: user.role } });
      process.stdout.write(`added user ${user.username} (role ${user.role})\n`);
    } else if (sub === 'passwd') {
      await users.setPassword(name, chosen);
      await audit.record({ actor: CLI_ACTOR, action: 'user.password', target: name, outcome: 'ok' });
      process.stdout.write(`password of ${name} changed\n`);
    } else {
      const user = await users.update(name, { disabled: sub === 'disable' });
      await audit.record({ actor: CLI_ACTOR, action: `user.${sub}`, target: name, outcome: 'ok' });
      process.stdout.write(`user ${user.username} ${user.disabled ? 'disabled' : 'enabled'}\n`);
    }
    if (password === null && sub !== 'disable' && sub !== 'enable') {
      process.stdout.write(`password: ${chosen}\nThe password is shown only this once.\n`);
    }
  });
}
