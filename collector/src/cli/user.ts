/**
 * `pcapmesh user add|passwd|disable|enable|list`: local user administration on the database.
 *
 * Passwords: `--password-stdin` reads the first line of stdin (scripts); otherwise a random one
 * is generated and printed once on stdout. Passwords are never taken from the command line (they
 * would land in shell history and `ps`).
 *
 * Changes follow the same rules as the admin API (domain/accounts/user-admin.service.ts): audited
 * as actor `cli` (`user.create`, `user.update`), and `passwd`/`disable` end the user's sessions in
 * the configured cache store.
 */
import { createInterface } from 'node:readline';
import { openCache } from '../cache/store.js';
import { createAccounts, type Accounts } from '../domain/accounts/accounts.js';
import { generatePassword } from '../domain/accounts/users.service.js';
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

/**
 * The collector's accounts stack over the configured database and cache store (Redis, where the
 * sessions of running collectors live, when configured).
 */
async function withAccounts(ctx: CliContext, fn: (accounts: Accounts) => Promise<void>): Promise<void> {
  await withDb(ctx, async (db) => {
    await migrate(db);
    const cache = await openCache({ url: ctx.config.redis.url });
    try {
      if (cache.kind === 'memory' && ctx.config.database.url !== undefined) {
        // With the embedded database no collector can be running (it holds the database lock), so
        // its in-memory sessions are gone already; with PostgreSQL one may be.
        ctx.log.warn(
          'no redis.url configured: sessions of a running collector live in its memory and are not ended by this command (disabled users are refused at their next request anyway)',
        );
      }
      await fn(await createAccounts({ db, cache, log: ctx.log, config: ctx.config.auth }));
    } finally {
      await cache.close();
    }
  });
}

const CLI_ACTOR = { actor: 'cli' };

export async function userCommand(ctx: CliContext, sub: string | undefined, name: string | undefined, opts: UserCommandOptions): Promise<void> {
  if (sub === 'list') {
    if (name !== undefined) throw new UsageError(`user list takes no NAME (got ${JSON.stringify(name)})`);
    return withAccounts(ctx, (accounts) => runUserCommand(accounts, 'list', undefined, opts, null));
  }
  if (!['add', 'passwd', 'disable', 'enable'].includes(sub ?? '')) {
    throw new UsageError(`unknown user command ${JSON.stringify(sub ?? '')} (add, passwd, disable, enable, list)`);
  }
  if (name === undefined) throw new UsageError(`user ${sub} needs a NAME`);
  if (sub !== 'add' && opts.role !== undefined) throw new UsageError('--role applies to user add only');
  const password = sub === 'add' || sub === 'passwd' ? (opts.passwordStdin ? await readStdinLine() : null) : null;
  await withAccounts(ctx, (accounts) => runUserCommand(accounts, sub!, name, opts, password));
}

/**
 * One checked user subcommand on an accounts stack. Changes go through UserAdminService, the same
 * path as PUT /admin/users (audited as actor `cli`; a new password or disabling ends the sessions).
 * `password` null → a generated one, printed once.
 */
export async function runUserCommand(
  accounts: Pick<Accounts, 'users' | 'userAdmin'>,
  sub: string,
  name: string | undefined,
  opts: UserCommandOptions,
  password: string | null,
  write: (text: string) => void = (text) => process.stdout.write(text),
): Promise<void> {
  const { users, userAdmin } = accounts;
  if (sub === 'list') {
    const rows = await users.list();
    write('USERNAME\tROLE\tSOURCE\tSTATE\tLAST LOGIN\n');
    for (const u of rows) {
      write(`${u.username}\t${u.role}\t${u.source}\t${u.disabled ? 'disabled' : 'enabled'}\t${u.lastLoginAt ?? '-'}\n`);
    }
    return;
  }
  if (name === undefined) throw new UsageError(`user ${sub} needs a NAME`);
  const chosen = password ?? generatePassword();
  if (sub === 'add') {
    const user = await userAdmin.create(CLI_ACTOR, { username: name, role: opts.role ?? 'viewer', password: chosen });
    write(`added user ${user.username} (role ${user.role})\n`);
  } else if (sub === 'passwd') {
    await userAdmin.update(CLI_ACTOR, name, { password: chosen });
    write(`password of ${name} changed\n`);
  } else if (sub === 'disable' || sub === 'enable') {
    const user = await userAdmin.update(CLI_ACTOR, name, { disabled: sub === 'disable' });
    write(`user ${user.username} ${user.disabled ? 'disabled' : 'enabled'}\n`);
  } else {
    throw new UsageError(`unknown user command ${JSON.stringify(sub)} (add, passwd, disable, enable, list)`);
  }
  if (password === null && (sub === 'add' || sub === 'passwd')) {
    write(`password: ${chosen}\nThe password is shown only this once.\n`);
  }
}
