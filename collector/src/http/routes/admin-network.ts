/**
 * Admins' changes to the network map and locations (domain/network/network.service.ts), audited:
 *
 *   PUT    /admin/subnets/{cidr}     { location }  pin a subnet to a location (a pin wins over learning) → NetworkSubnet
 *   DELETE /admin/subnets/{cidr}                   remove the pin (learning applies again) → 204; 404 without a pin
 *   PUT    /admin/locations/{name}   { latitude?, longitude?, description? }  (null clears a field; a new
 *                                    name creates the location) → LocationView
 *
 * `{cidr}` is URL-encoded (10.1.2.0%2F24); a malformed CIDR, a prefix out of range or host bits set
 * → 400 naming `cidr`; latitude outside −90..90 or longitude outside −180..180 → 400 naming it.
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { actorOf } from '../actor.js';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { defineOperation } from '../openapi/operation.js';
import { cidrParam, SubnetViewSchema } from './network.schemas.js';
import { LocationViewSchema } from './sensors.schemas.js';
import type { RouteTools } from './tools.js';

const subnetParams = z.object({
  cidr: cidrParam.describe('the subnet, URL-encoded: 10.1.2.0%2F24, 2001:db8::%2F64 (host bits clear)'),
});
const locationParams = z.object({ name: z.string().min(1).max(256).describe('location name (1–256 characters)') });

export const pinBody = z.strictObject({ location: z.string().min(1).max(256).describe('an existing location') }).meta({ id: 'SubnetPin' });

export const locationBody = z
  .strictObject({
    latitude: z.number().min(-90).max(90).nullable().optional().describe('degrees, −90..90; null clears it'),
    longitude: z.number().min(-180).max(180).nullable().optional().describe('degrees, −180..180; null clears it'),
    description: z.string().max(1000).nullable().optional().describe('null clears it'),
  })
  .meta({ id: 'LocationUpdate' });

export const pinSubnet = defineOperation({
  method: 'put',
  path: '/admin/subnets/{cidr}',
  id: 'pinSubnet',
  tag: 'admin-network',
  permission: 'admin',
  summary: 'Pin a subnet to a location; a pin wins over learning (audited)',
  params: subnetParams,
  body: { schema: pinBody },
  responses: { 200: { description: 'the subnet as mapped now', schema: SubnetViewSchema } },
  errors: [400, 404],
});

export const unpinSubnet = defineOperation({
  method: 'delete',
  path: '/admin/subnets/{cidr}',
  id: 'unpinSubnet',
  tag: 'admin-network',
  permission: 'admin',
  summary: 'Remove a subnet’s pin: learning decides again (audited)',
  params: subnetParams,
  responses: { 204: { description: 'unpinned (no body)' } },
  errors: [400, 404],
});

export const updateLocation = defineOperation({
  method: 'put',
  path: '/admin/locations/{name}',
  id: 'updateLocation',
  tag: 'admin-network',
  permission: 'admin',
  summary: 'Set a location’s coordinates and description, creating it when new (audited)',
  params: locationParams,
  body: { schema: locationBody },
  responses: { 200: { description: 'the location', schema: LocationViewSchema } },
  errors: [400],
});

export function adminNetworkRoutes(deps: HttpDeps, { route }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const network = deps.network;
  route(app, pinSubnet, async (c, { params, body, reply }) => reply(200, await network.pin(params.cidr, body.location, actorOf(c))));
  route(app, unpinSubnet, async (c, { params, reply }) => {
    await network.unpin(params.cidr, actorOf(c));
    return reply(204);
  });
  route(app, updateLocation, async (c, { params, body, reply }) => {
    await network.updateLocation(params.name, body, actorOf(c));
    const location = (await deps.sensors.locations()).find((l) => l.name === params.name)!;
    return reply(200, location);
  });
  return app;
}
