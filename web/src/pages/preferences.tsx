/**
 * Preferences of the signed-in user: theme, time zone, default time range, page size, avatar.
 * Saving sends the form (PUT /preferences) and applies the answer at once (theme, time zone);
 * the avatar is uploaded on its own (PUT /preferences/avatar, PNG/JPEG/WebP ≤ 256 KB).
 * API-token sessions have no preferences (the collector answers 403): the page says so.
 */
import { createSignal, For, Show, type JSX } from 'solid-js';
import { ApiError } from '../api/client.js';
import type { Preferences } from '../api/types.js';
import { useToasts } from '../components/toasts.jsx';
import { useApp } from '../context.jsx';
import { RELATIVE_RANGES } from '../time/range.js';
import { avatarProblem, loadPreferences, timeZones } from './preferences.data.js';

export default function PreferencesPage(): JSX.Element {
  const app = useApp();
  const toasts = useToasts();
  const data = loadPreferences(app);
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  async function save(e: SubmitEvent, current: Preferences): Promise<void> {
    e.preventDefault();
    const form = new FormData(e.currentTarget as HTMLFormElement);
    const change = {
      theme: String(form.get('theme')) as Preferences['theme'],
      timeZone: String(form.get('timeZone')),
      // The select offers the range picker's keys; the collector checks the value and names a bad one.
      defaultRange: String(form.get('defaultRange')) as Preferences['defaultRange'],
      pageSize: Number(form.get('pageSize')),
    };
    setBusy(true);
    setError(null);
    try {
      const saved = await app.api.savePreferences(change);
      app.preferences.set({ ...current, ...saved });
      toasts.show({ kind: 'success', text: 'Preferences saved.' });
    } catch (err) {
      setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  async function upload(file: File | undefined): Promise<void> {
    if (!file) return;
    const problem = avatarProblem(file);
    if (problem) {
      setError(problem);
      return;
    }
    try {
      await app.api.uploadAvatar(file);
      await data.refetch();
      toasts.show({ kind: 'success', text: 'Avatar updated.' });
    } catch (err) {
      setError((err as Error).message);
    }
  }

  async function removeAvatar(): Promise<void> {
    try {
      await app.api.deleteAvatar();
      await data.refetch();
      toasts.show({ kind: 'success', text: 'Avatar removed.' });
    } catch (err) {
      setError((err as Error).message);
    }
  }

  const forbidden = () => data.prefs.error instanceof ApiError && [401, 403].includes((data.prefs.error as ApiError).status);

  return (
    <section aria-labelledby="prefs-title">
      <h1 id="prefs-title">Preferences</h1>
      <Show when={forbidden()}>
        <p class="notice">An API token has no preferences: sign in with a user account to keep your own.</p>
      </Show>
      <Show when={data.prefs.error && !forbidden()}>
        <p role="alert">Could not load your preferences: {(data.prefs.error as Error).message}</p>
      </Show>
      <Show when={data.prefs.latest}>
        {(p) => (
          <>
            <form class="card prefs-form" onSubmit={(e) => void save(e, p())}>
              <label for="pref-theme">Theme</label>
              <select id="pref-theme" name="theme">
                <option value="system" selected={p().theme === 'system'}>
                  Follow the system
                </option>
                <option value="light" selected={p().theme === 'light'}>
                  Light
                </option>
                <option value="dark" selected={p().theme === 'dark'}>
                  Dark
                </option>
              </select>
              <label for="pref-tz">Time zone</label>
              <select id="pref-tz" name="timeZone">
                <For each={timeZones(p().timeZone)}>
                  {(tz) => (
                    <option value={tz} selected={tz === p().timeZone}>
                      {tz}
                    </option>
                  )}
                </For>
              </select>
              <label for="pref-range">Default time range</label>
              <select id="pref-range" name="defaultRange">
                <For each={RELATIVE_RANGES}>
                  {(r) => (
                    <option value={r.key} selected={r.key === p().defaultRange}>
                      {r.label}
                    </option>
                  )}
                </For>
              </select>
              <label for="pref-page">Rows per page</label>
              <input id="pref-page" name="pageSize" type="number" min="10" max="500" step="10" value={p().pageSize} />
              <button type="submit" class="primary" disabled={busy()}>
                Save
              </button>
            </form>
            <div class="card prefs-avatar">
              <h2>Avatar</h2>
              <Show when={p().avatar} fallback={<p class="muted">No avatar.</p>}>
                {(src) => <img src={src()} alt="Your avatar" width="64" height="64" />}
              </Show>
              <label for="pref-avatar">Upload an image (PNG, JPEG or WebP, at most 256 KB)</label>
              <input id="pref-avatar" type="file" accept="image/png,image/jpeg,image/webp" onChange={(e) => void upload(e.currentTarget.files?.[0])} />
              <Show when={p().avatar}>
                <button type="button" onClick={() => void removeAvatar()}>
                  Remove avatar
                </button>
              </Show>
            </div>
          </>
        )}
      </Show>
      <p class="field-error" role="alert">
        {error() ?? ''}
      </p>
    </section>
  );
}
