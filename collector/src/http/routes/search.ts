/**
 * GET /search?q=&from=&to=&limit= (read): the search box over sensors, locations, subnets, jobs
 * and (admins) users; an IP address or CIDR also gets where it was seen and a ready job request
 * (domain/search/search.service.ts). q empty or over 256 characters, from after to, a window over
 * network.maxWindowDays → 400 naming the field.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { MAX_HITS, MAX_QUERY_LENGTH } from '../../domain/search/search.service.js';
import { principalActor } from '../actor.js';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { defineOperation } from '../openapi/operation.js';
import { instant, INSTANT } from '../params.js';
import { SearchViewSchema } from './search.schemas.js';
import type { RouteTools } from './tools.js';

export const searchQuery = z.object({
  q: z
    .string()
    .trim()
    .min(1, 'must not be empty')
    .max(MAX_QUERY_LENGTH, `at most ${MAX_QUERY_LENGTH} characters`)
    .describe('text (a name, part of one, a job id or filter), an IP address (10.1.2.7) or a CIDR (10.1.2.0/24)'),
  from: instant.optional().describe(`an address's sightings from (default: 7 days before to); ${INSTANT}`),
  to: instant.optional().describe(`… to (default: now); ${INSTANT}`),
  limit: z.coerce.number().int().min(1).max(MAX_HITS).default(10).describe(`hits per kind, 1–${MAX_HITS}`),
});

export const search = defineOperation({
  method: 'get',
  path: '/search',
  id: 'search',
  tag: 'search',
  permission: 'read',
  summary: 'One box over sensors, locations, subnets, jobs and (admins) users; an address or CIDR: where it was seen and a ready job',
  description:
    'Case-insensitive substring matches, at most `limit` per kind. For an IP address or CIDR, `address` holds the subnet and ' +
    'location of the map, the sensors whose traffic summaries carried it (when, how much), and `jobRequest`: a POST /jobs body ' +
    'capturing it on those sensors over that time, accepted as it is. The window is at most network.maxWindowDays.',
  query: searchQuery,
  responses: { 200: { description: 'hits by kind', schema: SearchViewSchema } },
  errors: [400],
});

export function searchRoutes(deps: HttpDeps, { route }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  route(app, search, async (c, { query, reply }) => {
    return reply(200, await deps.search.search(query, principalActor(c)));
  });
  return app;
}
