/**
 * Serves the Hono app over HTTP — or HTTPS when `tls` is given — with WebSocket upgrades
 * (node-server 2.x + ws, STACK.md). `close()` ends everything it started: live-feed sockets,
 * keep-alive connections, the listener.
 *
 * HTTPS: `setTls()` swaps the certificate and key (SIGHUP); connections opened after it get the new
 * certificate, open ones keep theirs. A port that cannot be bound is refused as a ConfigError
 * naming http.port (in use, not permitted, address not on this machine).
 *
 * @example
 *   const server = await startHttpServer(app, { host: '127.0.0.1', port: 0, log });
 *   server.url; // http://127.0.0.1:41234
 *   await server.close();
 */
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createAdaptorServer } from '@hono/node-server';
import type { Hono } from 'hono';
import type { Logger } from 'pino';
import { WebSocketServer } from 'ws';
import { WS_PROTOCOL } from './auth.js';
import type { AppEnv } from './env.js';
import { ConfigError } from '../config.js';

export interface HttpServer {
  /** http(s)://host:port (a wildcard host shown as 127.0.0.1). */
  url: string;
  port: number;
  /** Serves new connections with this certificate and key; throws when the server is plain HTTP or the pair is refused by TLS. */
  setTls(pair: { cert: Buffer; key: Buffer }): void;
  close(): Promise<void>;
}

export interface HttpServerOptions {
  host: string;
  port: number;
  log: Logger;
  /** PEM certificate (chain) and key: HTTPS. Absent: plain HTTP. */
  tls?: { cert: Buffer; key: Buffer } | undefined;
}

const LISTEN_REASONS: Record<string, string> = {
  EADDRINUSE: 'is already in use',
  EACCES: 'needs privileges this process lacks (ports below 1024)',
  EADDRNOTAVAIL: 'is not an address of this machine',
};

/** The largest frame a WebSocket client may send (the live feed ignores what clients send). */
export const WS_MAX_INCOMING_BYTES = 4 * 1024;

export async function startHttpServer(app: Hono<AppEnv>, opts: HttpServerOptions): Promise<HttpServer> {
  // The live feed's sub-protocol is selected when offered; a `bearer.<token>` entry is never echoed.
  // Live feed clients only listen: a frame over 4 KiB closes the socket (1009) before it is buffered.
  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: WS_MAX_INCOMING_BYTES,
    handleProtocols: (protocols) => (protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false),
  });
  const server = (
    opts.tls
      ? createAdaptorServer({
          fetch: app.fetch,
          websocket: { server: wss },
          createServer: createHttpsServer,
          serverOptions: { cert: opts.tls.cert, key: opts.tls.key },
        })
      : createAdaptorServer({ fetch: app.fetch, websocket: { server: wss } })
  ) as Server;
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      const reason = LISTEN_REASONS[err.code ?? ''];
      if (reason) reject(new ConfigError([`http.port: ${opts.host}:${opts.port} ${reason} (${err.code})`], 'HTTP listener'));
      else reject(new Error(`cannot listen for HTTP on ${opts.host}:${opts.port}`, { cause: err }));
    });
    server.listen(opts.port, opts.host, () => resolve((server.address() as AddressInfo).port));
  });
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  const url = `${opts.tls ? 'https' : 'http'}://${host === '0.0.0.0' || host === '[::]' ? '127.0.0.1' : host}:${port}`;
  opts.log.info({ url }, 'HTTP API listening');

  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    setTls(pair) {
      if (!opts.tls) throw new Error('the HTTP server runs without TLS (http.tls is not set)');
      (server as unknown as HttpsServer).setSecureContext({ cert: pair.cert, key: pair.key });
    },
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
