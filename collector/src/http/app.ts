/**
 * The collector's HTTP API: a Hono app under `/api/v1`.
 *
 * Every request gets a request id (X-Request-Id, carried by every log line of the request), secure
 * headers and a body limit; every route declares its permission (auth.ts); every error leaves
 * through the one mapper (errors.ts). The app listens nowhere by itself: tests call
 * `app.request()`, server.ts serves it (with the WebSocket upgrade).
 *
 * @example
 *   const { app } = createHttpApp({ log, version, sensors, ingestStats, db, broker, tokens, live });
 *   const res = await app.request('/api/v1/health');
 */
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { requestId } from 'hono/request-id';
import { createPermit } from './auth.js';
import { securityHeaders } from './security-headers.js';
import type { HttpDeps } from './deps.js';
import type { AppEnv } from './env.js';
import { errorResponse, notFound, onError } from './errors.js';
import { healthRoutes } from './routes/health.js';
import { locationRoutes } from './routes/locations.js';
import { sensorRoutes } from './routes/sensors.js';
import { sessionRoutes } from './routes/session.js';
import { adminAuditRoutes } from './routes/admin-audit.js';
import { adminSystemRoutes } from './routes/admin-system.js';
import { adminUserRoutes } from './routes/admin-users.js';
import { adminSensorRoutes } from './routes/admin-sensors.js';
import { adminApiTokenRoutes } from './routes/admin-api-tokens.js';
import { preferencesRoutes } from './routes/preferences.js';
import { isUploadChunk, taskUploadRoutes } from './routes/task-upload.js';
import { jobRoutes } from './routes/jobs.js';
import { jobPacketRoutes } from './routes/job-packets.js';
import { networkRoutes } from './routes/network.js';
import { adminNetworkRoutes } from './routes/admin-network.js';
import { adminMaintenanceRoutes } from './routes/admin-maintenance.js';
import { searchRoutes } from './routes/search.js';
import { analyticsRoutes } from './routes/analytics.js';
import { openApiRoutes } from './openapi/routes.js';
import { metricsRoutes } from './metrics-routes.js';
import { asyncApiRoutes } from './routes/asyncapi.js';
import { createRoute, type OperationSpec } from './openapi/operation.js';
import { defaultWebRoot, serveWeb } from './static.js';
import type { RouteTools } from './routes/tools.js';
import { wsRoutes, type LiveFeedCounters } from './routes/ws.js';

export const API_PREFIX = '/api/v1';
const DEFAULT_BODY_LIMIT = 1024 * 1024;

export interface HttpApp {
  app: Hono<AppEnv>;
  counters: { requests: number; errors: number; liveFeed: LiveFeedCounters };
  /** Every operation the route modules mounted with `route()`, in mounting order (GET /openapi.json documents them). */
  operations: readonly OperationSpec[];
}

export function createHttpApp(deps: HttpDeps): HttpApp {
  const counters: HttpApp['counters'] = { requests: 0, errors: 0, liveFeed: { clients: 0, sent: 0, droppedSlowClients: 0 } };
  const permit = createPermit(deps.tokens, deps.uploads?.tokens);
  const operations: OperationSpec[] = [];
  const tools: RouteTools = {
    permit,
    route: createRoute(permit, operations, { checkResponses: deps.checkResponses ?? false }),
    now: deps.now ?? (() => new Date()),
  };
  const log = deps.log.child({ component: 'http' });
  const app = new Hono<AppEnv>();

  app.use(requestId());
  if (deps.metrics) app.use(deps.metrics.metrics.httpMiddleware);
  app.use(async (c, next) => {
    c.set('log', log.child({ requestId: c.var.requestId }));
    const started = performance.now();
    await next();
    counters.requests += 1;
    if (c.res.status >= 500) counters.errors += 1;
    // The path only: a query string may carry a live-feed token.
    c.var.log.info({ method: c.req.method, path: c.req.path, status: c.res.status, ms: Math.round(performance.now() - started) }, 'request');
  });
  app.use(securityHeaders(deps.accounts.trustedProxies ?? []));
  const limitBody = bodyLimit({
    maxSize: deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT,
    onError: (c) => errorResponse(c, 413, 'too_large', `request body larger than ${deps.bodyLimitBytes ?? DEFAULT_BODY_LIMIT} bytes`),
  });
  // An upload chunk is streamed to disk under its own limit (jobs.uploadChunkMaxBytes, routes/task-upload.ts).
  app.use((c, next) => (isUploadChunk(c.req.method, c.req.path) ? next() : limitBody(c, next)));

  for (const routes of [
    healthRoutes,
    sensorRoutes,
    locationRoutes,
    sessionRoutes,
    preferencesRoutes,
    adminUserRoutes,
    adminAuditRoutes,
    adminSensorRoutes,
    adminApiTokenRoutes,
    adminMaintenanceRoutes,
    jobRoutes,
    jobPacketRoutes,
    networkRoutes,
    adminNetworkRoutes,
    searchRoutes,
    analyticsRoutes,
  ])
    app.route(API_PREFIX, routes(deps, tools));
  app.route(API_PREFIX, taskUploadRoutes(deps, tools));
  app.route(API_PREFIX, wsRoutes(deps, tools, counters.liveFeed));
  app.route(API_PREFIX, adminSystemRoutes(deps, tools, counters.liveFeed));
  if (deps.metrics) app.route(API_PREFIX, metricsRoutes(deps.metrics.metrics, { token: deps.metrics.token }, tools));
  app.route(API_PREFIX, asyncApiRoutes(deps, tools));
  app.route(API_PREFIX, openApiRoutes(deps, tools, API_PREFIX, operations)); // GET /api/v1/openapi.json, last: it documents the routes above
  app.use(serveWeb({ root: deps.webRoot ?? defaultWebRoot() })); // the dashboard at `/` (after the API; never /api)

  app.onError(onError);
  app.notFound(notFound);
  return { app, counters, operations };
}
