/**
 * GET /admin/maintenance (admin): the partition manager's operations, newest first.
 *
 *   ?from=&to=        time window of the operations' start (ISO 8601 with zone, or epoch ms)
 *   ?table=           exact table (health_samples, audit_log, network_traffic_l3, ...)
 *   ?outcome=         ok | failed
 *   ?limit=           1–500, default 100
 *   ?cursor=          the `next` of the previous page
 *
 * → { operations: MaintenanceOperationView[], next: string | null }
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { MAINTENANCE_OUTCOMES } from '../../domain/maintenance/maintenance.service.js';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { defineOperation } from '../openapi/operation.js';
import { instant, INSTANT, pageCursor } from '../params.js';
import { MaintenancePageSchema } from './admin-maintenance.schemas.js';
import type { RouteTools } from './tools.js';

export const maintenanceQuery = z.object({
  from: instant.optional().describe(`operations started at or after this; ${INSTANT}`),
  to: instant.optional().describe(`operations started before this; ${INSTANT}`),
  table: z
    .string()
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'a table name: a-z, 0-9, "_"')
    .optional()
    .describe('exact table name (a partitioned parent: health_samples, audit_log, network_traffic_l3, ...)'),
  outcome: z.enum(MAINTENANCE_OUTCOMES).optional().describe('ok or failed'),
  limit: z.coerce.number().int().min(1).max(500).default(100).describe('page size, 1–500'),
  cursor: pageCursor,
});

export const listMaintenance = defineOperation({
  method: 'get',
  path: '/admin/maintenance',
  id: 'listMaintenance',
  tag: 'admin-system',
  permission: 'admin',
  summary: 'Partition maintenance operations, newest first, a page at a time',
  description:
    'Each operation of the partition manager (create, drop, move-from-default, purge-default) with its table, partition, ' +
    'rows, bytes, outcome, error and duration. Runs happen at start and hourly under an advisory lock (docs/operations.md).',
  query: maintenanceQuery,
  responses: { 200: { description: 'a page', schema: MaintenancePageSchema } },
  errors: [400],
});

export function adminMaintenanceRoutes(deps: HttpDeps, { route }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  route(app, listMaintenance, async (_c, { query, reply }) => reply(200, await deps.maintenance.list(query)));
  return app;
}
