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
import { AVATAR_MAX_BYTES, checkAvatar, preferencesChangeSchema } from '../../domain/accounts/preferences.service.js';
import type { HttpDeps } from '../deps.js';
import type { AppEnv } from '../env.js';
import type { RouteTools } from './tools.js';

/** The username of a user principal; API tokens have no preferences. */
function userOf(c: Context<AppEnv>): string {
  const principal = c.var.principal!;
  if (principal.kind !== 'user') throw new DomainError('forbidden', 'preferences belong to users; an API token has none');
  return principal.name;
}

function decodeDataUrl(value: unknown): Uint8Array {
  const match = typeof value === 'string' ? /^data:image\/[a-z+.-]+;base64,([A-Za-z0-9+/=]+)$/.exec(value) : null;
  if (!match) throw invalid('avatar: expected a data URL (data:image/png;base64,…) or null');
  return Buffer.from(match[1]!, 'base64');
}

export function preferencesRoutes(deps: HttpDeps, { permit }: RouteTools): Hono<AppEnv> {
  const app = new Hono<AppEnv>();
  const prefs = deps.accounts.preferences;

  const view = async (username: string) => {
    const { hasAvatar, ...values } = await prefs.get(username);
    const avatar = hasAvatar ? await prefs.avatar(username) : null;
    return { ...values, ...(avatar ? { avatar: `data:${avatar.type};base64,${Buffer.from(avatar.bytes).toString('base64')}` } : {}) };
  };

  app.get('/preferences', permit('read'), async (c) => c.json(await view(userOf(c))));

  app.put('/preferences', permit('read'), async (c) => {
    const username = userOf(c);
    let body: unknown;
    try {
      body = await c.req.json();
    } catch (err) {
      throw new DomainError('invalid', 'the request body must be JSON', { cause: err });
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the request body must be a JSON object');
    const { avatar, ...rest } = body as Record<string, unknown>;
    // Validate everything before storing anything.
    const image = avatar === undefined || avatar === null ? avatar : decodeDataUrl(avatar);
    preferencesChangeSchema.parse(rest);
    if (image !== undefined && image !== null) checkAvatar(image);
    await prefs.update(username, rest);
    if (image !== undefined) await prefs.setAvatar(username, image);
    return c.json(await view(username));
  });

  app.get('/preferences/avatar', permit('read'), async (c) => {
    const avatar = await prefs.avatar(userOf(c));
    if (!avatar) throw new DomainError('not_found', 'no avatar set');
    return c.body(Buffer.from(avatar.bytes), 200, { 'content-type': avatar.type, 'cache-control': 'private, no-cache' });
  });

  app.put('/preferences/avatar', permit('read'), async (c) => {
    const username = userOf(c);
    const bytes = new Uint8Array(await c.req.arrayBuffer());
    if (bytes.length > AVATAR_MAX_BYTES) throw invalid(`avatar: ${bytes.length} bytes is more than ${AVATAR_MAX_BYTES} (256 KB)`);
    await prefs.setAvatar(username, bytes);
    return c.body(null, 204);
  });

  app.delete('/preferences/avatar', permit('read'), async (c) => {
    await prefs.setAvatar(userOf(c), null);
    return c.body(null, 204);
  });

  return app;
}
