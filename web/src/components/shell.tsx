/**
 * The signed-in frame: skip link, header (brand, role-filtered navigation, live-feed state, user
 * and sign-out), the page, and the session-expiry dialog (a warning before the access token
 * expires when the user has been idle; "Stay signed in" refreshes it). User input anywhere counts
 * as activity, so active users are refreshed silently.
 */
import { A, useNavigate } from '@solidjs/router';
import { For, onCleanup, onMount, Show, type JSX } from 'solid-js';
import { useApp } from '../context.jsx';
import { navFor } from '../nav.js';
import { Modal } from './modal.jsx';
import { SearchBox } from './search-box.jsx';
import { useToasts } from './toasts.jsx';

const ACTIVITY_EVENTS = ['pointerdown', 'keydown', 'wheel', 'touchstart'] as const;

export function Shell(props: { children?: JSX.Element }): JSX.Element {
  const { session, live } = useApp();
  const toasts = useToasts();
  const navigate = useNavigate();

  onMount(() => {
    const note = () => session.noteActivity();
    for (const e of ACTIVITY_EVENTS) window.addEventListener(e, note, { passive: true });
    onCleanup(() => {
      for (const e of ACTIVITY_EVENTS) window.removeEventListener(e, note);
    });
  });

  async function signOut(): Promise<void> {
    try {
      await session.logout();
      toasts.show({ kind: 'success', text: 'Signed out.' });
    } catch (err) {
      toasts.show({ kind: 'error', text: `Signed out locally; the collector did not confirm: ${(err as Error).message}` });
    }
    navigate('/login', { replace: true });
  }

  const liveLabel = () => ({ open: 'Live', connecting: 'Connecting…', closed: 'Offline — reconnecting' })[live()?.state() ?? 'closed'];

  return (
    <div class="shell">
      <a class="skip-link" href="#main">
        Skip to content
      </a>
      <header class="topbar">
        <A href="/" class="brand" end>
          pcapmesh
        </A>
        <nav aria-label="Main">
          <ul>
            <For each={navFor(session.user()?.role ?? 'viewer')}>
              {(item) => (
                <li>
                  <A href={item.href} end={item.href === '/'} activeClass="active">
                    {item.label}
                  </A>
                </li>
              )}
            </For>
          </ul>
        </nav>
        <SearchBox />
        <span class={`live-state live-${live()?.state() ?? 'closed'}`} role="status" data-live={live()?.state() ?? 'closed'}>
          {liveLabel()}
        </span>
        <span class="user">
          <Show when={session.kind() === 'user'} fallback={session.user()?.username}>
            <A href="/preferences" title="Preferences">
              {session.user()?.username}
            </A>
          </Show>{' '}
          <span class="role">({session.user()?.role})</span>
        </span>
        <button type="button" onClick={() => void signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" tabindex="-1">
        {props.children}
      </main>
      <Modal
        open={session.expiring()}
        title="Your session is about to end"
        onClose={() => void session.refresh()}
        actions={
          <>
            <button type="button" onClick={() => void signOut()}>
              Sign out
            </button>
            <button type="button" class="primary" onClick={() => void session.refresh()}>
              Stay signed in
            </button>
          </>
        }
      >
        <Show when={session.expiresAt()}>{(at) => <p>You will be signed out at {new Date(at()).toLocaleTimeString()} unless you stay signed in.</p>}</Show>
      </Modal>
    </div>
  );
}
