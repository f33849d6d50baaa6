/**
 * Serves the Hono app over HTTP with WebSocket upgrades (node-server 2.x + ws, STACK.md).
 * `close()` ends everything it started: live-feed sockets, keep-alive connections, the listener.
 *
 * @example
 *   const server = await startHttpServer(app, { host: '127.0.0.1', port: 0, log });
 *   server.url; // http://127.0.0.1:41234
 *   await server.close();
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { WS_PROTOCOL } from './auth.js';
import type { AppEnv } from './env.js';

export interface HttpServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

/** The largest frame a WebSocket client may send (the live feed ignores what clients send). */
export const WS_MAX_INCOMING_BYTES = 4 * 1024;

export async function startHttpServer(app: Hono<AppEnv>, opts: { host: string; port: number; log: Logger }): Promise<HttpServer> {
  // The live feed's sub-protocol is selected when offered; a `bearer.<token>` entry is never echoed.
  // Live feed clients only listen: a frame over 4 KiB closes the socket (1009) before it is buffered.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: WS_MAX_INCOMING_BYTES,
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  const server = createAdaptorServer({ fetch: app.fetch, websocket: { server: wss } }) as Server;
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (err) => reject(new Error(`cannot listen for HTTP on ${opts.host}:${opts.port}`, { cause: err })));
    server.listen(opts.port, opts.host, () => resolve((server.address() as AddressInfo).port));
  });
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `http://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
  opts.log.info({ url }, 'HTTP API listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    close() {
      closing ??= new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
