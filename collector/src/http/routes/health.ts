/**
 * GET /health (public): liveness and the collector clock, which agents use to measure their
 * clock offset. GET /health/summary (read): sensors by status, ingest counters, database and
 * broker state.
 */
import { Hono } from 'hono';
import type { AppEnv } from '../env.js';
import type { HttpDeps } from '../deps.js';
import type { RouteTools } from './tools.js';

const PING_TIMEOUT_MS = 2_000;

async function databaseState(db: HttpDeps['db']): Promise<{ kind: string; ok: boolean; latencyMs: number | null }> {
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

export function healthRoutes(deps: HttpDeps, { permit, now }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  app.get('/health', permit('public'), (c) => c.json({ status: 'ok', version: deps.version, time: now().toISOString() }));

  app.get('/health/summary', permit('read'), async (c) => {
    const [sensors, database] = await Promise.all([deps.sensors.statusCounts(), databaseState(deps.db)]);
    const { since, accepted, rejected, acceptedTotal, rejectedTotal } = deps.ingestStats.snapshot();
    return c.json({
      sensors,
      ingest: { since, accepted, rejected, acceptedTotal, rejectedTotal },
      database,
      broker: deps.broker.status(),
    });
  });

  return app;
}
