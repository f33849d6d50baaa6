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
import type { LiveFeedCounters } from './ws.js';
import type { RouteTools } from './tools.js';

export const logsQuery = z.object({
  level: z.enum(LOG_LEVEL_NAMES as [string, ...string[]]).optional(),
  component: z.string().regex(/^[a-z][a-z0-9-]{0,31}$/, 'a component name such as http, broker, ingest').optional(),
  limit: z.coerce.number().int().min(1).max(2_000).default(200),
});

export function adminSystemRoutes(deps: HttpDeps, { permit, now }: RouteTools, liveFeed: LiveFeedCounters): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const { system } = deps;

  app.get('/admin/system/status', permit('admin'), async (c) => {
    const uptimeSeconds = Math.max(0, Math.round((now().getTime() - system.startedAt.getTime()) / 1000));
    const ingest = deps.ingestStats.snapshot();
    return c.json({
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

  app.get('/admin/storage', permit('admin'), async (c) => {
    const { database, dataDir } = await system.service.storage();
    return c.json({ database: { kind: deps.db.kind, ...database }, dataDir });
  });

  app.get('/admin/logs', permit('admin'), (c) => c.json({ lines: system.logs.query(logsQuery.parse(c.req.query())) }));

  return app;
}
