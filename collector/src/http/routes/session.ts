/**
 * Sessions (the dashboard's sign-in and every API client's):
 *
 *   POST /login    (public)  { username, password, client? } → 200 { accessToken, expiresIn, user: { username, role } }
 *   POST /refresh  (public)  refresh token from the cookie or { refreshToken } → 200, same shape; rotates
 *   POST /logout   (public)  revokes the refresh token's family; clears the cookie → 204
 *   GET  /me       (read)    { username, role, kind }
 *
 * Browsers get the refresh token only as the httpOnly, SameSite=Strict cookie `pcapmesh_refresh`
 * (path /api/v1; Secure when the request came over https). API clients ask for it in the body
 * with the header `X-Client: api` or `"client": "api"` in the login body, and then send
 * `{ "refreshToken": "…" }` to /refresh and /logout.
 *
 * Browsers also get the device cookie `pcapmesh_known` (httpOnly, SameSite=Strict, path
 * /api/v1/login, Secure over https, auth.knownForDays): signed by the server, it marks the browser as
 * known for the user who signed in, so that user's attempts from it are exempt from the per-user
 * lockout and the global failure budget (domain/accounts/known-clients.ts, domain/accounts/login-throttle.ts). A
 * cookie that is forged, expired or names another user is ignored.
 *
 * 401 { error } on bad credentials (the same message whether or not the user exists); 429 with
 * Retry-After when a lockout applies, the server is over its global failure budget (unknown
 * sources), or too many password checks wait.
 */
import { Hono, type Context } from 'hono';
import { deleteCookie, getCookie, setCookie } from 'hono/cookie';
import { z } from 'zod';
import type { Session } from '../../domain/accounts/auth.service.js';
import { DomainError } from '../../domain/errors.js';
import { clientAddress, jsonBody } from '../client.js';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import type { RouteTools } from './tools.js';

export const REFRESH_COOKIE = 'pcapmesh_refresh';
export const KNOWN_COOKIE = 'pcapmesh_known';
const COOKIE_PATH = '/api/v1';
const KNOWN_COOKIE_PATH = '/api/v1/login';

export const loginBody = z.object({
  username: z.string().min(1).max(256),
  password: z.string().min(1).max(1024),
  client: z.enum(['api', 'browser']).optional(),
});

export const refreshBody = z.object({ refreshToken: z.string().min(1).max(512).optional() }).strict();

/** A JSON body when there is one (API clients), else {} (a browser relying on its cookie). */
async function optionalJson(c: Context): Promise<unknown> {
  const text = await c.req.text();
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new DomainError('invalid', 'the request body must be JSON or empty', { cause: err });
  }
}

export function sessionRoutes(deps: HttpDeps, { permit }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const maxAge = deps.accounts.refreshTokenDays * 86_400;

  /** An httpOnly, SameSite=Strict cookie for the dashboard, Secure when the request came over https. */
  const browserCookie = (c: Context<AppEnv>, name: string, value: string, path: string, age: number) =>
    setCookie(c, name, value, { httpOnly: true, sameSite: 'Strict', path, secure: new URL(c.req.url).protocol === 'https:', maxAge: age });

  const respond = (c: Context<AppEnv>, session: Session, api: boolean) => {
    if (!api) browserCookie(c, REFRESH_COOKIE, session.refreshToken, COOKIE_PATH, maxAge);
    return c.json({
      accessToken: session.accessToken,
      expiresIn: session.expiresIn,
      user: session.user,
      ...(api ? { refreshToken: session.refreshToken } : {}),
    });
  };

  app.post('/login', permit('public'), async (c) => {
    const { username, password, client } = await jsonBody(c, loginBody);
    const api = client === 'api' || c.req.header('x-client') === 'api';
    const { session, knownCookie } = await deps.accounts.auth.signIn(username, password, clientAddress(c), getCookie(c, KNOWN_COOKIE));
    c.var.log.info({ user: session.user.username, api }, 'login');
    if (!api) browserCookie(c, KNOWN_COOKIE, knownCookie.value, KNOWN_COOKIE_PATH, knownCookie.maxAge);
    return respond(c, session, api);
  });

  app.post('/refresh', permit('public'), async (c) => {
    const { refreshToken } = refreshBody.parse(await optionalJson(c));
    const token = refreshToken ?? getCookie(c, REFRESH_COOKIE);
    if (token === undefined) throw new DomainError('unauthenticated', 'no refresh token (cookie pcapmesh_refresh or body refreshToken)');
    try {
      return respond(c, await deps.accounts.auth.refresh(token, clientAddress(c)), refreshToken !== undefined);
    } catch (err) {
      if (refreshToken === undefined) deleteCookie(c, REFRESH_COOKIE, { path: COOKIE_PATH });
      throw err;
    }
  });

  app.post('/logout', permit('public'), async (c) => {
    const { refreshToken } = refreshBody.parse(await optionalJson(c));
    await deps.accounts.auth.logout(refreshToken ?? getCookie(c, REFRESH_COOKIE) ?? null, clientAddress(c));
    deleteCookie(c, REFRESH_COOKIE, { path: COOKIE_PATH });
    return c.body(null, 204);
  });

  app.get('/me', permit('read'), (c) => {
    const principal = c.var.principal!;
    return c.json({ username: principal.name, role: principal.role, kind: principal.kind });
  });

  return app;
}
