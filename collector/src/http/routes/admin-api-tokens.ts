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
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { defineOperation } from '../openapi/operation.js';
import { ApiTokenCreatedSchema, ApiTokenViewSchema } from './admin.schemas.js';
import type { RouteTools } from './tools.js';

export const tokenName = z.string().regex(/^[a-z0-9][a-z0-9_.-]{0,62}$/, 'a-z, 0-9, ".", "_", "-"; 1-63 characters');
export const createApiTokenBody = z.strictObject({ name: tokenName, role: z.enum(ROLES) }).meta({ id: 'ApiTokenCreate' });

export const listApiTokens = defineOperation({
  method: 'get',
  path: '/admin/api-tokens',
  id: 'listApiTokens',
  tag: 'admin-api-tokens',
  permission: 'admin',
  summary: 'Every API token (names and roles; never the tokens)',
  responses: { 200: { description: 'the tokens', schema: z.strictObject({ tokens: z.array(ApiTokenViewSchema) }) } },
});

export const createApiToken = defineOperation({
  method: 'post',
  path: '/admin/api-tokens',
  id: 'createApiToken',
  tag: 'admin-api-tokens',
  permission: 'admin',
  summary: 'Create a role-scoped API token (shown once; audited)',
  body: { schema: createApiTokenBody },
  responses: { 201: { description: 'created', schema: ApiTokenCreatedSchema } },
  errors: [400, 409],
});

export const deleteApiToken = defineOperation({
  method: 'delete',
  path: '/admin/api-tokens/{name}',
  id: 'deleteApiToken',
  tag: 'admin-api-tokens',
  permission: 'admin',
  summary: 'Delete an API token (audited)',
  description: 'A process that verified the token just before may accept it for up to a minute more.',
  params: z.object({ name: tokenName }),
  responses: { 204: { description: 'done (no body)' } },
  errors: [400, 404],
});

export function adminApiTokenRoutes(deps: HttpDeps, { route }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { apiTokens } = deps.accounts;

  route(app, listApiTokens, async (_c, { reply }) => reply(200, { tokens: await apiTokens.list() }));

  route(app, createApiToken, async (c, { body: { name, role }, reply }) => reply(201, await apiTokens.create(actorOf(c), name, role)));

  route(app, deleteApiToken, async (c, { params: { name }, reply }) => {
    await apiTokens.remove(actorOf(c), name);
    return reply(204);
  });

  return app;
}
