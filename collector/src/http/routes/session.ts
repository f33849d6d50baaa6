/**
 * Sessions (the dashboard's sign-in and every API client's):
 *
 *   POST /login    (public)  { username, password, client? } → 200 { accessToken, expiresIn, user: { username, role } }
 *   POST /refresh  (public)  refresh token from the cookie or { refreshToken } → 200, same shape; rotates
 *   POST /logout   (public)  revokes the refresh token's family; clears the cookie → 204
 *   GET  /me       (read)    { username, role, kind }
 *
 * Browsers get the refresh token only as the httpOnly, SameSite=Strict cookie `pcapmesh_refresh`
 * (path /api/v1; Secure when the request came over https, or from an `http.trustedProxies` address
 * saying X-Forwarded-Proto: https). API clients ask for it in the body
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
import { clientAddress, requestIsHttps } from '../client.js';
import { int, oneOf, RoleSchema } from '../openapi/kit.js';
import { defineOperation } from '../openapi/operation.js';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import type { RouteTools } from './tools.js';

export const REFRESH_COOKIE = 'pcapmesh_refresh';
export const KNOWN_COOKIE = 'pcapmesh_known';
const COOKIE_PATH = '/api/v1';
const KNOWN_COOKIE_PATH = '/api/v1/login';

export const loginBody = z
  .object({
    username: z.string().min(1).max(256),
    password: z.string().min(1).max(1024),
    client: z
      .enum(['api', 'browser'])
      .optional()
      .describe('"api" returns the refresh token in the body instead of a cookie (as does the header X-Client: api)'),
  })
  .meta({ id: 'LoginRequest' });

export const refreshBody = z
  .strictObject({
    refreshToken: z.string().min(1).max(512).optional().describe('API clients: the token login returned; browsers send none (the cookie pcapmesh_refresh)'),
  })
  .meta({ id: 'RefreshRequest' });

const SessionSchema = z
  .strictObject({
    accessToken: z.string().describe('an access JWT: send as Authorization: Bearer …'),
    expiresIn: int.describe('seconds the access token is valid'),
    user: z.strictObject({ username: z.string(), role: RoleSchema }),
    refreshToken: z.string().optional().describe('API clients only (X-Client: api or "client": "api"); single use'),
  })
  .meta({ id: 'Session' });

const MeSchema = z
  .strictObject({
    id: z.string().describe("the caller's principal id, `user:{id}` or `token:{id}`: what owns jobs (a job's `ownerId`)"),
    username: z.string().describe("username, or the API token's label"),
    role: RoleSchema,
    kind: oneOf(['user', 'api-token']),
  })
  .meta({ id: 'Me' });

export const login = defineOperation({
  method: 'post',
  path: '/login',
  id: 'login',
  tag: 'session',
  permission: 'public',
  summary: 'Sign in with username and password',
  description:
    'Returns an access JWT. Browsers get the refresh token as the httpOnly, SameSite=Strict cookie `pcapmesh_refresh` ' +
    '(path /api/v1); API clients (header `X-Client: api` or `"client": "api"`) get it in the body. Bad credentials give ' +
    'the same 401 whether or not the user exists. Browsers also get the signed device cookie `pcapmesh_known` (httpOnly, ' +
    'SameSite=Strict, path /api/v1/login, auth.knownForDays) marking them as known for that user. 429 + Retry-After: failed ' +
    'attempts lock out the username (unknown sources only), the source address or a known source; while the server is over ' +
    'its global failure budget unknown sources share a few password checks a second; too many checks waiting.',
  parameters: [
    { name: 'X-Client', in: 'header', required: false, schema: { type: 'string', enum: ['api'] }, description: '`api`: refresh token in the body, no cookie' },
  ],
  body: { schema: loginBody },
  responses: {
    200: {
      description: 'signed in',
      schema: SessionSchema,
      headers: { 'Set-Cookie': { description: 'pcapmesh_refresh=… and pcapmesh_known=… (browsers only)', schema: { type: 'string' } } },
    },
  },
  errors: [400, 401, 429],
});

export const refresh = defineOperation({
  method: 'post',
  path: '/refresh',
  id: 'refresh',
  tag: 'session',
  permission: 'public',
  summary: 'Exchange a refresh token for a new access JWT and refresh token',
  description:
    'The refresh token comes from the cookie `pcapmesh_refresh` or the body `{ refreshToken }` (then the new one is in the ' +
    'body too). Single use: presenting a used token revokes its whole session.',
  body: { schema: refreshBody, required: false },
  responses: {
    200: {
      description: 'a new session',
      schema: SessionSchema,
      headers: { 'Set-Cookie': { description: 'pcapmesh_refresh=… (cookie clients)', schema: { type: 'string' } } },
    },
  },
  errors: [400, 401],
});

export const logout = defineOperation({
  method: 'post',
  path: '/logout',
  id: 'logout',
  tag: 'session',
  permission: 'public',
  summary: 'Revoke the refresh token’s session and clear the cookie',
  body: { schema: refreshBody, required: false },
  responses: { 204: { description: 'done (no body)' } },
  errors: [400],
});

export const getMe = defineOperation({
  method: 'get',
  path: '/me',
  id: 'getMe',
  tag: 'session',
  permission: 'read',
  summary: 'Who the credential belongs to',
  responses: { 200: { description: 'the caller', schema: MeSchema } },
});

export function sessionRoutes(deps: HttpDeps, { route }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const maxAge = deps.accounts.refreshTokenDays * 86_400;

  const trustedProxies = deps.accounts.trustedProxies ?? [];
  /** An httpOnly, SameSite=Strict cookie for the dashboard, Secure when the browser's connection is https (also behind a trusted TLS proxy). */
  const browserCookie = (c: Context<AppEnv>, name: string, value: string, path: string, age: number) =>
    setCookie(c, name, value, { httpOnly: true, sameSite: 'Strict', path, secure: requestIsHttps(c, trustedProxies), maxAge: age });

  /** The session answer; browsers get the refresh token as a cookie instead. */
  const sessionBody = (c: Context<AppEnv>, session: Session, api: boolean): z.input<typeof SessionSchema> => {
    if (!api) browserCookie(c, REFRESH_COOKIE, session.refreshToken, COOKIE_PATH, maxAge);
    return {
      accessToken: session.accessToken,
      expiresIn: session.expiresIn,
      user: session.user,
      ...(api ? { refreshToken: session.refreshToken } : {}),
    };
  };

  route(app, login, async (c, { body: { username, password, client }, reply }) => {
    const api = client === 'api' || c.req.header('x-client') === 'api';
    const { session, knownCookie } = await deps.accounts.auth.signIn(username, password, clientAddress(c), getCookie(c, KNOWN_COOKIE));
    c.var.log.info({ user: session.user.username, api }, 'login');
    if (!api) browserCookie(c, KNOWN_COOKIE, knownCookie.value, KNOWN_COOKIE_PATH, knownCookie.maxAge);
    return reply(200, sessionBody(c, session, api));
  });

  route(app, refresh, async (c, { body: { refreshToken }, reply }) => {
    const token = refreshToken ?? getCookie(c, REFRESH_COOKIE);
    if (token === undefined) throw new DomainError('unauthenticated', 'no refresh token (cookie pcapmesh_refresh or body refreshToken)');
    try {
      return reply(200, sessionBody(c, await deps.accounts.auth.refresh(token, clientAddress(c)), refreshToken !== undefined));
    } catch (err) {
      if (refreshToken === undefined) deleteCookie(c, REFRESH_COOKIE, { path: COOKIE_PATH });
      throw err;
    }
  });

  route(app, logout, async (c, { body: { refreshToken }, reply }) => {
    await deps.accounts.auth.logout(refreshToken ?? getCookie(c, REFRESH_COOKIE) ?? null, clientAddress(c));
    deleteCookie(c, REFRESH_COOKIE, { path: COOKIE_PATH });
    return reply(204);
  });

  route(app, getMe, (c, { reply }) => {
    const principal = c.var.principal!;
    return reply(200, { id: principal.id, username: principal.name, role: principal.role, kind: principal.kind });
  });

  return app;
}
