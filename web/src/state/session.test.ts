/**
 * Session timeout policy. POST /login, /refresh and /logout are answered here as the collector's
 * contract says (LoginResult, 401 ApiError), so the timing can be driven; the real routes are
 * exercised in api/client.test.ts and the e2e test.
 */
import { createRoot } from 'solid-js';
import { afterEach, beforeEach, describe, expect, test, vi } from 'vitest';
import { ApiError } from '../api/client.js';
import type { LoginResult } from '../api/types.js';
import { API_TOKEN_KEY, createSession } from './session.js';

function memoryStorage() {
  const m = new Map<string, string>();
  return { getItem: (k: string) => m.get(k) ?? null, setItem: (k: string, v: string) => void m.set(k, v), removeItem: (k: string) => void m.delete(k), m };
}

function contract(opts: { password?: string; refreshOk?: () => boolean; token?: string; meFails?: () => boolean } = {}) {
  let issued = 0;
  let signedIn = false;
  const calls: string[] = [];
  const result = (): LoginResult => ({ accessToken: `jwt-${++issued}`, expiresIn: 900, user: { username: 'ana', role: 'analyst' } });
  return {
    calls,
    api: {
      async login(_u: string, p: string) {
        calls.push('login');
        if (p !== (opts.password ?? 'right')) throw new ApiError('wrong username or password', 401, 'unauthenticated');
        signedIn = true;
        return result();
      },
      async refresh() {
        calls.push('refresh');
        if (opts.refreshOk && !opts.refreshOk()) throw new ApiError('refresh token expired', 401, 'unauthenticated');
        signedIn = true;
        return result();
      },
      async logout() {
        calls.push('logout');
      },
      /** ana's session (after login or refresh), else the API token labelled grafana. */
      async me() {
        calls.push('me');
        if (opts.meFails?.()) throw new ApiError('GET /me: the collector cannot be reached', 0, 'network');
        return signedIn
          ? { id: 'user:1', username: 'ana', role: 'analyst' as const, kind: 'user' as const }
          : { id: 'token:7', username: 'grafana', role: 'viewer' as const, kind: 'api-token' as const };
      },
    },
  };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('session', () => {
  test('login adopts the token; an idle user is warned 60 s before expiry and signed out at expiry', async () => {
    const { api } = contract();
    const s = createRoot(() => createSession({ api, storage: memoryStorage() }));
    await s.login('ana', 'right');
    expect(s.token()).toBe('jwt-1');
    expect(s.user()).toEqual({ username: 'ana', role: 'analyst', id: 'user:1' });
    vi.advanceTimersByTime(839_000);
    expect(s.expiring()).toBe(false);
    vi.advanceTimersByTime(2_000);
    expect(s.expiring()).toBe(true);
    vi.advanceTimersByTime(60_000);
    expect(s.token()).toBeNull();
    expect(s.signedOut()).toBe('expired');
  });

  test('an active user is refreshed silently; "stay signed in" refreshes too', async () => {
    const { api, calls } = contract();
    const s = createRoot(() => createSession({ api, storage: memoryStorage() }));
    await s.login('ana', 'right');
    s.noteActivity();
    await vi.advanceTimersByTimeAsync(841_000);
    expect(calls).toEqual(['login', 'me', 'refresh']); // the refresh keeps the principal id: no second GET /me
    expect(s.token()).toBe('jwt-2');
    expect(s.expiring()).toBe(false);
    // Idle now: warned, then the dialog's button refreshes.
    await vi.advanceTimersByTimeAsync(841_000);
    expect(s.expiring()).toBe(true);
    expect(await s.refresh()).toBe(true);
    expect(s.token()).toBe('jwt-3');
    expect(s.expiring()).toBe(false);
  });

  test('concurrent refreshes share one request; a refused refresh ends the session', async () => {
    let ok = true;
    const { api, calls } = contract({ refreshOk: () => ok });
    const s = createRoot(() => createSession({ api, storage: memoryStorage() }));
    await s.login('ana', 'right');
    const [a, b] = await Promise.all([s.refresh(), s.refresh()]);
    expect([a, b]).toEqual([true, true]);
    expect(calls.filter((c) => c === 'refresh')).toHaveLength(1);
    ok = false;
    expect(await s.refresh()).toBe(false);
    expect(s.token()).toBeNull();
    expect(s.signedOut()).toBe('revoked');
  });

  test('wrong password: the error propagates, nothing is kept', async () => {
    const { api } = contract();
    const s = createRoot(() => createSession({ api, storage: memoryStorage() }));
    await expect(s.login('ana', 'wrong')).rejects.toMatchObject({ status: 401 });
    expect(s.token()).toBeNull();
  });

  test('an API token is checked, kept for this tab, restored, never refreshed, and dropped at logout', async () => {
    const { api, calls } = contract();
    const storage = memoryStorage();
    const s = createRoot(() => createSession({ api, storage }));
    await expect(s.loginWithApiToken('   ')).rejects.toThrow(/enter an API token/);
    await s.loginWithApiToken(' pmt_abc ');
    expect(s.kind()).toBe('api-token');
    expect(s.user()).toEqual({ username: 'grafana', role: 'viewer', id: 'token:7' }); // the token's label, role and principal id
    expect(storage.m.get(API_TOKEN_KEY)).toBe('pmt_abc');
    expect(await s.refresh()).toBe(false);

    const again = createRoot(() => createSession({ api, storage }));
    await again.restore();
    expect(again.token()).toBe('pmt_abc');

    await again.logout();
    expect(storage.m.has(API_TOKEN_KEY)).toBe(false);
    expect(again.signedOut()).toBe('logout');
    expect(calls).not.toContain('logout'); // nothing to revoke for an API token
  });

  test('the principal id (what owns jobs) comes from GET /me; a failed /me leaves it unknown and the next refresh asks again', async () => {
    let down = true;
    const { api, calls } = contract({ meFails: () => down });
    const s = createRoot(() => createSession({ api, storage: memoryStorage() }));
    await s.login('ana', 'right');
    expect(s.token()).toBe('jwt-1'); // signed in all the same
    expect(s.user()).toEqual({ username: 'ana', role: 'analyst' });
    down = false;
    expect(await s.refresh()).toBe(true);
    expect(s.user()).toEqual({ username: 'ana', role: 'analyst', id: 'user:1' });
    expect(await s.refresh()).toBe(true);
    expect(calls).toEqual(['login', 'me', 'refresh', 'me', 'refresh']);
  });
});
