/**
 * The response headers every answer carries (API and dashboard), through hono's secureHeaders:
 * its defaults (X-Content-Type-Options nosniff, X-Frame-Options SAMEORIGIN, Referrer-Policy
 * no-referrer, Cross-Origin-Opener/Resource-Policy same-origin, X-Permitted-Cross-Domain-Policies
 * none, X-XSS-Protection 0, …) plus a Content-Security-Policy and a Permissions-Policy.
 *
 * Strict-Transport-Security only on answers the browser received over https — the request came
 * over TLS, or through a trusted proxy that says so (client.ts requestIsHttps): RFC 6797 §7.2 says
 * a browser ignores it over plain HTTP, and sending it there only misleads a scanner.
 *
 * CSP: scripts only from this origin ('self': the dashboard's built index.html loads its modules
 * from /assets and has no inline script — security-headers.test.ts checks web/index.html), no eval, no plugins, no
 * framing, forms and <base> only to this origin, XHR/fetch/WebSocket only to this origin. Styles
 * allow 'unsafe-inline' because Solid templates carry style attributes; images allow data:/blob:
 * (the globe's textures and downloads through Blobs).
 */
import type { MiddlewareHandler } from 'hono';
import { secureHeaders } from 'hono/secure-headers';
import { requestIsHttps } from './client.js';

type SecureHeadersOptions = NonNullable<Parameters<typeof secureHeaders>[0]>;

/** hono's default value (180 days, with subdomains). */
export const HSTS_VALUE = 'max-age=15552000; includeSubDomains';

export const SECURITY_HEADERS: SecureHeadersOptions = {
  strictTransportSecurity: false,
  contentSecurityPolicy: {
    defaultSrc: ["'self'"],
    scriptSrc: ["'self'"],
    styleSrc: ["'self'", "'unsafe-inline'"],
    imgSrc: ["'self'", 'data:', 'blob:'],
    fontSrc: ["'self'"],
    connectSrc: ["'self'"],
    workerSrc: ["'self'", 'blob:'],
    objectSrc: ["'none'"],
    baseUri: ["'self'"],
    formAction: ["'self'"],
    frameAncestors: ["'none'"],
  },
  permissionsPolicy: {
    camera: [],
    microphone: [],
    geolocation: [],
    payment: [],
    usb: [],
  },
};

/** Every answer's security headers, with HSTS where the client's connection is https. */
export function securityHeaders(trustedProxies: readonly string[]): MiddlewareHandler {
  const common = secureHeaders(SECURITY_HEADERS);
  return async (c, next) => {
    await common(c, next);
    if (requestIsHttps(c, trustedProxies)) c.res.headers.set('Strict-Transport-Security', HSTS_VALUE);
  };
}
