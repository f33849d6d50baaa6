/**
 * What every route module gets besides HttpDeps: the permission middleware, `route` (mounts an
 * operation declared with defineOperation, openapi/operation.ts) and the clock.
 */
import type { MiddlewareHandler } from 'hono';
import type { Permission } from '../auth.js';
import type { AppEnv } from '../env.js';
import type { RouteFn } from '../openapi/operation.js';

export interface RouteTools {
  permit: (level: Permission) => MiddlewareHandler<AppEnv>;
  /** Mounts an operation (permit first, inputs parsed with its schemas) and records it for GET /openapi.json. */
  route: RouteFn;
  now: () => Date;
}
