/**
 * `pcapmesh-agent [run] [--config FILE]`: loads the configuration (FILE, else
 * /etc/pcapmesh/agent.yaml when it exists, else defaults and PCAPMESH_AGENT_* variables), starts
 * the agent and stops it cleanly on SIGINT/SIGTERM.
 *
 * Exit codes: 0 clean stop, 1 failure at start or during shutdown, 2 bad usage or configuration
 * (every problem is listed on stderr, naming the key or variable).
 *
 * stdout carries only event lines (JSON), for supervisors and tests:
 *   {"event":"ready","sensor":…,"bdSeq":…,"version":…,"pid":…}   first time online (birth acknowledged)
 *   {"event":"online","sensor":…,"bdSeq":…}                      every later reconnect
 *   {"event":"stopped","sensor":…}                               after a clean shutdown
 * Logs (pino JSON) go to stderr.
 */
import { existsSync } from 'node:fs';
import { ConfigError } from '@pcapmesh/shared/util/config';
import { Agent } from './agent.js';
import { redactUrl } from './mqtt/connection.js';
import { parseArgs, USAGE } from './cli.js';
import { loadAgentConfig } from './config.js';
import { createLogger } from './log.js';
import { enroll, ENROLL_USAGE, parseEnrollArgs } from './enroll.js';
import { AGENT_VERSION } from './version.js';

const DEFAULT_CONFIG = '/etc/pcapmesh/agent.yaml';
const SHUTDOWN_LIMIT_MS = 8_000;

function event(e: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(e)}\n`);
}

/** `pcapmesh-agent enroll …` (enroll.ts). */
async function runEnroll(argv: string[]): Promise<number> {
  const args = parseEnrollArgs(argv, DEFAULT_CONFIG);
  if ('error' in args) {
    process.stderr.write(`pcapmesh-agent enroll: ${args.error}\n${ENROLL_USAGE}`);
    return 2;
  }
  const sensor = await enroll(args);
  process.stdout.write(`${JSON.stringify({ event: 'enrolled', sensor, config: args.config })}\n`);
  return 0;
}

/** One problem on one line naming the key and the reason (what systemd shows); several as a list. */
function configErrorText(err: ConfigError): string {
  return err.problems.length === 1 ? `invalid configuration: ${err.problems[0]}` : err.message;
}

async function main(): Promise<number> {
  if (process.argv[2] === 'enroll') return runEnroll(process.argv.slice(3));
  const args = parseArgs(process.argv.slice(2));
  if ('error' in args) {
    process.stderr.write(`pcapmesh-agent: ${args.error}\n${USAGE}`);
    return 2;
  }
  if (args.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.version) {
    process.stdout.write(`${AGENT_VERSION}\n`);
    return 0;
  }
  let config;
  try {
    config = loadAgentConfig(args.config ?? (existsSync(DEFAULT_CONFIG) ? DEFAULT_CONFIG : undefined));
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`pcapmesh-agent: ${configErrorText(err)}\n`);
      return 2;
    }
    throw err;
  }
  const logger = createLogger(config.log.level, config.name, config.log.format);
  const sensor = config.name;
  // Listen before starting anything: a stop requested during start-up is honoured after it.
  // Later signals change nothing (a terminal's Ctrl-C reaches both the launcher, which forwards
  // it, and this process); SHUTDOWN_LIMIT_MS bounds the shutdown.
  const stopSignal = new Promise<NodeJS.Signals>((resolve) => {
    process.on('SIGINT', () => resolve('SIGINT'));
    process.on('SIGTERM', () => resolve('SIGTERM'));
  });
  let agent: Agent;
  try {
    agent = new Agent(config, logger, {
      onOnline: ({ bdSeq, first }) =>
        event(first ? { event: 'ready', sensor, bdSeq, version: AGENT_VERSION, pid: process.pid } : { event: 'online', sensor, bdSeq }),
    });
  } catch (err) {
    // A capture user that does not exist (capture.user) is a configuration error: exit 2, no restart.
    if (err instanceof ConfigError) {
      process.stderr.write(`pcapmesh-agent: ${configErrorText(err)}\n`);
      return 2;
    }
    throw err;
  }
  await agent.start();
  logger.info({ version: AGENT_VERSION, mqtt: redactUrl(config.mqtt.url), captures: config.captures.length }, 'agent started');

  const signal = await stopSignal;
  logger.info({ signal }, 'agent stopping');
  const force = setTimeout(() => {
    logger.error({ limitMs: SHUTDOWN_LIMIT_MS }, 'shutdown took too long; exiting');
    process.exit(1);
  }, SHUTDOWN_LIMIT_MS);
  force.unref();
  await agent.stop();
  event({ event: 'stopped', sensor });
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`pcapmesh-agent: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    if (err instanceof Error && err.cause) process.stderr.write(`  caused by: ${String(err.cause)}\n`);
    process.exit(1);
  },
);
