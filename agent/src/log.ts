/**
 * The agent's structured logger (pino, JSON lines on stderr; stdout carries only the agent's
 * event lines such as `{"event":"ready"}`). Every line carries the sensor name. Secrets never
 * reach it: the config is never logged whole, and `mqtt.password` is redacted if it ever is.
 */
import { pino, type Logger } from 'pino';

export function createLogger(level: string, sensor?: string): Logger {
  return pino(
    { level, base: sensor ? { sensor } : {}, redact: { paths: ['password', '*.password', 'mqtt.password', 'config.mqtt.password'], censor: '[redacted]' } },
    pino.destination({ fd: 2, sync: true }),
  );
}
