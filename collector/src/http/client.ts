/**
 * Facts about the calling client that routes need: its address (throttling, audit) and its JSON
 * body parsed against a schema.
 *
 * The address is the TCP peer; X-Forwarded-For is not trusted (a client could name any address
 * and escape per-address throttling). Under `app.request()` (tests) without a Node socket, the
 * address is taken from `env.incoming.socket.remoteAddress` when given, else 'unknown'.
 */
import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import type { z } from 'zod';
import { invalid } from '../domain/errors.js';
import { UNKNOWN_ADDRESS } from '../domain/accounts/known-clients.js';

export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? UNKNOWN_ADDRESS;
  } catch {
    return UNKNOWN_ADDRESS;
  }
}

/** The request's JSON body validated by `schema` (ZodError → 400 naming the field); a non-JSON body → 400. */
export async function jsonBody<S extends z.ZodType>(c: Context, schema: S): Promise<z.infer<S>> {
  let body: unknown;
  try {
    body = await c.req.json();
  } catch (err) {
    throw Object.assign(invalid('the request body must be JSON (Content-Type: application/json)'), { cause: err });
  }
  return schema.parse(body);
}
