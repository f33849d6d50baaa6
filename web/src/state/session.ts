/**
 * The signed-in session: who the user is, the bearer token the API client and live feed present,
 * and the timeout policy.
 *
 * Two kinds of session:
 * - 'user': from POST /login (or /refresh with the httpOnly cookie). The access token expires after
 *   `expiresIn` s. `warnBeforeMs` before expiry the session refreshes silently when the user was
 *   active since the token was issued, otherwise it raises `expiring` (the shell shows a dialog
 *   whose "Stay signed in" calls `refresh()`); at expiry it signs out with reason 'expired'.
 * - 'api-token': an integrator's bearer API token, kept in sessionStorage for this tab only; it
 *   does not expire and cannot be refreshed. Each token carries a role (admin, analyst or viewer,
 *   chosen when an admin created it): GET /me tells which, and the session's user is the token's
 *   label with that role, so the dashboard shows what the token may reach.
 *
 * `refresh()` never runs twice at once and resolves false (never throws) when renewal fails.
 */
import { batch, createSignal } from 'solid-js';
import { ApiError, type ApiClient } from '../api/client.js';
import type { LoginResult, Me, SessionUser, User } from '../api/types.js';

export type SessionKind = 'user' | 'api-token';
export type SignOutReason = 'logout' | 'expired' | 'revoked';

export const API_TOKEN_KEY = 'pcapmesh.apiToken';

export interface SessionOptions {
  api: Pick<ApiClient, 'login' | 'refresh' | 'logout' | 'me'>;
  storage?: Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;
  now?: () => number;
  /** How long before expiry to refresh or warn. Default 60 s. */
  warnBeforeMs?: number;
}

export type Session = ReturnType<typeof createSession>;

export function createSession(opts: SessionOptions) {
  const now = opts.now ?? Date.now;
  const storage = opts.storage ?? window.sessionStorage;
  const warnBeforeMs = opts.warnBeforeMs ?? 60_000;
  const [token, setToken] = createSignal<string | null>(null);
  const [user, setUser] = createSignal<SessionUser | null>(null);
  const [kind, setKind] = createSignal<SessionKind | null>(null);
  const [expiresAt, setExpiresAt] = createSignal<number | null>(null);
  const [expiring, setExpiring] = createSignal(false);
  const [signedOut, setSignedOut] = createSignal<SignOutReason | null>(null);
  let activeSinceIssue = false;
  let timers: ReturnType<typeof setTimeout>[] = [];
  let pending: Promise<boolean> | null = null;

  function clearTimers(): void {
    for (const t of timers) clearTimeout(t);
    timers = [];
  }

  /**
   * Takes a login or refresh answer. The answer names the user but not the principal id jobs are
   * owned by: a refresh for the same user keeps the id already known; otherwise `learnId()` asks.
   */
  function adopt(result: LoginResult): void {
    clearTimers();
    const expires = now() + result.expiresIn * 1000;
    const known = user();
    const id = known?.id !== undefined && known.username === result.user.username ? known.id : undefined;
    batch(() => {
      setToken(result.accessToken);
      setUser(id === undefined ? { ...result.user } : { ...result.user, id });
      setKind('user');
      setExpiresAt(expires);
      setExpiring(false);
      setSignedOut(null);
    });
    activeSinceIssue = false;
    const untilWarn = Math.max(0, expires - warnBeforeMs - now());
    timers.push(
      setTimeout(() => {
        if (activeSinceIssue) void refresh();
        else setExpiring(true);
      }, untilWarn),
      setTimeout(() => clear('expired'), Math.max(0, expires - now())),
    );
  }

  function clear(reason: SignOutReason): void {
    clearTimers();
    storage.removeItem(API_TOKEN_KEY);
    batch(() => {
      setToken(null);
      setUser(null);
      setKind(null);
      setExpiresAt(null);
      setExpiring(false);
      setSignedOut(reason);
    });
  }

  /**
   * GET /me for the principal id of a signed-in user (what ownsJob compares). Never throws: without
   * the id the dashboard offers no owner-only action (the collector decides anyway), and the next
   * refresh asks again.
   */
  async function learnId(): Promise<void> {
    const current = user();
    if (current === null || current.id !== undefined) return;
    let me: Me;
    try {
      me = await opts.api.me();
    } catch {
      return;
    }
    const signedIn = user();
    if (signedIn !== null && signedIn.id === undefined && signedIn.username === me.username) setUser({ ...signedIn, id: me.id });
  }

  async function login(username: string, password: string): Promise<User> {
    const result = await opts.api.login(username, password);
    adopt(result);
    await learnId();
    return result.user;
  }

  /** Checks the token against the API (GET /me, which also gives its label and role) before keeping it. */
  async function loginWithApiToken(apiToken: string): Promise<void> {
    const trimmed = apiToken.trim();
    if (trimmed === '') throw new ApiError('enter an API token', 400, 'invalid');
    setToken(trimmed);
    let me: Me;
    try {
      me = await opts.api.me();
    } catch (err) {
      setToken(null);
      if (err instanceof ApiError && err.status === 401) throw new ApiError('this API token is not valid', 401, 'unauthenticated');
      throw err;
    }
    storage.setItem(API_TOKEN_KEY, trimmed);
    clearTimers();
    batch(() => {
      setUser({ username: me.username, role: me.role, id: me.id });
      setKind('api-token');
      setExpiresAt(null);
      setSignedOut(null);
    });
  }

  function refresh(): Promise<boolean> {
    if (kind() === 'api-token') return Promise.resolve(false);
    pending ??= opts.api
      .refresh()
      .then(async (result) => {
        adopt(result);
        await learnId();
        return true;
      })
      .catch((err: unknown) => {
        // Signed in and the renewal was refused: the session is over. Network trouble keeps it.
        if (kind() === 'user' && err instanceof ApiError && err.status === 401) clear('revoked');
        return false;
      })
      .finally(() => {
        pending = null;
      });
    return pending;
  }

  /** At start: an API token of this tab, else a refresh cookie; otherwise stays signed out. */
  async function restore(): Promise<void> {
    const saved = storage.getItem(API_TOKEN_KEY);
    if (saved) {
      try {
        await loginWithApiToken(saved);
        return;
      } catch {
        storage.removeItem(API_TOKEN_KEY);
      }
    }
    await refresh();
  }

  async function logout(): Promise<void> {
    try {
      if (kind() === 'user') await opts.api.logout();
    } finally {
      clear('logout');
    }
  }

  return {
    token,
    user,
    kind,
    expiresAt,
    /** True when the access token expires soon and the user has been idle. */
    expiring,
    /** Why the last session ended (null while signed in or never signed in). */
    signedOut,
    login,
    loginWithApiToken,
    refresh,
    restore,
    logout,
    /** Call on user input: the next renewal happens silently. */
    noteActivity(): void {
      activeSinceIssue = true;
    },
  };
}
