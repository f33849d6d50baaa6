/**
 * Sign-in: username and password (POST /api/v1/login), or — for integrators and until user
 * accounts exist — "Sign in with API token" (kept for this browser tab only). Errors are shown in
 * an alert beside the form and nothing typed is lost; a throttled login (429) says when to retry.
 */
import { useNavigate, useSearchParams } from '@solidjs/router';
import { createSignal, Match, Show, Switch, type JSX } from 'solid-js';
import { ApiError } from '../api/client.js';
import { useApp } from '../context.jsx';
import { retryMessage, safeNext } from './login.data.js';

export function LoginPage(): JSX.Element {
  const { session } = useApp();
  const navigate = useNavigate();
  const [params] = useSearchParams<{ next?: string; method?: string }>();
  const [method, setMethod] = createSignal<'password' | 'token'>(params.method === 'token' ? 'token' : 'password');
  const [username, setUsername] = createSignal('');
  const [password, setPassword] = createSignal('');
  const [token, setToken] = createSignal('');
  const [error, setError] = createSignal<string | null>(null);
  const [busy, setBusy] = createSignal(false);

  const notices = {
    expired: 'Your session has expired. Please sign in again.',
    revoked: 'Your session was ended. Please sign in again.',
    logout: 'You are signed out.',
  };
  const notice = () => {
    const reason = session.signedOut();
    return reason ? notices[reason] : null;
  };

  async function submit(e: Event): Promise<void> {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      if (method() === 'password') await session.login(username().trim(), password());
      else await session.loginWithApiToken(token());
      navigate(safeNext(params.next), { replace: true });
    } catch (err) {
      if (err instanceof ApiError && err.status === 429) setError(retryMessage(err.retryAfter));
      else if (err instanceof ApiError && err.status === 401) setError(method() === 'password' ? 'Wrong username or password.' : err.message);
      else if (err instanceof ApiError && err.status === 404 && method() === 'password')
        setError('This collector has no user accounts yet: sign in with an API token.');
      else setError((err as Error).message);
    } finally {
      setBusy(false);
    }
  }

  return (
    <main id="main" class="login">
      <h1>pcapmesh</h1>
      <form class="card login-form" onSubmit={(e) => void submit(e)} aria-describedby="login-error">
        <h2>{method() === 'password' ? 'Sign in' : 'Sign in with an API token'}</h2>
        <Show when={notice()}>
          <p class="notice" role="status">
            {notice()}
          </p>
        </Show>
        <Switch>
          <Match when={method() === 'password'}>
            <label for="login-username">Username</label>
            <input
              id="login-username"
              name="username"
              autocomplete="username"
              required
              value={username()}
              onInput={(e) => setUsername(e.currentTarget.value)}
            />
            <label for="login-password">Password</label>
            <input
              id="login-password"
              name="password"
              type="password"
              autocomplete="current-password"
              required
              value={password()}
              onInput={(e) => setPassword(e.currentTarget.value)}
            />
          </Match>
          <Match when={method() === 'token'}>
            <label for="login-token">API token</label>
            <input id="login-token" name="token" type="password" autocomplete="off" required value={token()} onInput={(e) => setToken(e.currentTarget.value)} />
            <p class="hint">The collector writes its token to &lt;dataDir&gt;/api-token at first start.</p>
          </Match>
        </Switch>
        <p id="login-error" class="field-error" role="alert">
          {error() ?? ''}
        </p>
        <button type="submit" class="primary" disabled={busy()}>
          {busy() ? 'Signing in…' : 'Sign in'}
        </button>
        <button
          type="button"
          class="link-button"
          onClick={() => {
            setError(null);
            setMethod(method() === 'password' ? 'token' : 'password');
          }}
        >
          {method() === 'password' ? 'Sign in with API token' : 'Sign in with username and password'}
        </button>
      </form>
    </main>
  );
}
