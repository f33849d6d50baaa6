/**
 * Facts about the calling client that routes need: its address (throttling, audit). (Bodies are
 * parsed by route() with the operation's schema, openapi/operation.ts.)
 *
 * The address is the TCP peer; X-Forwarded-For is not trusted (a client could name any address
 * and escape per-address throttling). X-Forwarded-Proto is believed only from the addresses in
 * `http.trustedProxies` (a TLS-terminating reverse proxy), for `requestIsHttps`. Under `app.request()` (tests) without a Node socket, the
 * address is taken from `env.incoming.socket.remoteAddress` when given, else 'unknown'.
 */
import type { Context } from 'hono';
import { getConnInfo } from '@hono/node-server/conninfo';
import { UNKNOWN_ADDRESS } from '../domain/accounts/known-clients.js';

/** The TCP peer address of the request ('unknown' when there is none). */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? UNKNOWN_ADDRESS;
  } catch {
    return UNKNOWN_ADDRESS;
  }
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) → `10.0.0.1`. */
const plainAddress = (address: string): string => address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');

/**
 * True when the browser's connection is https: the request itself came over TLS, or it came from
 * one of `trustedProxies` (exact addresses) and that proxy says `X-Forwarded-Proto: https` (its
 * first value). From any other peer the header is ignored, so a client cannot claim TLS.
 */
export function requestIsHttps(c: Context, trustedProxies: readonly string[]): boolean {
  if (new URL(c.req.url).protocol === 'https:') return true;
  if (trustedProxies.length === 0) return false;
  const peer = plainAddress(clientAddress(c));
  if (!trustedProxies.some((p) => plainAddress(p) === peer)) return false;
  return (c.req.header('x-forwarded-proto') ?? '').split(',')[0]!.trim().toLowerCase() === 'https';
}
