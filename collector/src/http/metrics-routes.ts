/**
 * Where Prometheus scrapes the collector's metrics (metrics.ts), never public by accident:
 *
 *   - `GET /api/v1/metrics` on the API's address: only with `Authorization: Bearer <metrics.token>`.
 *     Without metrics.token in the config it answers 401 to everyone (there is no token to give).
 *   - `GET /metrics` on `metrics.listen` (host:port), a listener of its own for a network only
 *     Prometheus reaches; when metrics.token is set too, that listener asks for it as well.
 *
 * The token is compared in constant time (SHA-256 of both sides) and never logged.
 *
 * @example
 *   app.route('/api/v1', metricsRoutes(metrics, { token }, tools));
 *   const server = await startMetricsServer(metrics, { listen: '127.0.0.1:9464', token, log });
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import { Hono, type Context } from 'hono';
import type { Logger } from 'pino';
import { ConfigError } from '../config.js';
import type { AppEnv } from './env.js';
import { errorResponse } from './errors.js';
import { createMetrics, type Metrics, type MetricsSources } from './metrics.js';
import type { Db } from '../storage/db.js';
import { jobStateCounts } from '../domain/jobs/job-counts.js';
import type { DomainEvents } from '../domain/events.js';
import { defineOperation } from './openapi/operation.js';
import type { RouteTools } from './routes/tools.js';

export const getMetrics = defineOperation({
  method: 'get',
  path: '/metrics',
  id: 'getMetrics',
  tag: 'meta',
  permission: 'public',
  summary: 'Prometheus metrics (text exposition format)',
  description:
    'Needs `Authorization: Bearer <metrics.token>` (the config key; not a user or API token): 401 without it, and always 401 when metrics.token is not set. ' +
    'metrics.listen serves the same text at `/metrics` on an address of its own. The metrics are listed in docs/operations.md "Metrics".',
  parameters: [{ name: 'Authorization', in: 'header', required: true, description: 'Bearer <metrics.token>', schema: { type: 'string' } }],
  responses: { 200: { description: 'the metrics', content: { 'text/plain; version=0.0.4': { schema: { type: 'string' } } } } },
  errors: [401],
});

const digest = (s: string) => createHash('sha256').update(s).digest();

/** True when the request carries `Authorization: Bearer <token>`; false for a missing or other token, or no token configured. */
export function metricsTokenMatches(header: string | undefined, token: string | undefined): boolean {
  if (token === undefined || header === undefined) return false;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match !== null && timingSafeEqual(digest(match[1] ?? ''), digest(token));
}

async function answer(c: Context<AppEnv>, metrics: Metrics): Promise<Response> {
  const text = await metrics.render();
  return c.body(text, 200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
}

/** GET /metrics under the API prefix, behind metrics.token. */
export function metricsRoutes(metrics: Metrics, opts: { token?: string | undefined }, { route }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  route(app, getMetrics, (c) => {
    if (!metricsTokenMatches(c.req.header('Authorization'), opts.token)) {
      const why = opts.token === undefined ? 'metrics.token is not set on this collector' : 'a missing or wrong metrics token';
      return errorResponse(c, 401, 'unauthenticated', `GET /metrics needs Authorization: Bearer <metrics.token> (${why})`);
    }
    return answer(c, metrics);
  });
  return app;
}

export interface MetricsServer {
  /** http://host:port/metrics */
  url: string;
  close(): Promise<void>;
}

/** Splits `host:port` (`[::1]:9464` for IPv6); throws a ConfigError naming metrics.listen. */
export function parseListen(listen: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
  const port = Number(match?.[3]);
  if (!match || port > 65535)
    throw new ConfigError([`metrics.listen: expected host:port (e.g. 127.0.0.1:9464), got ${JSON.stringify(listen)}`], 'metrics listener');
  return { host: match[1] ?? match[2] ?? '', port };
}

/** Serves `GET /metrics` alone on metrics.listen (the token too when set); a port that cannot be bound is a ConfigError. */
export async function startMetricsServer(metrics: Metrics, opts: { listen: string; token?: string | undefined; log: Logger }): Promise<MetricsServer> {
  const { host, port } = parseListen(opts.listen);
  const app = new Hono<AppEnv>();
  app.get('/metrics', (c) => {
    if (opts.token !== undefined && !metricsTokenMatches(c.req.header('Authorization'), opts.token)) {
      return c.json({ error: { code: 'unauthenticated', message: 'GET /metrics needs Authorization: Bearer <metrics.token>' } }, 401);
    }
    return answer(c, metrics);
  });
  app.notFound((c) => c.json({ error: { code: 'not_found', message: `only GET /metrics is served here, not ${c.req.path}` } }, 404));
  const server = createAdaptorServer({ fetch: app.fetch }) as Server;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) =>
      reject(new ConfigError([`metrics.listen: cannot listen on ${opts.listen} (${err.code ?? err.message})`], 'metrics listener')),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as AddressInfo;
  const shown = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  const url = `http://${shown === '0.0.0.0' || shown === '[::]' ? '127.0.0.1' : shown}:${bound.port}/metrics`;
  opts.log.info({ component: 'metrics', url }, 'metrics listening');
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The collector's metrics over its services, and the metrics.listen server when configured (collector/src/app.ts). */
export async function openCollectorMetrics(
  config: { metrics: { token?: string | undefined; listen?: string | undefined } },
  deps: Pick<MetricsSources, 'ingestStats' | 'sensors' | 'broker' | 'throttle'> & { db: Db; events: Pick<DomainEvents, 'on'>; log: Logger },
): Promise<{ metrics: Metrics; token: string | undefined; server: MetricsServer | null; close(): Promise<void> }> {
  const { db, events, log, ...sources } = deps;
  const metrics = createMetrics({
    ...sources,
    jobStates: () => jobStateCounts(db),
    pool: () => db.poolStats?.() ?? null,
    onTaskProgress: (listener) => events.on('task.progress', listener),
  });
  const { token, listen } = config.metrics;
  let server: MetricsServer | null = null;
  try {
    if (listen !== undefined) server = await startMetricsServer(metrics, { listen, token, log });
  } catch (err) {
    metrics.close();
    throw err;
  }
  return {
    metrics,
    token,
    server,
    close: async () => {
      metrics.close();
      await server?.close();
    },
  };
}
