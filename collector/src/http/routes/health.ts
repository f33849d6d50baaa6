/**
 * GET /health (public): liveness and the collector clock, which agents use to measure their
 * clock offset. GET /health/summary (read): sensors by status, ingest counters, database and
 * broker state.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import type { HttpDeps } from '../deps.js';
import { defineOperation } from '../openapi/operation.js';
import { HealthSchema, HealthSummarySchema } from './health.schemas.js';
import type { RouteTools } from './tools.js';

export const getHealth = defineOperation({
  method: 'get',
  path: '/health',
  id: 'getHealth',
  tag: 'health',
  permission: 'public',
  summary: 'Liveness and the collector clock',
  description: 'Agents measure their clock offset against `time`.',
  responses: { 200: { description: 'the collector is up', schema: HealthSchema } },
});

export const getHealthSummary = defineOperation({
  method: 'get',
  path: '/health/summary',
  id: 'getHealthSummary',
  tag: 'health',
  permission: 'read',
  summary: 'Sensors by status, ingest counters, database and broker state',
  responses: { 200: { description: 'the summary', schema: HealthSummarySchema } },
});

const PING_TIMEOUT_MS = 2_000;

async function databaseState(db: HttpDeps['db']): Promise<{ kind: HttpDeps['db']['kind']; ok: boolean; latencyMs: number | null }> {
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('ping timed out')), PING_TIMEOUT_MS);
  });
  try {
    await Promise.race([db.ping(), timeout]);
    return { kind: db.kind, ok: true, latencyMs: Math.round((performance.now() - started) * 100) / 100 };
  } catch {
    return { kind: db.kind, ok: false, latencyMs: null };
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(deps: HttpDeps, { route, now }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  route(app, getHealth, (_c, { reply }) => reply(200, { status: 'ok', version: deps.version, time: now().toISOString() }));

  route(app, getHealthSummary, async (_c, { reply }) => {
    const [sensors, database] = await Promise.all([deps.sensors.statusCounts(), databaseState(deps.db)]);
    const { since, accepted, rejected, acceptedTotal, rejectedTotal } = deps.ingestStats.snapshot();
    return reply(200, {
      sensors,
      ingest: { since, accepted, rejected, acceptedTotal, rejectedTotal },
      database,
      broker: deps.broker.status(),
    });
  });

  return app;
}
