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
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { defineOperation } from '../openapi/operation.js';
import { UserViewSchema } from './admin.schemas.js';
import type { RouteTools } from './tools.js';

export const usernameParams = z.object({
  username: z.string().regex(USERNAME_PATTERN, 'not a valid username (a-z, 0-9, ".", "_", "@", "-"; 1-64 characters)'),
});

export const createUserBody = z
  .strictObject({
    username: z.string().max(64).describe('a-z, 0-9, ".", "_", "@", "-"; 1-64 characters (checked by the server)'),
    role: z.enum(ROLES),
    password: z.string().max(1024).describe('at least 10 characters (checked by the server)'),
  })
  .meta({ id: 'UserCreate' });

export const updateUserBody = z
  .strictObject({
    role: z.enum(ROLES).optional(),
    disabled: z.boolean().optional().describe('true ends the user’s sessions'),
    password: z.string().max(1024).optional().describe('at least 10 characters; ends the user’s sessions (local users only)'),
  })
  .meta({ id: 'UserUpdate' });

export const listUsers = defineOperation({
  method: 'get',
  path: '/admin/users',
  id: 'listUsers',
  tag: 'admin-users',
  permission: 'admin',
  summary: 'Every user',
  responses: { 200: { description: 'the users', schema: z.strictObject({ users: z.array(UserViewSchema) }) } },
});

export const createUser = defineOperation({
  method: 'post',
  path: '/admin/users',
  id: 'createUser',
  tag: 'admin-users',
  permission: 'admin',
  summary: 'Create a local user (audited)',
  body: { schema: createUserBody },
  responses: { 201: { description: 'created', schema: UserViewSchema } },
  errors: [400, 409],
});

export const getUser = defineOperation({
  method: 'get',
  path: '/admin/users/{username}',
  id: 'getUser',
  tag: 'admin-users',
  permission: 'admin',
  summary: 'One user',
  params: usernameParams,
  responses: { 200: { description: 'the user', schema: UserViewSchema } },
  errors: [400, 404],
});

export const updateUser = defineOperation({
  method: 'put',
  path: '/admin/users/{username}',
  id: 'updateUser',
  tag: 'admin-users',
  permission: 'admin',
  summary: 'Change a user’s role, disabled flag or password (audited)',
  description: 'Taking rights away (disabled, a new role, a new password) ends the user’s sessions. 409 when it would leave no enabled admin.',
  params: usernameParams,
  body: { schema: updateUserBody },
  responses: { 200: { description: 'the user after the change', schema: UserViewSchema } },
  errors: [400, 404, 409],
});

export const deleteUser = defineOperation({
  method: 'delete',
  path: '/admin/users/{username}',
  id: 'deleteUser',
  tag: 'admin-users',
  permission: 'admin',
  summary: 'Delete a user and end their sessions (audited)',
  params: usernameParams,
  responses: { 204: { description: 'done (no body)' } },
  errors: [400, 404, 409],
});

export function adminUserRoutes(deps: HttpDeps, { route }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { users, userAdmin } = deps.accounts;

  route(app, listUsers, async (_c, { reply }) => reply(200, { users: await users.list() }));

  route(app, createUser, async (c, { body, reply }) => reply(201, await userAdmin.create(actorOf(c), body)));

  route(app, getUser, async (_c, { params, reply }) => reply(200, await users.get(params.username)));

  route(app, updateUser, async (c, { params, body, reply }) => reply(200, await userAdmin.update(actorOf(c), params.username, body)));

  route(app, deleteUser, async (c, { params, reply }) => {
    await userAdmin.remove(actorOf(c), params.username);
    return reply(204);
  });

  return app;
}
