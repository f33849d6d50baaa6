// @vitest-environment node
/**
 * The live feed against the collector's real WebSocket endpoint (real HTTP server on a loopback
 * port, real token check), with the `ws` client as the browser's WebSocket.
 */
import { pino } from 'pino';
import { createRoot } from 'solid-js';
import { afterAll, beforeAll, expect, test } from 'vitest';
import WebSocket from 'ws';
import { createTestHttp, type TestHttp } from '../../../collector/src/http/app.fixture.js';
import { startHttpServer, type HttpServer } from '../../../collector/src/http/server.js';
import { createLiveFeed, defaultBackoff, type LiveFeed } from './live.js';
import type { LiveMessage } from './types.js';

let t: TestHttp;
let server: HttpServer;
const log = pino({ level: 'silent' });

beforeAll(async () => {
  t = await createTestHttp();
  server = await startHttpServer(t.app, { host: '127.0.0.1', port: 0, log });
}, 60_000);
afterAll(async () => {
  await server?.close();
  await t?.close();
});

async function until(cond: () => boolean, what: string, ms = 5_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

function open(messages: LiveMessage[], token: () => string | null, backoffMs = 50): { feed: LiveFeed; dispose: () => void } {
  let feed!: LiveFeed;
  const dispose = createRoot((d) => {
    feed = createLiveFeed({
      url: `${server.url.replace('http', 'ws')}/api/v1/ws`,
      token,
      onMessage: (m) => messages.push(m),
      backoff: () => backoffMs,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    });
    return d;
  });
  return { feed, dispose };
}

test('delivers hello, then events; disposing closes the socket for good', async () => {
  const messages: LiveMessage[] = [];
  const { feed, dispose } = open(messages, () => t.token);
  await until(() => feed.state() === 'open' && messages.length === 1, 'open + hello');
  expect(messages[0]?.type).toBe('hello');
  expect(t.counters.liveFeed.clients).toBe(1);

  t.events.emit('sensor.status', {
    type: 'sensor.status',
    sensor: 'edge-1',
    status: 'online',
    previous: 'unknown',
    reason: 'birth',
    at: new Date().toISOString(),
  });
  await until(() => messages.length === 2, 'status event');
  expect(messages[1]).toMatchObject({ type: 'sensor.status', sensor: 'edge-1', status: 'online' });

  dispose();
  expect(feed.state()).toBe('closed');
  await until(() => t.counters.liveFeed.clients === 0, 'the server sees the client go');
  t.events.emit('sensor.status', {
    type: 'sensor.status',
    sensor: 'edge-1',
    status: 'offline',
    previous: 'online',
    reason: 'last will',
    at: new Date().toISOString(),
  });
  await new Promise((r) => setTimeout(r, 100));
  expect(messages).toHaveLength(2);
});

test('a refused token keeps retrying without delivering anything', async () => {
  const messages: LiveMessage[] = [];
  const { feed, dispose } = open(messages, () => 'pmt_not-the-token-not-the-token', 20);
  await until(() => feed.counters.reconnects >= 2, 'two failed attempts');
  expect(messages).toEqual([]);
  expect(feed.counters.errors).toBeGreaterThanOrEqual(2);
  dispose();
});

test('backoff doubles from 0.5 s up to 10 s with ±20 % jitter', () => {
  for (const [attempt, base] of [
    [0, 500],
    [1, 1000],
    [3, 4000],
    [10, 10_000],
  ] as const) {
    const v = defaultBackoff(attempt);
    expect(v).toBeGreaterThanOrEqual(base * 0.8);
    expect(v).toBeLessThanOrEqual(base * 1.2);
  }
});

test('reconnects with backoff after the collector went away and came back on its port', async () => {
  const messages: LiveMessage[] = [];
  const { feed, dispose } = open(messages, () => t.token);
  await until(() => feed.state() === 'open' && messages.length === 1, 'open + hello');
  const port = server.port;
  await server.close();
  await until(() => feed.state() !== 'open', 'feed notices the close');
  await new Promise((r) => setTimeout(r, 200)); // a few refused reconnects
  server = await startHttpServer(t.app, { host: '127.0.0.1', port, log });
  await until(() => feed.state() === 'open' && messages.filter((m) => m.type === 'hello').length === 2, 'second hello', 10_000);
  expect(feed.counters.reconnects).toBeGreaterThanOrEqual(1);
  dispose();
  expect(feed.state()).toBe('closed');
});
