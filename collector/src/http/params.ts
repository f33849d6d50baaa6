/**
 * zod schemas for path and query parameters. Handlers `parse` with them; a ZodError becomes
 * 400 `{ error: { code: 'invalid', message: 'from: …' } }` in errors.ts.
 */
import { z } from 'zod';
import { isValidSensorName } from '@pcapmesh/shared/wire';
import { decodeCursor } from '../domain/accounts/audit.service.js';
import { invalid } from '../domain/errors.js';

/** `:name` path parameter. */
export const sensorParams = z.object({
  name: z
    .string()
    .refine(isValidSensorName, 'not a valid sensor name (a-z, 0-9, ".", "_", "-"; 1-63 characters)')
    .describe('sensor name: a-z, 0-9, ".", "_", "-"; 1-63 characters, starting with a letter or digit'),
});

/** A point in time: ISO 8601 with a time zone (2026-01-02T03:04:05Z) or epoch milliseconds. */
export const instant = z.string().transform((text, ctx) => {
  const date = /^\d{1,15}$/.test(text)
    ? new Date(Number(text))
    : /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(text)
      ? new Date(text)
      : null;
  if (date === null || Number.isNaN(date.getTime())) {
    ctx.addIssue({ code: 'custom', message: `expected an ISO 8601 time with zone or epoch milliseconds, got ${JSON.stringify(text)}` });
    return z.NEVER;
  }
  return date;
});

const HOUR_MS = 3_600_000;
/** How the document describes an `instant` parameter. */
export const INSTANT = 'a point in time: ISO 8601 with a zone (2026-01-02T03:04:05Z) or epoch milliseconds';

/** `?from=&to=&maxPoints=` of a time series; seriesWindow() fills in the defaults. */
export const seriesQuery = z.object({
  from: instant.optional().describe(`start (default: an hour before to); ${INSTANT}`),
  to: instant.optional().describe(`end (default: now); ${INSTANT}`),
  maxPoints: z.coerce.number().int().min(1).max(10_000).default(2_000).describe('at most this many points (downsampled)'),
});

/** The window of a series query: the last hour before `now` by default. Throws invalid when from is after to. */
export function seriesWindow(query: z.output<typeof seriesQuery>, now: Date): { from: Date; to: Date; maxPoints: number } {
  const to = query.to ?? now;
  const from = query.from ?? new Date(to.getTime() - HOUR_MS);
  if (from.getTime() > to.getTime()) throw invalid('from: must not be after to');
  return { from, to, maxPoints: query.maxPoints };
}

/** `?since=&limit=` of an activity list. */
export const activityQuery = z.object({
  since: instant.optional().describe(`only changes after this; ${INSTANT}`),
  limit: z.coerce.number().int().min(1).max(1_000).default(100).describe('at most this many entries'),
});

/** `?cursor=`: the `next` of the previous page of a (time, id) listing (audit log, maintenance log). */
export const pageCursor = z
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
  .optional()
  .describe('the `next` of the previous page');
