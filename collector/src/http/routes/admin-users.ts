/**
 * User administration (all 'admin'). The rules — every change audited, sessions ended when rights
 * go away (disabled, deleted, new role or password) — are domain/accounts/user-admin.service.ts's:
 *
 *   GET    /admin/users              { users: UserView[] }
 *   POST   /admin/users              { username, role, password } → 201 UserView
 *   GET    /admin/users/:username    UserView
 *   PUT    /admin/users/:username    { role?, disabled?, password? } → UserView
 *   DELETE /admin/users/:username    → 204
 *
 * 400 invalid input (named), 404 unknown user, 409 duplicate or the last enabled admin.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { ROLES } from '../../domain/accounts/roles.js';
import { USERNAME_PATTERN } from '../../domain/accounts/users.service.js';
import { actorOf } from '../actor.js';
import { jsonBody } from '../client.js';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import type { RouteTools } from './tools.js';

export const usernameParams = z.object({
  username: z.string().regex(USERNAME_PATTERN, 'not a valid username (a-z, 0-9, ".", "_", "@", "-"; 1-64 characters)'),
});

export const createUserBody = z.strictObject({ username: z.string().max(64), role: z.enum(ROLES), password: z.string().max(1024) });
export const updateUserBody = z.strictObject({ role: z.enum(ROLES).optional(), disabled: z.boolean().optional(), password: z.string().max(1024).optional() });

export function adminUserRoutes(deps: HttpDeps, { permit }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { users, userAdmin } = deps.accounts;

  app.get('/admin/users', permit('admin'), async (c) => c.json({ users: await users.list() }));

  app.post('/admin/users', permit('admin'), async (c) => {
    const body = await jsonBody(c, createUserBody);
    return c.json(await userAdmin.create(actorOf(c), body), 201);
  });

  app.get('/admin/users/:username', permit('admin'), async (c) => {
    const { username } = usernameParams.parse(c.req.param());
    return c.json(await users.get(username));
  });

  app.put('/admin/users/:username', permit('admin'), async (c) => {
    const { username } = usernameParams.parse(c.req.param());
    return c.json(await userAdmin.update(actorOf(c), username, await jsonBody(c, updateUserBody)));
  });

  app.delete('/admin/users/:username', permit('admin'), async (c) => {
    const { username } = usernameParams.parse(c.req.param());
    await userAdmin.remove(actorOf(c), username);
    return c.body(null, 204);
  });

  return app;
}
