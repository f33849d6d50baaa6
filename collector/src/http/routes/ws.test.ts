import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { pino } from 'pino';
import WebSocket from 'ws';
import { createTestHttp, USER_PASSWORD, type TestHttp } from '../app.fixture.js';
import { startHttpServer, type HttpServer } from '../server.js';
import type { SensorStatusEvent } from '../../domain/events.js';

let t: TestHttp;
let server: HttpServer;
let wsUrl: string;

before(async () => {
  t = await createTestHttp();
  server = await startHttpServer(t.app, { host: '127.0.0.1', port: 0, log: pino({ level: 'silent' }) });
  wsUrl = `${server.url.replace('http', 'ws')}/api/v1/ws`;
});

after(async () => {
  await server.close();
  await t.close();
});

/** Opens a socket and resolves with it once the server's hello arrived; collects later messages. */
async function connect(url: string, protocols?: string[], headers?: Record<string, string>) {
  const ws = new WebSocket(url, protocols, headers ? { headers } : {});
  const messages: Record<string, unknown>[] = [];
  const hello = new Promise<Record<string, unknown>>((resolve, reject) => {
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`upgrade refused: ${res.statusCode}`)));
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString()) as Record<string, unknown>;
      if (msg.type === 'hello') resolve(msg);
      else messages.push(msg);
    });
  });
  return { ws, hello: await hello, messages };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
}

test('the live feed pushes sensor status changes (token in Sec-WebSocket-Protocol)', async () => {
  const { ws, hello, messages } = await connect(wsUrl, ['pcapmesh.v1', `bearer.${t.token}`]);
  assert.equal(ws.protocol, 'pcapmesh.v1', 'the server selects our protocol, never echoes the token');
  assert.match(String(hello.time), /^\d{4}-\d{2}-\d{2}T/);
  assert.equal(t.counters.liveFeed.clients, 1);

  const change: SensorStatusEvent = {
    type: 'sensor.status',
    sensor: 'edge-1',
    status: 'offline',
    previous: 'online',
    reason: 'last will',
    at: new Date().toISOString(),
  };
  t.events.emit('sensor.status', change);
  await until(() => messages.length === 1, 'status event delivered');
  assert.deepEqual(messages[0], { ...change });

  ws.close();
  await once(ws, 'close');
  await until(() => t.live.listeners === 0, 'listener removed on close');
  assert.equal(t.counters.liveFeed.clients, 0);
});

test('the live feed pushes health samples (token as ?token=)', async () => {
  const { ws, messages } = await connect(`${wsUrl}?token=${encodeURIComponent(t.token)}`);
  t.events.emit('sensor.health', {
    type: 'sensor.health',
    sensor: 'edge-2',
    at: new Date().toISOString(),
    cpu: 12.5,
    memoryUsed: 1,
    memoryTotal: 2,
    load1: 0.5,
    disks: [],
  });
  await until(() => messages.length === 1, 'health event delivered');
  assert.equal(messages[0]?.type, 'sensor.health');
  assert.equal(messages[0]?.sensor, 'edge-2');
  ws.close();
  await once(ws, 'close');
});

test('the access JWT of a signed-in user opens the live feed (bearer.<jwt> in Sec-WebSocket-Protocol)', async () => {
  const login = await t.app.request('/api/v1/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username: 'viewer1', password: USER_PASSWORD }),
  });
  const { accessToken } = (await login.json()) as { accessToken: string };
  const { ws, hello } = await connect(wsUrl, ['pcapmesh.v1', `bearer.${accessToken}`]);
  assert.equal(ws.protocol, 'pcapmesh.v1');
  assert.equal(hello.type, 'hello');
  ws.close();
  await once(ws, 'close');
});

test('an upgrade without a valid token is refused with 401', async () => {
  await assert.rejects(connect(wsUrl), /upgrade refused: 401/);
  await assert.rejects(connect(`${wsUrl}?token=pmt_not-a-real-token-at-all`), /upgrade refused: 401/);
  await assert.rejects(connect(wsUrl, ['pcapmesh.v1', 'bearer.pmt_wrongwrongwrongwrong']), /upgrade refused: 401/);
  assert.equal(t.live.listeners, 0);
});

async function loginAs(username: string): Promise<string> {
  const login = await t.app.request('/api/v1/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password: USER_PASSWORD }),
  });
  assert.equal(login.status, 200);
  return ((await login.json()) as { accessToken: string }).accessToken;
}

test('a user disabled while their live feed is open is disconnected within 5 s (1008)', async () => {
  const admin = await loginAs('admin1');
  const viewer = await loginAs('analyst2');
  const { ws } = await connect(wsUrl, ['pcapmesh.v1', `bearer.${viewer}`]);
  const closed = new Promise<{ code: number; reason: string; at: number }>((resolve) =>
    ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString(), at: Date.now() })),
  );
  const disabledAt = Date.now();
  const put = await t.app.request('/api/v1/admin/users/analyst2', {
    method: 'PUT',
    headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
    body: JSON.stringify({ disabled: true }),
  });
  assert.equal(put.status, 200);
  const outcome = await Promise.race([closed, new Promise<null>((r) => setTimeout(() => r(null), 6_000))]);
  assert.ok(outcome !== null, 'the socket of a disabled user is closed');
  assert.equal(outcome.code, 1008);
  assert.equal(outcome.reason, 'session ended');
  assert.ok(outcome.at - disabledAt <= 5_000, `closed ${outcome.at - disabledAt} ms after the user was disabled`);
  await until(() => t.live.listeners === 0, 'listener removed');
});

test('a client frame over 4 KiB closes the socket (1009); small frames are ignored', async () => {
  const { ws } = await connect(wsUrl, ['pcapmesh.v1', `bearer.${t.token}`]);
  ws.send('x'.repeat(100));
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(ws.readyState, WebSocket.OPEN, 'a small frame is ignored');
  const closed = new Promise<number>((resolve) => ws.once('close', (code: number) => resolve(code)));
  ws.send('x'.repeat(64 * 1024));
  assert.equal(await Promise.race([closed, new Promise<string>((r) => setTimeout(() => r('still open after 5 s'), 5_000))]), 1009);
  await until(() => t.live.listeners === 0, 'listener removed');
});
