/**
 * System views for admins (all 'admin'):
 *
 *   GET /admin/system/status   { uptimeSeconds, startedAt, versions: { collector, node }, database: { kind, bytes },
 *                                broker: { mode, clients, ok }, messages: { accepted, rejected, perSecond },
 *                                queues: { liveFeedClients, liveFeedSent }, audit: { recorded, failed } }
 *   GET /admin/storage         { database: { kind, bytes, tables: TableSize[] }, dataDir: { path, totalBytes, freeBytes } | null }
 *   GET /admin/logs?level=&component=&limit=   { lines: object[] } recent structured log lines (oldest first)
 */
import { Hono } from 'hono';
import { z } from 'zod';
import { LOG_LEVEL_NAMES } from '../../log-ring.js';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { defineOperation } from '../openapi/operation.js';
import { LogLinesSchema, StorageSchema, SystemStatusSchema } from './admin.schemas.js';
import type { LiveFeedCounters } from './ws.js';
import type { RouteTools } from './tools.js';

export const logsQuery = z.object({
  level: z
    .enum(LOG_LEVEL_NAMES as [string, ...string[]])
    .optional()
    .describe(`minimum level (${LOG_LEVEL_NAMES.join(', ')})`),
  component: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,31}$/, 'a component name such as http, broker, ingest')
    .optional()
    .describe('lines of this component only (http, broker, ingest, ...)'),
  limit: z.coerce.number().int().min(1).max(2_000).default(200).describe('the newest this many matching lines'),
});

export const getSystemStatus = defineOperation({
  method: 'get',
  path: '/admin/system/status',
  id: 'getSystemStatus',
  tag: 'admin-system',
  permission: 'admin',
  summary: 'Uptime, versions, database, broker, message rates, live-feed and audit counters',
  responses: { 200: { description: 'the status', schema: SystemStatusSchema } },
});

export const getStorage = defineOperation({
  method: 'get',
  path: '/admin/storage',
  id: 'getStorage',
  tag: 'admin-system',
  permission: 'admin',
  summary: 'Database and table sizes, and the data directory’s disk',
  responses: { 200: { description: 'the sizes', schema: StorageSchema } },
});

export const listLogs = defineOperation({
  method: 'get',
  path: '/admin/logs',
  id: 'listLogs',
  tag: 'admin-system',
  permission: 'admin',
  summary: 'Recent structured log lines of this process, oldest first',
  query: logsQuery,
  responses: { 200: { description: 'the lines', schema: LogLinesSchema } },
  errors: [400],
});

export function adminSystemRoutes(deps: HttpDeps, { route, now }: RouteTools, liveFeed: LiveFeedCounters): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { system } = deps;

  route(app, getSystemStatus, async (_c, { reply }) => {
    const uptimeSeconds = Math.max(0, Math.round((now().getTime() - system.startedAt.getTime()) / 1000));
    const ingest = deps.ingestStats.snapshot();
    return reply(200, {
      uptimeSeconds,
      startedAt: system.startedAt.toISOString(),
      versions: { collector: deps.version, node: process.versions.node },
      database: { kind: deps.db.kind, bytes: await system.service.databaseBytes() },
      broker: deps.broker.status(),
      messages: {
        accepted: ingest.acceptedTotal,
        rejected: ingest.rejectedTotal,
        perSecond: uptimeSeconds > 0 ? Math.round(((ingest.acceptedTotal + ingest.rejectedTotal) / uptimeSeconds) * 100) / 100 : 0,
      },
      queues: { liveFeedClients: liveFeed.clients, liveFeedSent: liveFeed.sent },
      audit: { ...deps.accounts.audit.counters },
      logins: { overBudget: deps.accounts.throttle.overBudget, ...deps.accounts.throttle.counters },
    });
  });

  route(app, getStorage, async (_c, { reply }) => {
    const { database, dataDir } = await system.service.storage();
    return reply(200, { database: { kind: deps.db.kind, ...database }, dataDir });
  });

  route(app, listLogs, (_c, { query, reply }) => reply(200, { lines: system.logs.query(query) }));

  return app;
}
