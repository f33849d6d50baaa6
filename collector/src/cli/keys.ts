/**
 * `pcapmesh keys rotate`: new signing keys for access tokens (JWT) and device cookies. What the old
 * keys signed stays valid until it expires (domain/accounts/key-ring.ts); running collectors on
 * the same PostgreSQL pick the new keys up within 30 s. With the embedded database the collector
 * holds its lock: stop it first. Prints which keys were rotated, never a key.
 */
import { rotateKey } from '../domain/accounts/key-ring.js';
import { ACCESS_TOKEN_KEY } from '../domain/accounts/access-tokens.js';
import { DEVICE_COOKIE_KEY } from '../domain/accounts/known-clients.js';
import { migrate } from '../storage/migrate.js';
import { UsageError, type CliContext } from './context.js';
import { withDb } from './db.js';

/** The keys `keys rotate` replaces, and what each signs. */
export const ROTATED_KEYS = [
  { name: ACCESS_TOKEN_KEY, signs: 'access tokens (JWT)' },
  { name: DEVICE_COOKIE_KEY, signs: 'device cookies' },
] as const;

export async function keysCommand(ctx: CliContext, sub: string | undefined): Promise<void> {
  if (sub !== 'rotate') throw new UsageError(`unknown keys command ${JSON.stringify(sub ?? '')} (rotate)`);
  await withDb(ctx, async (db) => {
    await migrate(db);
    const rotated = await db.transaction(async (tx) => {
      const done: string[] = [];
      for (const key of ROTATED_KEYS) if (await rotateKey(tx, key.name)) done.push(key.signs);
      return done;
    });
    ctx.log.info({ keys: rotated }, 'signing keys rotated');
    process.stdout.write(
      rotated.length === 0
        ? 'no keys yet (they are created on the first start); nothing rotated\n'
        : `rotated the keys of ${rotated.join(' and ')}; what the old keys signed stays valid until it expires\n`,
    );
  });
}
