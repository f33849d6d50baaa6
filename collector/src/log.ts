/**
 * Structured logging (pino). Fields that may hold secrets are redacted wherever they appear in
 * the first levels of a log object, so a secret can never reach the log by accident.
 *
 * @example
 *   const log = createLogger(config);
 *   log.child({ sensor: 'edge-1' }).info({ status: 'online' }, 'sensor status changed');
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { recentLogs } from './log-ring.js';

export type { Logger };

const SECRET_KEYS = ['secret', 'password', 'token', 'apiToken', 'authorization', 'cookie', 'secretHash', 'secret_hash', 'tokenHash', 'token_hash'];

/** Redaction paths: each secret key at the top level and up to three levels deep. */
export const REDACT_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]);

export interface LoggerOptions {
  /** Where lines go; default stdout. Tests pass a stream to read them back. */
  destination?: DestinationStream;
  /** Base fields on every line. Default { service: 'collector' }. */
  base?: Record<string, unknown>;
}

/** A pino logger at `config.log.level` that redacts secrets. */
export function createLogger(config: { log: { level: string } }, opts: LoggerOptions = {}): Logger {
  return pino(
    {
      level: config.log.level,
      base: opts.base ?? { service: 'collector' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Every line (already redacted) is kept in the ring GET /admin/logs serves.
      hooks: { streamWrite: (line: string) => (recentLogs.push(line), line) },
    },
    opts.destination,
  );
}

/** A URL safe to log: the password (if any) replaced by `***`. Non-URLs are returned unchanged. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password === '') return url;
    u.password = '***';
    return u.toString();
  } catch {
    return url;
  }
}
