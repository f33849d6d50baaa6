/** Who did it, for audit entries: the principal's name (`token:<label>` for an API token) and address; the caller as the domain's Actor. */
import type { Context } from 'hono';
import type { Actor } from '../domain/accounts/roles.js';
import { clientAddress } from './client.js';
import type { AppEnv } from './env.js';

export function actorOf(c: Context<AppEnv>): { actor: string | null; sourceIp: string } {
  const p = c.var.principal;
  return { actor: p === undefined ? null : p.kind === 'api-token' ? `token:${p.name}` : p.name, sourceIp: clientAddress(c) };
}

/** The authenticated caller as the domain sees it: stable id (owns jobs), display name, role. Only behind permit(). */
export function principalActor(c: Context<AppEnv>): Actor {
  const p = c.var.principal;
  if (p === undefined) throw new Error('principalActor outside permit()'); // permit() always sets it
  return { id: p.id, name: actorOf(c).actor ?? p.name, role: p.role };
}
