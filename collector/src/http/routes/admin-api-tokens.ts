/**
 * Integrator API tokens, created by admins and scoped to a role (all 'admin'):
 *
 *   GET    /admin/api-tokens          { tokens: { name, role }[] }
 *   POST   /admin/api-tokens          { name, role } → 201 { name, role, token }   (token shown once; 409 if the name exists)
 *   DELETE /admin/api-tokens/:name    → 204
 *
 * The rules (unique names, plaintext shown once, audit, the verified-token cache that lets a
 * deleted token work for up to a minute) are domain/accounts/api-tokens.service.ts's.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { ROLES } from '../../domain/accounts/roles.js';
import { actorOf } from '../actor.js';
import { jsonBody } from '../client.js';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import type { RouteTools } from './tools.js';

export const tokenName = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'a-z, 0-9, ".", "_", "-"; 1-63 characters');
export const createApiTokenBody = z.strictObject({ name: tokenName, role: z.enum(ROLES) });

export function adminApiTokenRoutes(deps: HttpDeps, { permit }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { apiTokens } = deps.accounts;

  app.get('/admin/api-tokens', permit('admin'), async (c) => c.json({ tokens: await apiTokens.list() }));

  app.post('/admin/api-tokens', permit('admin'), async (c) => {
    const { name, role } = await jsonBody(c, createApiTokenBody);
    return c.json(await apiTokens.create(actorOf(c), name, role), 201);
  });

  app.delete('/admin/api-tokens/:name', permit('admin'), async (c) => {
    const { name } = z.object({ name: tokenName }).parse(c.req.param());
    await apiTokens.remove(actorOf(c), name);
    return c.body(null, 204);
  });

  return app;
}
