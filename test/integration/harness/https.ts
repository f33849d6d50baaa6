/**
 * HTTPS requests with a private CA (Node's fetch cannot be given one per request): JSON or raw
 * bytes, each on a new connection (no keep-alive), with the served certificate's fingerprint — so a
 * test sees which certificate a new connection gets.
 */
import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  /** SHA-256 fingerprint of the certificate the server presented. */
  fingerprint: string;
  json<T = Record<string, unknown>>(): T;
}

export function httpsRequest(
  url: string,
  opts: { ca: Buffer | Buffer[]; method?: string; headers?: Record<string, string>; body?: Buffer | string; timeoutMs?: number },
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: opts.method ?? 'GET', headers: opts.headers, ca: opts.ca, agent: false, timeout: opts.timeoutMs ?? 30_000 }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, fingerprint, json: <T>() => JSON.parse(body.toString('utf8')) as T });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${opts.method ?? 'GET'} ${url}: no answer in ${opts.timeoutMs ?? 30_000} ms`)));
    req.on('error', reject);
    req.end(opts.body);
  });
}
