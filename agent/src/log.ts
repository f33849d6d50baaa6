/**
 * The agent's structured logger (pino, JSON lines on stderr; stdout carries only the agent's
 * event lines such as `{"event":"ready"}`). Lines carry `service: "agent"` and the sensor name,
 * with ISO times like the collector's. Secrets never reach it: the config is never logged whole,
 * URLs are logged without user info (`redactUrl`), and fields named like secrets are redacted
 * up to three levels deep. `format` (log.format): JSON lines, or readable lines when stderr is a
 * terminal (auto) or when asked (pretty) — shared/util/log-format.ts.
 */
import { pino, type Logger } from 'pino';
import { formatLogLine, wantsPretty, type LogFormat } from '@pcapmesh/shared/util/log-format';

const SECRET_KEYS = ['secret', 'password', 'token', 'authorization'];
const REDACT_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]);

export function createLogger(level: string, sensor?: string, format: LogFormat = 'json'): Logger {
  const isTerminal = process.stderr.isTTY === true;
  const pretty = wantsPretty(format, isTerminal);
  return pino(
    {
      level,
      base: { service: 'agent', ...(sensor ? { sensor } : {}) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
      ...(pretty ? { hooks: { streamWrite: (line: string) => formatLogLine(line, { color: isTerminal }) } } : {}),
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
