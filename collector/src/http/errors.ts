/**
 * The one place where errors become HTTP responses: `{ "error": { "code", "message" } }`.
 *
 *   DomainError(code)   → the status of its code (not_found 404, invalid 400, conflict 409, throttled 429 + Retry-After, ...)
 *   ZodError            → 400 invalid, naming the first bad field ("from: expected ...")
 *   HTTPException       → its own status (body limit 413, ...)
 *   anything else       → 500 internal, logged with the request id; no internals in the body
 */
import type { Context, ErrorHandler, NotFoundHandler } from 'hono';
import { HTTPException } from 'hono/http-exception';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { ZodError } from 'zod';
import { DomainError, type DomainErrorCode } from '../domain/errors.js';
import type { AppEnv } from './env.js';

export type ErrorCode = DomainErrorCode | 'too_large' | 'internal' | 'error';

export interface ErrorBody {
  error: { code: ErrorCode; message: string };
}

const statusOfCode: Record<DomainErrorCode, ContentfulStatusCode> = {
  invalid: 400,
  unauthenticated: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  unavailable: 503,
  throttled: 429,
};

const codeOfStatus: Partial<Record<number, ErrorCode>> = {
  400: 'invalid',
  401: 'unauthenticated',
  403: 'forbidden',
  404: 'not_found',
  409: 'conflict',
  413: 'too_large',
  429: 'throttled',
  503: 'unavailable',
};

export function errorResponse(c: Context, status: ContentfulStatusCode, code: ErrorCode, message: string): Response {
  return c.json<ErrorBody>({ error: { code, message } }, status);
}

/** "from: Invalid input; to: ..." — each issue with the path of the field it concerns. */
export function describeZodError(err: ZodError): string {
  return err.issues.map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')}: ${issue.message}` : issue.message)).join('; ');
}

export const onError: ErrorHandler<AppEnv> = (err, c) => {
  if (err instanceof DomainError) {
    // ThrottledError (domain/accounts/login-throttle.ts) says when to come back.
    if ('retryAfterSeconds' in err && typeof err.retryAfterSeconds === 'number') c.header('Retry-After', String(err.retryAfterSeconds));
    return errorResponse(c, statusOfCode[err.code], err.code, err.message);
  }
  if (err instanceof ZodError) {
    return errorResponse(c, 400, 'invalid', describeZodError(err));
  }
  if (err instanceof HTTPException) {
    const status = err.status as ContentfulStatusCode;
    if (status >= 500) c.var.log.error({ err }, 'request failed');
    return errorResponse(c, status, codeOfStatus[status] ?? 'error', err.message || 'request failed');
  }
  c.var.log.error({ err }, 'request failed');
  return errorResponse(c, 500, 'internal', `internal error (request id ${c.var.requestId})`);
};

export const notFound: NotFoundHandler<AppEnv> = (c) => errorResponse(c, 404, 'not_found', `no route for ${c.req.method} ${new URL(c.req.url).pathname}`);
