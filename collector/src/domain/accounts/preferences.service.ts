/**
 * A user's dashboard preferences, validated against one schema, and their avatar image.
 *
 *   theme         'system' | 'light' | 'dark'              (default 'system')
 *   timeZone      an IANA zone Intl knows, e.g. 'Europe/Berlin', or 'UTC' (default 'UTC')
 *   defaultRange  '15m' | '1h' | '6h' | '24h' | '7d' | '30d' (default '1h')
 *   pageSize      10–1000 rows per table page              (default 50)
 *
 * Avatar: at most 256 KB, PNG, JPEG or WebP as told by its first bytes (magic numbers), never by
 * a file name or a claimed content type.
 */
import { z } from 'zod';
import type { Db } from '../../storage/db.js';
import { avatarOf, preferencesOf, setAvatar, setPreferences } from '../../storage/users.repo.js';
import { invalid, notFound } from '../errors.js';

export const AVATAR_MAX_BYTES = 256 * 1024;

const timeZone = z
  .string()
  .max(64)
  .refine((zone) => {
    try {
      new Intl.DateTimeFormat('en', { timeZone: zone });
      return true;
    } catch {
      return false;
    }
  }, 'not a time zone this server knows (IANA names such as Europe/Berlin, or UTC)');

const fields = {
  theme: z.enum(['system', 'light', 'dark']),
  timeZone: timeZone.describe('an IANA zone name this server knows (Europe/Berlin) or UTC'),
  defaultRange: z.enum(['15m', '1h', '6h', '24h', '7d', '30d']),
  pageSize: z.number().int().min(10).max(1000),
};

export const preferencesSchema = z.strictObject({
  theme: fields.theme.default('system'),
  timeZone: fields.timeZone.default('UTC'),
  defaultRange: fields.defaultRange.default('1h'),
  pageSize: fields.pageSize.default(50),
});
export type Preferences = z.infer<typeof preferencesSchema>;

/** A change: any subset of the keys (no defaults: a key not given keeps its stored value). */
export const preferencesChangeSchema = z.strictObject(fields).partial();

export type AvatarType = 'image/png' | 'image/jpeg' | 'image/webp';

/** The image type its first bytes prove, or null. */
export function sniffImage(bytes: Uint8Array): AvatarType | null {
  const starts = (sig: number[], at = 0) => sig.every((b, i) => bytes[at + i] === b);
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'image/png';
  if (starts([0xff, 0xd8, 0xff])) return 'image/jpeg';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'image/webp';
  return null;
}

/** Checks an avatar upload; throws invalid naming what is wrong. */
export function checkAvatar(bytes: Uint8Array): AvatarType {
  if (bytes.length === 0) throw invalid('avatar: the image is empty');
  if (bytes.length > AVATAR_MAX_BYTES) throw invalid(`avatar: ${bytes.length} bytes is more than ${AVATAR_MAX_BYTES} (256 KB)`);
  const type = sniffImage(bytes);
  if (type === null) throw invalid('avatar: not a PNG, JPEG or WebP image (checked by its content)');
  return type;
}

export class PreferencesService {
  constructor(private readonly db: Db) {}

  /** Stored preferences with defaults filled in; `hasAvatar` tells whether an image is stored. */
  async get(username: string): Promise<Preferences & { hasAvatar: boolean }> {
    const row = await preferencesOf(this.db, username);
    if (!row) throw notFound(`user ${username}`);
    // Stored values were valid when written; anything unknown left over is dropped, not an error.
    const stored = preferencesSchema.partial().safeParse(row.preferences);
    return { ...preferencesSchema.parse(stored.success ? stripUndefined(stored.data) : {}), hasAvatar: row.avatarType !== null };
  }

  /** Merges a validated change into the stored preferences. */
  async update(username: string, change: unknown): Promise<Preferences & { hasAvatar: boolean }> {
    const parsed = preferencesChangeSchema.parse(change);
    const { hasAvatar: _, ...current } = await this.get(username);
    await setPreferences(this.db, username, { ...current, ...stripUndefined(parsed) });
    return this.get(username);
  }

  async avatar(username: string): Promise<{ bytes: Uint8Array; type: string } | null> {
    return avatarOf(this.db, username);
  }

  async setAvatar(username: string, bytes: Uint8Array | null): Promise<void> {
    const avatar = bytes === null ? null : { bytes, type: checkAvatar(bytes) };
    if (!(await setAvatar(this.db, username, avatar))) throw notFound(`user ${username}`);
  }
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
