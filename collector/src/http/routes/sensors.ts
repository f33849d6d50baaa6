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
import { z } from 'zod';
import { toSensorApiView } from '../../domain/sensors/sensor-views.js';
import type { AppEnv } from '../env.js';
import type { HttpDeps } from '../deps.js';
import { defineOperation } from '../openapi/operation.js';
import { activityQuery, sensorParams, seriesQuery, seriesWindow } from '../params.js';
import { ActivityEntrySchema, DeviceViewSchema, HealthSeriesSchema, SensorStatusViewSchema, SensorViewSchema } from './sensors.schemas.js';
import type { RouteTools } from './tools.js';

export const listSensors = defineOperation({
  method: 'get',
  path: '/sensors',
  id: 'listSensors',
  tag: 'sensors',
  permission: 'read',
  summary: 'Every sensor',
  responses: { 200: { description: 'the sensors', schema: z.strictObject({ sensors: z.array(SensorViewSchema) }) } },
});

export const listSensorActivity = defineOperation({
  method: 'get',
  path: '/sensors/activity',
  id: 'listSensorActivity',
  tag: 'sensors',
  permission: 'read',
  summary: 'Status changes across sensors, newest first',
  query: activityQuery,
  responses: { 200: { description: 'the entries', schema: z.strictObject({ entries: z.array(ActivityEntrySchema) }) } },
  errors: [400],
});

export const getSensor = defineOperation({
  method: 'get',
  path: '/sensors/{name}',
  id: 'getSensor',
  tag: 'sensors',
  permission: 'read',
  summary: 'One sensor',
  params: sensorParams,
  responses: { 200: { description: 'the sensor', schema: SensorViewSchema } },
  errors: [400, 404],
});

export const getSensorStatus = defineOperation({
  method: 'get',
  path: '/sensors/{name}/status',
  id: 'getSensorStatus',
  tag: 'sensors',
  permission: 'read',
  summary: 'A sensor’s status, why and since when',
  params: sensorParams,
  responses: { 200: { description: 'the status', schema: SensorStatusViewSchema } },
  errors: [400, 404],
});

export const listSensorDevices = defineOperation({
  method: 'get',
  path: '/sensors/{name}/devices',
  id: 'listSensorDevices',
  tag: 'sensors',
  permission: 'read',
  summary: 'A sensor’s capture interfaces and watched directories',
  params: sensorParams,
  responses: { 200: { description: 'the devices', schema: z.strictObject({ devices: z.array(DeviceViewSchema) }) } },
  errors: [400, 404],
});

export const getSensorHealth = defineOperation({
  method: 'get',
  path: '/sensors/{name}/health',
  id: 'getSensorHealth',
  tag: 'sensors',
  permission: 'read',
  summary: 'A sensor’s health time series',
  description: 'Defaults to the last hour; downsampled to at most `maxPoints` points.',
  params: sensorParams,
  query: seriesQuery,
  responses: { 200: { description: 'the series', schema: HealthSeriesSchema } },
  errors: [400, 404],
});

export function sensorRoutes(deps: HttpDeps, { route, now }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { sensors } = deps;

  route(app, listSensors, async (_c, { reply }) => reply(200, { sensors: (await sensors.list()).map(toSensorApiView) }));

  // Mounted before /sensors/:name so that "activity" is not taken for a sensor name.
  route(app, listSensorActivity, async (_c, { query: { since, limit }, reply }) =>
    reply(200, { entries: await sensors.activity(since ? { since, limit } : { limit }) }),
  );

  route(app, getSensor, async (_c, { params, reply }) => reply(200, toSensorApiView(await sensors.get(params.name))));

  route(app, getSensorStatus, async (_c, { params, reply }) => reply(200, await sensors.status(params.name)));

  route(app, listSensorDevices, async (_c, { params, reply }) => reply(200, { devices: await sensors.devices(params.name) }));

  route(app, getSensorHealth, async (_c, { params: { name }, query, reply }) => {
    const { from, to, maxPoints } = seriesWindow(query, now());
    const points = await sensors.healthSeries(name, from, to, maxPoints);
    return reply(200, { sensor: name, from: from.toISOString(), to: to.toISOString(), points });
  });

  return app;
}
