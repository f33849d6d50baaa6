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
import { decodeCursor } from '../../domain/accounts/audit.service.js';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { instant } from '../params.js';
import type { RouteTools } from './tools.js';

export const auditQuery = z.object({
  from: instant.optional(),
  to: instant.optional(),
  actor: z.string().regex(/^(token:)?[a-z0-9][a-z0-9._@-]{0,127}$/, 'a username, token:<label> or cli').optional(),
  action: z.string().regex(/^[a-z][a-z0-9_.-]{0,63}$/, 'letters, digits, ".", "_", "-" (a prefix ends with ".")').optional(),
  outcome: z.enum(['ok', 'denied', 'failed']).optional(),
  limit: z.coerce.number().int().min(1).max(500).default(100),
  cursor: z
    .string()
    .max(200)
    .transform((text, ctx) => {
      const cursor = decodeCursor(text);
      if (cursor === null) {
        ctx.addIssue({ code: 'custom', message: 'not a cursor this API returned' });
        return z.NEVER;
      }
      return cursor;
    })
    .optional(),
});

export function adminAuditRoutes(deps: HttpDeps, { permit }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  app.get('/admin/audit', permit('admin'), async (c) => c.json(await deps.accounts.audit.list(auditQuery.parse(c.req.query()))));
  return app;
}
