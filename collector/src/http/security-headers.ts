/**
 * The response headers every answer carries (API and dashboard), through hono's secureHeaders:
 * its defaults (X-Content-Type-Options nosniff, X-Frame-Options SAMEORIGIN, Referrer-Policy
 * no-referrer, Strict-Transport-Security, Cross-Origin-Opener/Resource-Policy same-origin,
 * X-Permitted-Cross-Domain-Policies none, X-XSS-Protection 0, …) plus a Content-Security-Policy
 * and a Permissions-Policy.
 *
 * CSP: scripts only from this origin ('self': the dashboard's built index.html loads its modules
 * from /assets and has no inline script — security-headers.test.ts checks web/index.html), no eval, no plugins, no
 * framing, forms and <base> only to this origin, XHR/fetch/WebSocket only to this origin. Styles
 * allow 'unsafe-inline' because Solid templates carry style attributes; images allow data:/blob:
 * (the globe's textures and downloads through Blobs).
 */
import type { secureHeaders } from 'hono/secure-headers';

type SecureHeadersOptions = NonNullable<Parameters<typeof secureHeaders>[0]>;

export const SECURITY_HEADERS: SecureHeadersOptions = {
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
