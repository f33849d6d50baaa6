/**
 * Analytics (domain/analytics/analytics.service.ts), all read:
 *
 *   GET /analytics/sensors?from&to                     retention days, coverage %, drop rates, uptime % per sensor
 *   GET /analytics/jobs?from&to                        jobs per day, bytes retrieved, median time to result
 *   GET /analytics/traffic?from&to&location&bucket&top bytes by location over time, top subnet pairs
 *
 * from after to, a window over analytics.maxWindowDays, a bad bucket → 400 naming the field; an
 * unknown location → 404.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { defineOperation } from '../openapi/operation.js';
import { instant, INSTANT } from '../params.js';
import { JobsAnalyticsSchema, SensorsAnalyticsSchema, TrafficAnalyticsSchema } from './analytics.schemas.js';
import type { RouteTools } from './tools.js';

const windowQuery = (defaultSpan: string) => ({
  from: instant.optional().describe(`start (default: ${defaultSpan} before to); ${INSTANT}`),
  to: instant.optional().describe(`end, exclusive (default: now); ${INSTANT}`),
});

export const getSensorAnalytics = defineOperation({
  method: 'get',
  path: '/analytics/sensors',
  id: 'getSensorAnalytics',
  tag: 'analytics',
  permission: 'read',
  summary: 'Per sensor: PCAP retention in days, coverage %, drop rates, uptime % over a window',
  description: 'Default window: the last 24 hours; at most analytics.maxWindowDays.',
  query: z.object(windowQuery('24 hours')),
  responses: { 200: { description: 'one entry per sensor, by name', schema: SensorsAnalyticsSchema } },
  errors: [400],
});

export const getJobAnalytics = defineOperation({
  method: 'get',
  path: '/analytics/jobs',
  id: 'getJobAnalytics',
  tag: 'analytics',
  permission: 'read',
  summary: 'Jobs per day by outcome, bytes retrieved, median time to result',
  description: 'Default window: the last 30 days; at most analytics.maxWindowDays.',
  query: z.object(windowQuery('30 days')),
  responses: { 200: { description: 'per day and totals', schema: JobsAnalyticsSchema } },
  errors: [400],
});

export const getTrafficAnalytics = defineOperation({
  method: 'get',
  path: '/analytics/traffic',
  id: 'getTrafficAnalytics',
  tag: 'analytics',
  permission: 'read',
  summary: 'Bytes by location over time and the top subnet pairs',
  description: "From the network view's per-location traffic. Default window: the last 24 hours; at most analytics.maxWindowDays.",
  query: z.object({
    ...windowQuery('24 hours'),
    location: z.string().min(1).max(256).optional().describe('only this location'),
    bucket: z.coerce
      .number()
      .int()
      .min(60)
      .max(86_400)
      .refine((n) => n % 60 === 0, 'must be a whole number of minutes (a multiple of 60)')
      .optional()
      .describe('seconds per point (60–86400, whole minutes); default: the smallest of 1 min, 5 min, 15 min, 1 h, 6 h, 1 day giving ≤ 1440 points'),
    top: z.coerce.number().int().min(1).max(500).default(20).describe('how many top subnet pairs'),
  }),
  responses: { 200: { description: 'series by location and top pairs', schema: TrafficAnalyticsSchema } },
  errors: [400, 404],
});

export function analyticsRoutes(deps: HttpDeps, { route }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  route(app, getSensorAnalytics, async (_c, { query, reply }) => reply(200, await deps.analytics.sensors(query)));
  route(app, getJobAnalytics, async (_c, { query, reply }) => reply(200, await deps.analytics.jobs(query)));
  route(app, getTrafficAnalytics, async (_c, { query, reply }) =>
    reply(200, await deps.analytics.traffic({ from: query.from, to: query.to, location: query.location, bucketSeconds: query.bucket, top: query.top })),
  );
  return app;
}
