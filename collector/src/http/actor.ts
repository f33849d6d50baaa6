/** Who did it, for audit entries: the principal's name (`token:<label>` for an API token) and address. */
import type { Context } from 'hono';
import { clientAddress } from './client.js';
import type { AppEnv } from './env.js';

export function actorOf(c: Context<AppEnv>): { actor: string | null; sourceIp: string } {
  const p = c.var.principal;
  return { actor: p === undefined ? null : p.kind === 'api-token' ? `token:${p.name}` : p.name, sourceIp: clientAddress(c) };
}
