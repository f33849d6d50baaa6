/**
 * The live feed: one WebSocket to `/api/v1/ws` that reconnects with exponential backoff and hands
 * every frame to `onMessage`. State is a signal ('connecting' | 'open' | 'closed') for the UI.
 *
 * Contract:
 * - authenticates with the sub-protocols `pcapmesh.v1, bearer.<token>` (browsers cannot set headers);
 * - after any close it reconnects after `backoff(attempt)` ms (0.5 s doubling to 10 s, ±20 % jitter),
 *   reading a fresh token each time; a successful open resets the attempt counter;
 * - every (re)open delivers the server's `hello` first: consumers reload their snapshot on it, so
 *   nothing missed while disconnected stays missing;
 * - frames that are not JSON objects with a `type` are counted in `dropped`, never thrown;
 * - `close()` stops for good.
 *
 * @example
 *   const feed = createLiveFeed({ token: () => session.token(), onMessage: (m) => fleet.apply(m) });
 *   feed.state(); // 'open'
 */
import { createSignal, getOwner, onCleanup, type Accessor } from 'solid-js';
import type { LiveMessage } from './types.js';

export type LiveState = 'connecting' | 'open' | 'closed';

export interface LiveFeedOptions {
  token: () => string | null;
  onMessage: (message: LiveMessage) => void;
  /** Default: ws(s)://<this host>/api/v1/ws. */
  url?: string;
  backoff?: (attempt: number) => number;
  /** For tests: a WebSocket constructor. */
  WebSocket?: typeof WebSocket;
}

export interface LiveFeed {
  state: Accessor<LiveState>;
  /** Frames received, frames dropped as malformed, reconnect attempts, socket errors. */
  counters: { received: number; dropped: number; reconnects: number; errors: number };
  close(): void;
}

export const LIVE_PROTOCOL = 'pcapmesh.v1';

export function defaultBackoff(attempt: number): number {
  const base = Math.min(10_000, 500 * 2 ** attempt);
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

function defaultUrl(): string {
  const { protocol, host } = window.location;
  return `${protocol === 'https:' ? 'wss' : 'ws'}://${host}/api/v1/ws`;
}

export function createLiveFeed(opts: LiveFeedOptions): LiveFeed {
  const Ws = opts.WebSocket ?? WebSocket;
  const backoff = opts.backoff ?? defaultBackoff;
  const [state, setState] = createSignal<LiveState>('connecting');
  const counters = { received: 0, dropped: 0, reconnects: 0, errors: 0 };
  let socket: WebSocket | undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let attempt = 0;
  let stopped = false;

  function connect(): void {
    if (stopped) return;
    setState('connecting');
    const token = opts.token();
    const protocols = token ? [LIVE_PROTOCOL, `bearer.${token}`] : [LIVE_PROTOCOL];
    const ws = new Ws(opts.url ?? defaultUrl(), protocols);
    socket = ws;
    ws.onopen = () => {
      attempt = 0;
      setState('open');
    };
    ws.onmessage = (event: MessageEvent) => {
      let message: unknown;
      try {
        message = JSON.parse(String(event.data));
      } catch {
        counters.dropped += 1;
        return;
      }
      if (typeof message !== 'object' || message === null || typeof (message as { type?: unknown }).type !== 'string') {
        counters.dropped += 1;
        return;
      }
      counters.received += 1;
      opts.onMessage(message as LiveMessage);
    };
    // A failed connection fires error, then close: the close handler retries.
    ws.onerror = () => {
      counters.errors += 1;
    };
    ws.onclose = () => {
      if (socket !== ws) return;
      socket = undefined;
      setState('closed');
      if (stopped) return;
      counters.reconnects += 1;
      timer = setTimeout(connect, backoff(attempt++));
    };
  }

  const feed: LiveFeed = {
    state,
    counters,
    close() {
      stopped = true;
      clearTimeout(timer);
      const ws = socket;
      socket = undefined;
      ws?.close(1000, 'bye');
      setState('closed');
    },
  };
  connect();
  if (getOwner()) onCleanup(() => feed.close());
  return feed;
}
