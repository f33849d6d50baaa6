/**
 * GET /asyncapi.json (public, like GET /openapi.json): the AsyncAPI 3.0 document of the MQTT
 * interface (asyncapi-document.ts), built once when the route module is mounted.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { defineOperation } from '../openapi/operation.js';
import type { RouteTools } from './tools.js';
import { asyncApiDocument } from './asyncapi-document.js';

export const getAsyncApi = defineOperation({
  method: 'get',
  path: '/asyncapi.json',
  id: 'getAsyncApi',
  tag: 'meta',
  permission: 'public',
  summary: 'The AsyncAPI 3.0 document of the MQTT interface (sensor, command and events topics)',
  responses: { 200: { description: 'the document', schema: z.looseObject({ asyncapi: z.string() }) } },
});

export function asyncApiRoutes(deps: Pick<HttpDeps, 'version'>, { route }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const doc = asyncApiDocument({ version: deps.version });
  route(app, getAsyncApi, (c) => c.json(doc));
  return app;
}
