/**
 * Route permissions. Every route declares what it needs with `permit(level)` as its first handler:
 *
 *   'public'    anyone (GET /api/v1/health, POST /login)
 *   'read'      any authenticated caller (viewer, analyst, admin)
 *   'analyst'   analyst or admin (submit and cancel jobs)
 *   'download'  analyst or admin (packet downloads; never a viewer)
 *   'admin'     admin only
 *   'task'      an agent's task upload token for the task the path's `{task}` names, nothing else
 *               (routes/task-upload.ts); its claims go to `c.var.task`
 *
 * Callers authenticate with a bearer credential: a user's access JWT or an integrator's API token,
 * each carrying a role (domain/accounts/roles.ts decides what a role reaches). No credential or a bad one
 * → 401; a valid one whose role falls short → 403. `routesWithoutPermission(app)` lets a test
 * walk every registered route and fail on one that forgot its declaration.
 *
 * Browsers cannot set headers on a WebSocket, so an upgrade request may instead carry the token as
 * `?token=…` or as a `bearer.<token>` entry of Sec-WebSocket-Protocol (with `pcapmesh.v1` beside it,
 * which the server selects). Plain requests accept only the Authorization header: tokens in URLs end
 * up in proxy logs.
 */
import type { Hono, MiddlewareHandler } from 'hono';
import { roleAllows, type Permission } from '../domain/accounts/roles.js';
import { isDomainError } from '../domain/errors.js';
import type { TaskTokenClaims } from '../domain/jobs/task-tokens.js';
import type { AppEnv, Principal } from './env.js';
import { errorResponse } from './errors.js';

export type { Permission };

/** Resolves a presented token to a principal, or null when it is not valid. Never throws for bad tokens. */
export interface TokenVerifier {
  verify(token: string): Promise<Principal | null>;
}

/** Verifies a task upload token for one task (domain/jobs/task-tokens.ts); throws DomainError 401/403. */
export interface TaskTokenVerifier {
  verify(token: string, taskId: string): Promise<TaskTokenClaims>;
}

/** The WebSocket sub-protocol the live feed speaks; the server selects it. */
export const WS_PROTOCOL = 'pcapmesh.v1';
const WS_BEARER_PREFIX = 'bearer.';

const PERMISSION = Symbol('pcapmesh.permission');
type Tagged = MiddlewareHandler<AppEnv> & { [PERMISSION]?: Permission };

/** The token a request presents, or null. */
export function presentedToken(req: Request): string | null {
  const header = req.headers.get('authorization');
  if (header !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    return match?.[1] ?? null;
  }
  if (req.headers.get('upgrade')?.toLowerCase() !== 'websocket') return null;
  const fromQuery = new URL(req.url).searchParams.get('token');
  if (fromQuery) return fromQuery;
  const protocols = (req.headers.get('sec-websocket-protocol') ?? '').split(',').map((p) => p.trim());
  const bearer = protocols.find((p) => p.startsWith(WS_BEARER_PREFIX));
  return bearer ? bearer.slice(WS_BEARER_PREFIX.length) : null;
}

/**
 * Builds the `permit(level)` middleware factory over a token verifier, and for 'task' routes the
 * task token verifier (without one, every request to a 'task' route gets 401).
 */
export function createPermit(verifier: TokenVerifier, taskTokens?: TaskTokenVerifier): (level: Permission) => MiddlewareHandler<AppEnv> {
  return (level) => {
    const handler: Tagged = async (c, next) => {
      if (level === 'task') {
        const token = c.req.header('authorization')?.match(/^Bearer\s+(\S+)\s*$/i)?.[1] ?? null;
        if (token === null || taskTokens === undefined) {
          c.header('WWW-Authenticate', 'Bearer realm="pcapmesh"');
          return errorResponse(
            c,
            401,
            'unauthenticated',
            token === null ? 'missing bearer token (a task upload token)' : 'task upload tokens are not accepted here',
          );
        }
        try {
          c.set('task', await taskTokens.verify(token, c.req.param('task') ?? ''));
        } catch (err) {
          if (isDomainError(err, 'forbidden')) return errorResponse(c, 403, 'forbidden', err.message);
          if (!isDomainError(err, 'unauthenticated')) throw err;
          c.header('WWW-Authenticate', 'Bearer realm="pcapmesh"');
          return errorResponse(c, 401, 'unauthenticated', err.message);
        }
      } else if (level !== 'public') {
        const token = presentedToken(c.req.raw);
        const principal = token === null ? null : await verifier.verify(token);
        if (principal === null) {
          c.header('WWW-Authenticate', 'Bearer realm="pcapmesh"');
          return errorResponse(c, 401, 'unauthenticated', token === null ? 'missing bearer token' : 'invalid token');
        }
        if (!roleAllows(principal.role, level)) {
          c.var.log.info({ principal: principal.name, role: principal.role, permission: level }, 'forbidden');
          return errorResponse(c, 403, 'forbidden', `role ${principal.role} may not do this (needs ${level})`);
        }
        c.set('principal', principal);
        c.var.log.debug({ principal: principal.name, permission: level }, 'authorised');
      }
      await next();
    };
    handler[PERMISSION] = level;
    return handler;
  };
}

/** The permission a handler declares, if it is a `permit()` middleware. */
export function permissionOf(handler: unknown): Permission | undefined {
  return typeof handler === 'function' ? (handler as Tagged)[PERMISSION] : undefined;
}

/** "GET /api/v1/x" for every method route (not `use()` middleware) that has no permit() handler. */
export function routesWithoutPermission(app: Hono<AppEnv>): string[] {
  const declared = new Set<string>();
  const all = new Set<string>();
  for (const route of app.routes) {
    if (route.method === 'ALL') continue;
    const key = `${route.method} ${route.path}`;
    all.add(key);
    if (permissionOf(route.handler) !== undefined) declared.add(key);
  }
  return [...all].filter((key) => !declared.has(key)).sort();
}
