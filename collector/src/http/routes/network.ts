/**
 * The network view (domain/network/network.service.ts):
 *
 *   GET  /network/traffic?from&to&location&subnet&bucket&top   (read)  time series and top subnet pairs
 *   GET  /network/subnets?location&state                        (read)  the subnet → location map
 *   GET  /network/locations?from&to                             (read)  locations with coordinates, sensors,
 *                                                                       totals and inter-location flows
 *   POST /network/locations/clear-cache                          (admin) empties the location cache (audited)
 *
 * Bad input → 400 naming the field (malformed CIDR or prefix, from after to, a window over
 * network.maxWindowDays, a bucket giving too many points); an unknown location → 404.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { actorOf } from '../actor.js';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { defineOperation } from '../openapi/operation.js';
import { int } from '../openapi/kit.js';
import { instant } from '../params.js';
import { cidrParam, NetworkLocationsViewSchema, SubnetViewSchema, TrafficViewSchema } from './network.schemas.js';
import type { RouteTools } from './tools.js';

const INSTANT = 'ISO 8601 with a zone (2026-01-02T03:04:05Z) or epoch milliseconds';
const locationName = z.string().min(1).max(256);

export const trafficQuery = z.object({
  from: instant.optional().describe(`start (default: an hour before to); ${INSTANT}`),
  to: instant.optional().describe(`end, exclusive (default: now); ${INSTANT}`),
  location: locationName.optional().describe('only what this location’s sensors reported'),
  subnet: cidrParam.optional().describe('only flows with a subnet overlapping this CIDR at either end (10.1.0.0/16, or an address: 10.1.2.3)'),
  bucket: z.coerce
    .number()
    .int()
    .min(60)
    .max(86_400)
    .refine((n) => n % 60 === 0, 'must be a whole number of minutes (a multiple of 60)')
    .optional()
    .describe('seconds per point (60–86400, whole minutes); default: the smallest of 1 min, 5 min, 15 min, 1 h, 6 h, 1 day giving ≤ 1440 points'),
  top: z.coerce.number().int().min(1).max(500).default(20).describe('how many top subnet pairs'),
});

export const getNetworkTraffic = defineOperation({
  method: 'get',
  path: '/network/traffic',
  id: 'getNetworkTraffic',
  tag: 'network',
  permission: 'read',
  summary: 'Traffic by subnet pair: a time series and the top pairs',
  description:
    'Sums of what the sensors reported per minute; a flow that sensors at two locations saw counts at each (filter by location for one side). At most network.maxWindowDays.',
  query: trafficQuery,
  responses: { 200: { description: 'series, totals and top pairs', schema: TrafficViewSchema } },
  errors: [400, 404],
});

export const listNetworkSubnets = defineOperation({
  method: 'get',
  path: '/network/subnets',
  id: 'listNetworkSubnets',
  tag: 'network',
  permission: 'read',
  summary: 'The subnet → location map: subnets seen within network.learnWindowDays, and pinned ones',
  query: z.object({
    location: locationName.optional().describe('only subnets whose effective location this is'),
    state: z.enum(['learned', 'external', 'ambiguous', 'pinned', 'unseen']).optional(),
  }),
  responses: { 200: { description: 'the map, by subnet', schema: z.strictObject({ subnets: z.array(SubnetViewSchema) }) } },
  errors: [400],
});

export const getNetworkLocations = defineOperation({
  method: 'get',
  path: '/network/locations',
  id: 'getNetworkLocations',
  tag: 'network',
  permission: 'read',
  summary: 'Locations with coordinates, sensors and traffic totals, and the flows between them (for the globe)',
  description: 'Without from/to: the last 24 hours, from the location cache (network.cacheSeconds).',
  query: z.object({
    from: instant.optional().describe(`start (default: a day before to); ${INSTANT}`),
    to: instant.optional().describe(`end, exclusive (default: now); ${INSTANT}`),
  }),
  responses: { 200: { description: 'locations and flows', schema: NetworkLocationsViewSchema } },
  errors: [400],
});

export const clearNetworkCache = defineOperation({
  method: 'post',
  path: '/network/locations/clear-cache',
  id: 'clearNetworkCache',
  tag: 'network',
  permission: 'admin',
  summary: 'Empty the location cache (subnet map, per-location totals); the next reads refill it (audited)',
  responses: { 200: { description: 'how many entries were dropped', schema: z.strictObject({ cleared: int }) } },
});

export function networkRoutes(deps: HttpDeps, { route }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const network = deps.network;
  route(app, getNetworkTraffic, async (_c, { query, reply }) =>
    reply(
      200,
      await network.traffic({ from: query.from, to: query.to, location: query.location, subnet: query.subnet, bucketSeconds: query.bucket, top: query.top }),
    ),
  );
  route(app, listNetworkSubnets, async (_c, { query, reply }) => reply(200, { subnets: await network.subnets(query) }));
  route(app, getNetworkLocations, async (_c, { query, reply }) => reply(200, await network.locations(query)));
  route(app, clearNetworkCache, async (c, { reply }) => reply(200, { cleared: await network.clearCache(actorOf(c)) }));
  return app;
}
