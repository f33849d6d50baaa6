/** What every route module gets besides HttpDeps: the permission middleware and the clock. */
import type { MiddlewareHandler } from 'hono';
import type { Permission } from '../auth.js';
import type { AppEnv } from '../env.js';

export interface RouteTools {
  permit: (level: Permission) => MiddlewareHandler<AppEnv>;
  now: () => Date;
}
