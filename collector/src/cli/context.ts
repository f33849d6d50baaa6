/** What every subcommand starts from: the validated configuration and a logger writing to stderr. */
import { pino } from 'pino';
import { loadCollectorConfig, type CollectorConfig } from '../config.js';
import { createLogger, type Logger } from '../log.js';

export interface CliContext {
  config: CollectorConfig;
  /** Logs go to stderr so that stdout carries only command output (secrets, the ready line). */
  log: Logger;
}

/** Throws ConfigError (listing every problem) when the configuration is bad. */
export function cliContext(configFile: string | undefined, env: NodeJS.ProcessEnv = process.env): CliContext {
  const config = loadCollectorConfig({ file: configFile, env });
  return { config, log: createLogger(config, { destination: pino.destination({ dest: 2, sync: true }), isTerminal: process.stderr.isTTY === true }) };
}

/** A mistake in how the command was called (exit 2). */
export class UsageError extends Error {
  override name = 'UsageError';
}
