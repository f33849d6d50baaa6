/**
 * The user's display preferences: theme and time zone (and default range). Read from
 * GET /api/v1/preferences; for API-token sessions (which have no preferences) the defaults apply:
 * the OS theme and the browser's time zone.
 *
 * The theme is applied as `data-theme="light|dark"` on <html>; 'system' removes the attribute
 * and the CSS follows `prefers-color-scheme`.
 */
import { createEffect, createSignal } from 'solid-js';
import { ApiError, type ApiClient } from '../api/client.js';
import type { Preferences } from '../api/types.js';
import { isValidTimeZone, localTimeZone } from '../time/zone.js';

export function defaultPreferences(): Preferences {
  return { theme: 'system', timeZone: localTimeZone(), defaultRange: '1h', pageSize: 50 };
}

export type PreferencesState = ReturnType<typeof createPreferences>;

export function createPreferences(api: Pick<ApiClient, 'preferences'>, root: HTMLElement = document.documentElement) {
  const [prefs, setPrefs] = createSignal<Preferences>(defaultPreferences());
  /** False until GET /preferences answered 200 (the API may not exist yet). */
  const [fromServer, setFromServer] = createSignal(false);

  createEffect(() => {
    const theme = prefs().theme;
    if (theme === 'system') root.removeAttribute('data-theme');
    else root.setAttribute('data-theme', theme);
  });

  async function load(): Promise<void> {
    try {
      const p = await api.preferences();
      setPrefs({ ...defaultPreferences(), ...p, timeZone: isValidTimeZone(p.timeZone) ? p.timeZone : localTimeZone() });
      setFromServer(true);
    } catch (err) {
      // 404: the collector has no preferences API yet; 401/403: an API token has no user.
      if (!(err instanceof ApiError) || ![401, 403, 404].includes(err.status)) throw err;
      setPrefs(defaultPreferences());
      setFromServer(false);
    }
  }

  return {
    prefs,
    fromServer,
    load,
    /** Adopts what the collector answered after a save. */
    set: (p: Preferences) => setPrefs({ ...defaultPreferences(), ...p }),
    timeZone: () => prefs().timeZone,
    reset: () => setPrefs(defaultPreferences()),
  };
}
