/**
 * The agent's structured logger (pino, JSON lines on stderr; stdout carries only the agent's
 * event lines such as `{"event":"ready"}`). Lines carry `service: "agent"` and the sensor name,
 * with ISO times like the collector's. Secrets never reach it: the config is never logged whole,
 * URLs are logged without user info (`redactUrl`), and fields named like secrets are redacted
 * up to three levels deep.
 */
import { pino, type Logger } from 'pino';

const SECRET_KEYS = ['secret', 'password', 'token', 'authorization'];
const REDACT_PATHS = SECRET_KEYS.flatMap((key) => [key, `*.${key}`, `*.*.${key}`, `*.*.*.${key}`]);

export function createLogger(level: string, sensor?: string): Logger {
  return pino(
    {
      level,
      base: { service: 'agent', ...(sensor ? { sensor } : {}) },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ fd: 2, sync: true }),
  );
}
