/**
 * The signed-in user's preferences (all 'read': every role has them; API tokens have none → 403):
 *
 *   GET    /preferences          { theme, timeZone, defaultRange, pageSize, avatar? }  avatar: data URL when set
 *   PUT    /preferences          any subset of those keys (merged; `avatar`: a data URL to set, null to remove)
 *   GET    /preferences/avatar   the image bytes (404 when none)
 *   PUT    /preferences/avatar   raw image bytes (≤ 256 KB; PNG, JPEG or WebP by content) → 204
 *   DELETE /preferences/avatar   → 204
 *
 * Invalid values → 400 naming the key (domain/accounts/preferences.service.ts has the schema).
 */
import { Hono, type Context } from 'hono';
import { DomainError, invalid } from '../../domain/errors.js';
import { AVATAR_MAX_BYTES, checkAvatar } from '../../domain/accounts/preferences.service.js';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import { defineOperation } from '../openapi/operation.js';
import { PreferencesChangeSchema, PreferencesSchema } from './preferences.schemas.js';
import type { RouteTools } from './tools.js';

const IMAGE_TYPES = ['image/png', 'image/jpeg', 'image/webp'];

export const getPreferences = defineOperation({
  method: 'get',
  path: '/preferences',
  id: 'getPreferences',
  tag: 'preferences',
  permission: 'read',
  usersOnly: true,
  summary: 'The signed-in user’s preferences (defaults filled in)',
  responses: { 200: { description: 'the preferences', schema: PreferencesSchema } },
});

export const updatePreferences = defineOperation({
  method: 'put',
  path: '/preferences',
  id: 'updatePreferences',
  tag: 'preferences',
  permission: 'read',
  usersOnly: true,
  summary: 'Change some preferences (and set or remove the avatar)',
  description: 'Everything is validated before anything is stored.',
  body: { schema: PreferencesChangeSchema },
  responses: { 200: { description: 'the preferences after the change', schema: PreferencesSchema } },
  errors: [400],
});

export const getAvatar = defineOperation({
  method: 'get',
  path: '/preferences/avatar',
  id: 'getAvatar',
  tag: 'preferences',
  permission: 'read',
  usersOnly: true,
  summary: 'The avatar image',
  responses: {
    200: {
      description: 'the image bytes',
      content: Object.fromEntries(IMAGE_TYPES.map((type) => [type, { schema: { type: 'string', contentMediaType: type } }])),
    },
  },
  errors: [404],
});

export const putAvatar = defineOperation({
  method: 'put',
  path: '/preferences/avatar',
  id: 'putAvatar',
  tag: 'preferences',
  permission: 'read',
  usersOnly: true,
  summary: 'Upload the avatar image',
  description: `At most ${AVATAR_MAX_BYTES} bytes; PNG, JPEG or WebP, told by the content (not the Content-Type).`,
  body: {
    description: 'the raw image bytes',
    content: {
      'application/octet-stream': { schema: { type: 'string', contentMediaType: 'application/octet-stream' } },
      'image/*': { schema: { type: 'string' } },
    },
  },
  responses: { 204: { description: 'done (no body)' } },
  errors: [400],
});

export const deleteAvatar = defineOperation({
  method: 'delete',
  path: '/preferences/avatar',
  id: 'deleteAvatar',
  tag: 'preferences',
  permission: 'read',
  usersOnly: true,
  summary: 'Remove the avatar image',
  responses: { 204: { description: 'done (no body)' } },
});

/** The username of the signed-in user (the operations are `usersOnly`: route() refused API tokens). */
const userOf = (c: Context<AppEnv>): string => c.var.principal!.name;

export function preferencesRoutes(deps: HttpDeps, { route }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const prefs = deps.accounts.preferences;

  const view = async (username: string) => {
    const { hasAvatar, ...values } = await prefs.get(username);
    const avatar = hasAvatar ? await prefs.avatar(username) : null;
    return { ...values, ...(avatar ? { avatar: `data:${avatar.type};base64,${Buffer.from(avatar.bytes).toString('base64')}` } : {}) };
  };

  route(app, getPreferences, async (c, { reply }) => reply(200, await view(userOf(c))));

  route(app, updatePreferences, async (c, { body: { avatar, ...change }, reply }) => {
    const username = userOf(c);
    // Everything is validated (the body by its schema, the image here) before anything is stored.
    if (avatar !== undefined && avatar !== null) checkAvatar(avatar);
    await prefs.update(username, change);
    if (avatar !== undefined) await prefs.setAvatar(username, avatar);
    return reply(200, await view(username));
  });

  route(app, getAvatar, async (c) => {
    const avatar = await prefs.avatar(userOf(c));
    if (!avatar) throw new DomainError('not_found', 'no avatar set');
    return c.body(Buffer.from(avatar.bytes), 200, { 'content-type': avatar.type, 'cache-control': 'private, no-cache' });
  });

  route(app, putAvatar, async (c, { reply }) => {
    const username = userOf(c);
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.length > AVATAR_MAX_BYTES) throw invalid(`avatar: ${bytes.length} bytes is more than ${AVATAR_MAX_BYTES} (256 KB)`);
    await prefs.setAvatar(username, bytes);
    return reply(204);
  });

  route(app, deleteAvatar, async (c, { reply }) => {
    await prefs.setAvatar(userOf(c), null);
    return reply(204);
  });

  return app;
}
