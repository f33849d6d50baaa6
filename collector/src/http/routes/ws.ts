/**
 * GET /ws (read): the live feed. After the upgrade the server sends `{ "type": "hello", "time" }`,
 * then one JSON text frame per event: `sensor.status` (SensorStatusEvent), `sensor.health`
 * (SensorHealthEvent), `job.status` (JobStatusEvent: state changes, progress ≤ 1/s per job) and
 * `task.progress` (TaskProgressEvent). Clients only listen; what they send is ignored, and a frame
 * over 4 KiB closes the socket (1009, server.ts `maxPayload`).
 *
 * The credential that opened the socket is verified again every 2 s (the same verifier as every
 * request: a user disabled or deleted, an access token expired, an API token removed): once it no
 * longer verifies the socket is closed with 1008 "session ended", within 5 s for users (the
 * verifier's own user recheck is 2 s; a removed API token within its one-minute cache). The
 * dashboard reconnects with its refreshed token.
 *
 * Authentication: Authorization header, `?token=`, or Sec-WebSocket-Protocol
 * `pcapmesh.v1, bearer.<token>` (browsers: `new WebSocket(url, ['pcapmesh.v1', 'bearer.' + token])`).
 *
 * A client that does not keep up (more than 4 MiB unsent) is closed with 1013 "try again later"
 * rather than buffering without bound. A plain GET (no upgrade) gets 426.
 */
import { Hono } from 'hono';
import type { z } from 'zod';
import { upgradeWebSocket } from '@hono/node-server';
import type { AppEnv } from '../env.js';
import type { HttpDeps } from '../deps.js';
import { errorResponse } from '../errors.js';
import { defineOperation } from '../openapi/operation.js';
import { presentedToken, WS_PROTOCOL } from '../auth.js';
import { LiveMessageSchema, type LiveHelloSchema } from './ws.schemas.js';
import type { RouteTools } from './tools.js';

const MAX_BUFFERED_BYTES = 4 * 1024 * 1024;
/** How often an open socket's credential is verified again. */
export const SESSION_RECHECK_MS = 2_000;

export interface LiveFeedCounters {
  clients: number;
  sent: number;
  droppedSlowClients: number;
  /** Sockets closed because their credential stopped verifying. */
  closedSessionEnded?: number;
}

export const liveFeed = defineOperation({
  method: 'get',
  path: '/ws',
  id: 'liveFeed',
  tag: 'live',
  permission: 'read',
  summary: 'WebSocket live feed of sensor status and health, job and task progress (upgrade endpoint)',
  description:
    'Send `Upgrade: websocket`. Browsers, which cannot set headers on a WebSocket, present the token as the sub-protocol ' +
    `\`${WS_PROTOCOL}, bearer.<token>\` (the server selects \`${WS_PROTOCOL}\`) or as \`?token=\`. After the upgrade the ` +
    'server sends `{ "type": "hello", "time" }`, then one JSON text frame per event: `sensor.status` (SensorStatusEvent), ' +
    '`sensor.health` (SensorHealthEvent), `job.status` (JobStatusEvent; progress at most once a second per job) and `task.progress` ' +
    '(TaskProgressEvent; every state change, progress at most once a second per task). What clients send is ignored; a frame over 4 KiB closes ' +
    'the socket (1009). A client more than 4 MiB behind is closed with 1013 "try again later". The credential is verified again every 2 s: once it ' +
    'no longer verifies (user disabled or deleted, access token expired, API token removed) the socket is closed with 1008 "session ended" — ' +
    'reconnect with a fresh token. A plain GET (no upgrade) gets 426.',
  parameters: [
    {
      name: 'token',
      in: 'query',
      required: false,
      schema: { type: 'string' },
      description: 'the bearer credential (upgrade requests only; plain requests use the Authorization header)',
    },
    { name: 'Sec-WebSocket-Protocol', in: 'header', required: false, schema: { type: 'string' }, description: `\`${WS_PROTOCOL}, bearer.<token>\`` },
  ],
  responses: { 101: { description: 'switching protocols: the live feed' } },
  errors: [426],
  extensions: { 'x-websocket': { subprotocol: WS_PROTOCOL, serverMessages: LiveMessageSchema } },
});

export function wsRoutes(deps: HttpDeps, { route, now }: RouteTools, counters: LiveFeedCounters): Hono<AppEnv> {
  const app = new Hono<AppEnv>();

  const upgrade = upgradeWebSocket((c) => {
    const log = c.var.log.child({ component: 'live-feed' });
    const token = presentedToken(c.req.raw);
    let unsubscribe: (() => void) | undefined;
    let recheck: NodeJS.Timeout | undefined;
    return {
      onOpen(_event, ws) {
        recheck = setInterval(() => {
          const stillValid = token === null ? Promise.resolve(null) : deps.tokens.verify(token);
          stillValid.then(
            (principal) => {
              if (principal !== null || recheck === undefined) return;
              clearInterval(recheck);
              recheck = undefined;
              counters.closedSessionEnded = (counters.closedSessionEnded ?? 0) + 1;
              log.info({ principal: c.var.principal?.name }, 'live feed credential no longer valid; closing');
              ws.close(1008, 'session ended');
            },
            (err: unknown) => log.warn({ err }, 'live feed credential recheck failed'),
          );
        }, SESSION_RECHECK_MS);
        recheck.unref();
        counters.clients += 1;
        log.info({ principal: c.var.principal?.name }, 'live feed client connected');
        const hello: z.input<typeof LiveHelloSchema> = { type: 'hello', time: now().toISOString() };
        ws.send(JSON.stringify(hello));
        unsubscribe = deps.live.subscribe((event) => {
          const raw = ws.raw;
          if (raw !== undefined && raw.readyState !== 1) return;
          if (raw !== undefined && (raw as unknown as { bufferedAmount: number }).bufferedAmount > MAX_BUFFERED_BYTES) {
            counters.droppedSlowClients += 1;
            log.warn('live feed client too slow; closing');
            unsubscribe?.();
            ws.close(1013, 'too slow');
            return;
          }
          ws.send(JSON.stringify(event));
          counters.sent += 1;
        });
      },
      onClose() {
        if (recheck !== undefined) {
          clearInterval(recheck);
          recheck = undefined;
        }
        if (unsubscribe) {
          unsubscribe();
          unsubscribe = undefined;
          counters.clients -= 1;
          log.info('live feed client disconnected');
        }
      },
    };
  });
  route(app, liveFeed, (c) => errorResponse(c, 426, 'invalid', 'this endpoint speaks WebSocket only (send an Upgrade: websocket request)'), {
    before: [upgrade],
  });

  return app;
}
