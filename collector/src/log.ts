/**
 * Structured logging (pino). Fields that may hold secrets are redacted wherever they appear in
 * the first levels of a log object, so a secret can never reach the log by accident.
 *
 * Format (`log.format`): JSON lines, or readable lines (shared/util/log-format.ts) when the
 * destination is a terminal (`auto`, the default) or when `pretty` is asked for. GET /admin/logs
 * always keeps the JSON form.
 *
 * @example
 *   const log = createLogger(config);
 *   log.child({ sensor: 'edge-1' }).info({ status: 'online' }, 'sensor status changed');
 */
import { pino, type DestinationStream, type Logger } from 'pino';
import { formatLogLine, wantsPretty, type LogFormat } from '@pcapmesh/shared/util/log-format';
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
  /** Whether the destination is a terminal (log.format auto). Default: whether stdout is one (the default destination). */
  isTerminal?: boolean;
}

/** A pino logger at `config.log.level` in `config.log.format` (default auto) that redacts secrets. */
export function createLogger(config: { log: { level: string; format?: LogFormat } }, opts: LoggerOptions = {}): Logger {
  const isTerminal = opts.isTerminal ?? (opts.destination === undefined && process.stdout.isTTY === true);
  const pretty = wantsPretty(config.log.format ?? 'auto', isTerminal);
  return pino(
    {
      level: config.log.level,
      base: opts.base ?? { service: 'collector' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      // Every line (already redacted) is kept in the ring GET /admin/logs serves.
      // Readable lines are coloured only on a terminal.
      hooks: { streamWrite: (line: string) => (recentLogs.push(line), pretty ? formatLogLine(line, { color: isTerminal }) : line) },
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
