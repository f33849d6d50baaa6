/**
 * Sensor read views (all 'read'):
 *
 *   GET /sensors                          { sensors: SensorView[] }
 *   GET /sensors/activity?since=&limit=   { entries: ActivityEntry[] }   status history across sensors
 *   GET /sensors/:name                    SensorView
 *   GET /sensors/:name/status             SensorStatusView
 *   GET /sensors/:name/devices            { devices: DeviceView[] }
 *   GET /sensors/:name/health?from=&to=&maxPoints=   { from, to, points: HealthPoint[] }
 *
 * Bad parameters → 400 invalid; an unknown sensor → 404 not_found (from the service).
 */
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import type { HttpDeps } from '../deps.js';
import { activityQuery, sensorParams, seriesQuery } from '../params.js';
import type { RouteTools } from './tools.js';

export function sensorRoutes(deps: HttpDeps, { permit, now }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { sensors } = deps;
  const series = seriesQuery(now);

  app.get('/sensors', permit('read'), async (c) => c.json({ sensors: await sensors.list() }));

  // Registered before /sensors/:name so that "activity" is not taken for a sensor name.
  app.get('/sensors/activity', permit('read'), async (c) => {
    const { since, limit } = activityQuery.parse(c.req.query());
    return c.json({ entries: await sensors.activity(since ? { since, limit } : { limit }) });
  });

  app.get('/sensors/:name', permit('read'), async (c) => {
    const { name } = sensorParams.parse(c.req.param());
    return c.json(await sensors.get(name));
  });

  app.get('/sensors/:name/status', permit('read'), async (c) => {
    const { name } = sensorParams.parse(c.req.param());
    return c.json(await sensors.status(name));
  });

  app.get('/sensors/:name/devices', permit('read'), async (c) => {
    const { name } = sensorParams.parse(c.req.param());
    return c.json({ devices: await sensors.devices(name) });
  });

  app.get('/sensors/:name/health', permit('read'), async (c) => {
    const { name } = sensorParams.parse(c.req.param());
    const { from, to, maxPoints } = series.parse(c.req.query());
    const points = await sensors.healthSeries(name, from, to, maxPoints);
    return c.json({ sensor: name, from: from.toISOString(), to: to.toISOString(), points });
  });

  return app;
}
