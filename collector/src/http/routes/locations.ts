/** GET /locations (read): { locations: LocationView[] } with sensor counts per location. */
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import type { HttpDeps } from '../deps.js';
import type { RouteTools } from './tools.js';

export function locationRoutes(deps: HttpDeps, { permit }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/locations', permit('read'), async (c) => c.json({ locations: await deps.sensors.locations() }));
  return app;
}
