/**
 * Integrator API tokens, created by admins and scoped to a role (all 'admin'):
 *
 *   GET    /admin/api-tokens          { tokens: { name, role }[] }
 *   POST   /admin/api-tokens          { name, role } → 201 { name, role, token }   (token shown once; 409 if the name exists)
 *   DELETE /admin/api-tokens/:name    → 204
 *
 * A deleted token may keep working for up to a minute in a process that verified it just before
 * (ApiTokenVerifier's verified-token cache).
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { conflict, notFound } from '../../domain/errors.js';
import { ROLES } from '../../domain/accounts/roles.js';
import { actorOf } from '../actor.js';
import { createApiToken } from '../api-tokens.js';
import { jsonBody } from '../client.js';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import type { RouteTools } from './tools.js';

export const tokenName = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'a-z, 0-9, ".", "_", "-"; 1-63 characters');
export const createApiTokenBody = z.strictObject({ name: tokenName, role: z.enum(ROLES) });

export function adminApiTokenRoutes(deps: HttpDeps, { permit }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const repo = deps.accounts.apiTokens;

  app.get('/admin/api-tokens', permit('admin'), async (c) =>
    c.json({ tokens: (await repo.list()).map(({ name, role }) => ({ name, role })) }),
  );

  app.post('/admin/api-tokens', permit('admin'), async (c) => {
    const { name, role } = await jsonBody(c, createApiTokenBody);
    if ((await repo.find(name)) !== null) throw conflict(`API token ${name} already exists`);
    const token = await createApiToken(repo, name, role);
    await deps.accounts.audit.record({ ...actorOf(c), action: 'api-token.create', target: name, outcome: 'ok', details: { role } });
    return c.json({ name, role, token }, 201);
  });

  app.delete('/admin/api-tokens/:name', permit('admin'), async (c) => {
    const { name } = z.object({ name: tokenName }).parse(c.req.param());
    if (!(await repo.remove(name))) throw notFound(`API token ${name}`);
    await deps.accounts.audit.record({ ...actorOf(c), action: 'api-token.delete', target: name, outcome: 'ok' });
    return c.body(null, 204);
  });

  return app;
}
