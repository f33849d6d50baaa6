/**
 * The login page: labelled inputs, the API-token path, and what each refusal says. The session is
 * real; its login calls are answered per the users-and-roles contract (the collector has no
 * POST /login yet — the e2e test signs in against the real collector with an API token).
 */
import { Route, Router } from '@solidjs/router';
import { fireEvent, render, screen, waitFor } from '@solidjs/testing-library';
import { describe, expect, test } from 'vitest';
import { ApiError } from '../api/client.js';
import type { LoginResult } from '../api/types.js';
import { AppContext, type AppServices } from '../context.jsx';
import { createSession } from '../state/session.js';
import { LoginPage } from './login.jsx';
import { safeNext } from './login.data.js';

function setup(answer: () => Promise<LoginResult>, tokenOk = true) {
  const storage = new Map<string, string>();
  const session = createSession({
    storage: { getItem: (k) => storage.get(k) ?? null, setItem: (k, v) => void storage.set(k, v), removeItem: (k) => void storage.delete(k) },
    api: {
      login: answer,
      refresh: () => Promise.reject(new ApiError('no', 401, 'unauthenticated')),
      logout: () => Promise.resolve(),
      me: () =>
        tokenOk
          ? Promise.resolve({ id: 'token:7', username: 'grafana', role: 'viewer' as const, kind: 'api-token' as const })
          : Promise.reject(new ApiError('invalid token', 401, 'unauthenticated')),
    },
  });
  const services = { session } as unknown as AppServices;
  render(() => (
    <AppContext.Provider value={services}>
      <Router>
        <Route path="*" component={LoginPage} />
      </Router>
    </AppContext.Provider>
  ));
  return { session };
}

function labelledInputs(): void {
  for (const el of Array.from(document.querySelectorAll('input, select, textarea'))) {
    expect((el as HTMLInputElement).labels?.length ?? 0, el.outerHTML).toBeGreaterThan(0);
  }
}

describe('login page', () => {
  test('every input is labelled, in both modes', () => {
    setup(() => Promise.reject(new Error('unused')));
    expect(screen.getByLabelText('Username')).toBeTruthy();
    expect(screen.getByLabelText('Password').getAttribute('type')).toBe('password');
    labelledInputs();
    fireEvent.click(screen.getByRole('button', { name: 'Sign in with API token' }));
    expect(screen.getByLabelText('API token')).toBeTruthy();
    labelledInputs();
  });

  test('wrong credentials and throttling are explained; what was typed stays', async () => {
    let calls = 0;
    setup(() => {
      calls += 1;
      return Promise.reject(calls === 1 ? new ApiError('bad', 401, 'unauthenticated') : new ApiError('slow down', 429, 'throttled', 30));
    });
    fireEvent.input(screen.getByLabelText('Username'), { target: { value: 'ana' } });
    fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'guess' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('Wrong username or password.'));
    expect((screen.getByLabelText('Username') as HTMLInputElement).value).toBe('ana');
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('Too many sign-in attempts. Try again in 30 s.'));
  });

  test('a collector without user accounts points to the API token', async () => {
    setup(() => Promise.reject(new ApiError('no route for POST /api/v1/login', 404, 'not_found')));
    fireEvent.input(screen.getByLabelText('Username'), { target: { value: 'admin' } });
    fireEvent.input(screen.getByLabelText('Password'), { target: { value: 'x' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toMatch(/sign in with an API token/));
  });

  test('an API token that the collector refuses says so', async () => {
    const { session } = setup(() => Promise.reject(new Error('unused')), false);
    fireEvent.click(screen.getByRole('button', { name: 'Sign in with API token' }));
    fireEvent.input(screen.getByLabelText('API token'), { target: { value: 'pmt_wrong' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(screen.getByRole('alert').textContent).toBe('this API token is not valid'));
    expect(session.token()).toBeNull();
  });

  test('after sign-in only same-origin paths are followed', () => {
    expect(safeNext('/sensors/a?x=1')).toBe('/sensors/a?x=1');
    expect(safeNext('//evil.example/')).toBe('/');
    expect(safeNext('https://evil.example/')).toBe('/');
    expect(safeNext('/login?next=/x')).toBe('/');
    expect(safeNext(undefined)).toBe('/');
  });
});
