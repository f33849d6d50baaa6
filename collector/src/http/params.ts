/**
 * zod schemas for path and query parameters. Handlers `parse` with them; a ZodError becomes
 * 400 `{ error: { code: 'invalid', message: 'from: …' } }` in errors.ts.
 */
import { z } from 'zod';
import { isValidSensorName } from '@pcapmesh/shared/wire';

/** `:name` path parameter. */
export const sensorParams = z.object({
  name: z.string().refine(isValidSensorName, 'not a valid sensor name (a-z, 0-9, ".", "_", "-"; 1-63 characters)'),
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

/** `?from=&to=&maxPoints=` of a time series. Defaults: the last hour; at most 2,000 points. */
export const seriesQuery = (now: () => Date) =>
  z
    .object({
      from: instant.optional(),
      to: instant.optional(),
      maxPoints: z.coerce.number().int().min(1).max(10_000).default(2_000),
    })
    .transform(({ from, to, maxPoints }) => {
      const end = to ?? now();
      return { from: from ?? new Date(end.getTime() - HOUR_MS), to: end, maxPoints };
    })
    .refine(({ from, to }) => from.getTime() <= to.getTime(), { message: 'must not be after to', path: ['from'] });

/** `?since=&limit=` of an activity list. */
export const activityQuery = z.object({
  since: instant.optional(),
  limit: z.coerce.number().int().min(1).max(1_000).default(100),
});
