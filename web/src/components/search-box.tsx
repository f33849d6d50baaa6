/**
 * The header's search box (GET /search): "/" anywhere outside a text field focuses it; typing
 * searches after a short pause (stale answers dropped); the results, grouped by kind, open below as
 * links; Escape closes them. An IP address or network seen by sensors offers "Capture this": the
 * job form filled in with the address's filter, the sensors that saw it and when.
 */
import { A, useNavigate } from '@solidjs/router';
import { createSignal, For, onCleanup, onMount, Show, type JSX } from 'solid-js';
import type { SearchView } from '../api/types.js';
import { useApp } from '../context.jsx';
import { captureHref, searchGroups } from '../search/groups.js';

const DEBOUNCE_MS = 250;

/** True when the key event was typed into an editable element (then "/" is just a character). */
function typing(e: KeyboardEvent): boolean {
  const t = e.target as HTMLElement | null;
  return !!t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName));
}

export function SearchResults(props: { view: SearchView; onPick: () => void }): JSX.Element {
  const groups = () => searchGroups(props.view);
  const address = () => props.view.address;
  return (
    <div class="search-results" data-search-results>
      <Show when={groups().length > 0} fallback={<p>Nothing matches “{props.view.q}”.</p>}>
        <For each={groups()}>
          {(g) => (
            <section aria-label={g.title} data-kind={g.kind}>
              <h2>{g.title}</h2>
              <ul>
                <For each={g.items}>
                  {(item) => (
                    <li data-key={item.key}>
                      <A href={item.href} onClick={() => props.onPick()}>
                        {item.label}
                      </A>{' '}
                      <span class="detail">{item.detail}</span>
                    </li>
                  )}
                </For>
              </ul>
              <Show when={g.kind === 'address' && address()?.jobRequest}>
                {(req) => (
                  <A
                    class="button primary"
                    href={captureHref(req(), address()!.host ? address()!.query.replace(/\/(32|128)$/, '') : null)}
                    onClick={() => props.onPick()}
                  >
                    Capture this
                  </A>
                )}
              </Show>
            </section>
          )}
        </For>
      </Show>
    </div>
  );
}

export function SearchBox(): JSX.Element {
  const app = useApp();
  const navigate = useNavigate();
  let input!: HTMLInputElement;
  const [result, setResult] = createSignal<SearchView | null>(null);
  const [error, setError] = createSignal<string | null>(null);
  const [open, setOpen] = createSignal(false);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let seq = 0;

  onMount(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === '/' && !e.ctrlKey && !e.metaKey && !e.altKey && !typing(e)) {
        e.preventDefault();
        input.focus();
        input.select();
      }
    };
    window.addEventListener('keydown', onKey);
    onCleanup(() => {
      window.removeEventListener('keydown', onKey);
      clearTimeout(timer);
    });
  });

  function search(q: string): void {
    clearTimeout(timer);
    const mine = ++seq;
    if (!q.trim()) {
      setResult(null);
      setError(null);
      return;
    }
    timer = setTimeout(() => {
      app.api.search(q.trim()).then(
        (r) => {
          if (mine !== seq) return;
          setResult(r);
          setError(null);
          setOpen(true);
        },
        (err: Error) => {
          if (mine !== seq) return;
          setError(err.message);
          setOpen(true);
        },
      );
    }, DEBOUNCE_MS);
  }

  function close(): void {
    setOpen(false);
  }

  return (
    <div class="search-box" role="search" onKeyDown={(e) => e.key === 'Escape' && close()}>
      <label for="global-search" class="visually-hidden">
        Search (press /)
      </label>
      <input
        id="global-search"
        ref={input}
        type="search"
        placeholder="Search… ( / )"
        autocomplete="off"
        aria-keyshortcuts="/"
        onInput={(e) => search(e.currentTarget.value)}
        onFocus={() => result() && setOpen(true)}
        onKeyDown={(e) => {
          if (e.key === 'Enter') {
            const first = result() && searchGroups(result()!)[0]?.items[0];
            if (first) {
              navigate(first.href);
              close();
            }
          }
        }}
      />
      <Show when={open() && (result() || error())}>
        <div class="search-popup">
          <Show when={error()}>
            <p role="alert">Search failed: {error()}</p>
          </Show>
          <Show when={!error() && result()}>{(r) => <SearchResults view={r()} onPick={close} />}</Show>
          <button type="button" class="close" onClick={close}>
            Close
          </button>
        </div>
      </Show>
    </div>
  );
}
