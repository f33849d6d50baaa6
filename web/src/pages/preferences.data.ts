/**
 * Loader of the preferences page: the user's preferences from the collector (GET /preferences),
 * and the choices the form offers. Client-side checks mirror the collector's (which decides).
 */
import { createResource } from 'solid-js';
import type { AppServices } from '../context.jsx';

export const AVATAR_MAX_BYTES = 256 * 1024;
export const AVATAR_TYPES = ['image/png', 'image/jpeg', 'image/webp'] as const;

/** Every IANA time zone the browser knows (falls back to the current one). */
export function timeZones(current: string): string[] {
  const all = typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : [];
  return all.includes(current) ? all : [current, ...all];
}

/** Why an avatar file cannot be used, or null when it can. */
export function avatarProblem(file: { size: number; type: string }): string | null {
  if (!(AVATAR_TYPES as readonly string[]).includes(file.type)) return `the avatar must be PNG, JPEG or WebP (this file is ${file.type || 'of unknown type'})`;
  if (file.size > AVATAR_MAX_BYTES) return `the avatar may be at most 256 KB (this file has ${Math.ceil(file.size / 1024)} KB)`;
  return null;
}

export function loadPreferences(app: Pick<AppServices, 'api'>) {
  const [prefs, { refetch }] = createResource(() => app.api.preferences());
  return { prefs, refetch };
}
