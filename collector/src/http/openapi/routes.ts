/**
 * GET /openapi.json (public): the document of every operation the app mounted (document.ts),
 * built once when this module is mounted — last, after every other route module.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import type { RouteTools } from '../routes/tools.js';
import { openApiDocument } from './document.js';
import { defineOperation, type OperationSpec } from './operation.js';

export const getOpenApi = defineOperation({
  method: 'get',
  path: '/openapi.json',
  id: 'getOpenApi',
  tag: 'meta',
  permission: 'public',
  summary: 'This OpenAPI document',
  responses: { 200: { description: 'the document', schema: z.looseObject({ openapi: z.string() }) } },
});

/** `operations`: the app's list, filled by the route modules mounted before this one (this one adds itself). */
export function openApiRoutes(deps: HttpDeps, { route }: RouteTools, prefix: string, operations: readonly OperationSpec[]): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  route(app, getOpenApi, (c) => c.json(doc));
  const doc = openApiDocument(operations, { version: deps.version, prefix });
  return app;
}
