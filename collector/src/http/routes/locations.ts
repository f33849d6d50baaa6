/** GET /locations (read): { locations: LocationView[] } with sensor counts per location. */
import { Hono } from 'hono';
import { z } from 'zod';
import type { AppEnv } from '../env.js';
import type { HttpDeps } from '../deps.js';
import { defineOperation } from '../openapi/operation.js';
import { LocationViewSchema } from './sensors.schemas.js';
import type { RouteTools } from './tools.js';

export const listLocations = defineOperation({
  method: 'get',
  path: '/locations',
  id: 'listLocations',
  tag: 'locations',
  permission: 'read',
  summary: 'Every location with its sensor counts',
  responses: { 200: { description: 'the locations', schema: z.strictObject({ locations: z.array(LocationViewSchema) }) } },
});

export function locationRoutes(deps: HttpDeps, { route }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  route(app, listLocations, async (_c, { reply }) => reply(200, { locations: await deps.sensors.locations() }));
  return app;
}
