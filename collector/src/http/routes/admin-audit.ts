/**
 * GET /admin/audit (admin): the audit log, newest first.
 *
 *   ?from=&to=        time window (ISO 8601 with zone, or epoch ms)
 *   ?actor=           exact actor (username, `token:<label>`, `cli`)
 *   ?action=          exact action, or a prefix ending in "." (`login.` → login.lockout, ...)
 *   ?outcome=         ok | denied | failed
 *   ?limit=           1–500, default 100
 *   ?cursor=          the `next` of the previous page
 *
 * → { entries: AuditEntryView[], next: string | null }
 */
import { Hono } from 'hono';
import { z } from 'zod';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { defineOperation } from '../openapi/operation.js';
import { instant, INSTANT, pageCursor } from '../params.js';
import { AuditPageSchema } from './admin.schemas.js';
import type { RouteTools } from './tools.js';

export const auditQuery = z.object({
  from: instant.optional().describe(`start; ${INSTANT}`),
  to: instant.optional().describe(`end; ${INSTANT}`),
  actor: z
    .string()
    .regex(/^(token:)?[a-z0-9][a-z0-9._@-]{0,127}$/, 'a username, token:<label> or cli')
    .optional()
    .describe('exact actor (username, token:<label>, cli)'),
  action: z
    .string()
    .regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'letters, digits, ".", "_", "-" (a prefix ends with ".")')
    .optional()
    .describe('exact action, or a prefix ending in "." (login. → login.lockout, ...)'),
  outcome: z.enum(['ok', 'denied', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: pageCursor,
});

export const listAudit = defineOperation({
  method: 'get',
  path: '/admin/audit',
  id: 'listAudit',
  tag: 'admin-audit',
  permission: 'admin',
  summary: 'The audit log, newest first, a page at a time',
  query: auditQuery,
  responses: { 200: { description: 'a page', schema: AuditPageSchema } },
  errors: [400],
});

export function adminAuditRoutes(deps: HttpDeps, { route }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  route(app, listAudit, async (_c, { query, reply }) => reply(200, await deps.accounts.audit.list(query)));
  return app;
}
