/**
 * Facts about the calling client that routes need: its address (throttling, audit). (Bodies are
 * parsed by route() with the operation's schema, openapi/operation.ts.)
 *
 * The address is the TCP peer; X-Forwarded-For is not trusted (a client could name any address
 * and escape per-address throttling). Under `app.request()` (tests) without a Node socket, the
 * address is taken from `env.incoming.socket.remoteAddress` when given, else 'unknown'.
 */
import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { UNKNOWN_ADDRESS } from '../domain/accounts/known-clients.js';

export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? UNKNOWN_ADDRESS;
  } catch {
    return UNKNOWN_ADDRESS;
  }
}
