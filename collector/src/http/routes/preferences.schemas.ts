/**
 * Request and response schemas of routes/preferences.ts, over the domain's preferences schemas
 * (domain/accounts/preferences.service.ts): the stored preferences plus the avatar as a data URL.
 */
import { z } from 'zod';
import { AVATAR_MAX_BYTES, preferencesChangeSchema, preferencesSchema } from '../../domain/accounts/preferences.service.js';

const DATA_URL = /^data:image\/[a-z+.-]+;base64,([A-Za-z0-9+/=]+)$/;

/** An image as a data URL → its bytes (the type is told by the content, domain checkAvatar). */
const avatarDataUrl = z
  .string()
  .regex(DATA_URL, 'expected a data URL (data:image/png;base64,…) or null')
  .transform((url) => new Uint8Array(Buffer.from(DATA_URL.exec(url)![1]!, 'base64')));

export const PreferencesSchema = z
  .strictObject({
    ...preferencesSchema.shape,
    avatar: z.string().optional().describe('a data URL (data:image/png;base64,…); absent when none is set'),
  })
  .meta({ id: 'Preferences' });

export const PreferencesChangeSchema = z
  .strictObject({
    ...preferencesChangeSchema.shape,
    avatar: avatarDataUrl
      .nullable()
      .optional()
      .describe(`a data URL (data:image/png;base64,…) of a PNG, JPEG or WebP image of at most ${AVATAR_MAX_BYTES} bytes; null removes it`),
  })
  .meta({ id: 'PreferencesChange', description: 'Any subset of the preferences; merged into the stored ones.' });
