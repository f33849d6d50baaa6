/**
 * The `pcapmesh` command (see usage.ts). Exit status: 0 success, 1 failure, 2 bad usage or
 * configuration (every bad key is listed).
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ConfigError } from '../config.js';
import { isDomainError } from '../domain/errors.js';
import { runStandalone } from './standalone.js';
import { runCollector } from './collector.js';
import { cliContext, UsageError } from './context.js';
import { dbMigrate, dbReset } from './db.js';
import { dbBackup, dbRestore } from './db-backup.js';
import { jobCommand, jobUsage } from './job.js';
import { ApiError } from './job-client.js';
import { sensorAdd } from './sensor.js';
import { userCommand } from './user.js';
import { keysCommand } from './keys.js';
import { certsInit, certsSensor } from './certs.js';
import { USAGE } from './usage.js';

async function main(argv: string[]): Promise<void> {
  // `job` has options of its own (job.ts) and sets its exit status (1 when a waited-for job failed, a verify did not hold).
  if (argv[0] === 'job') {
    process.exitCode = await jobCommand(argv.slice(1));
    return;
  }
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        config: { type: 'string', short: 'c' },
        location: { type: 'string' },
        force: { type: 'boolean' },
        role: { type: 'string' },
        'password-stdin': { type: 'boolean' },
        host: { type: 'string', multiple: true },
        dir: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
  }
  const { values, positionals } = parsed;
  const [command, sub, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(USAGE);
    return;
  }
  const context = () => cliContext(values.config);
  const expectNoMore = (args: (string | undefined)[]) => {
    const extra = args.filter((a) => a !== undefined);
    if (extra.length > 0) throw new UsageError(`unexpected argument(s): ${extra.join(' ')}`);
  };

  switch (command) {
    case 'collector':
      expectNoMore([sub, ...rest]);
      return runCollector(context());
    case 'standalone':
      expectNoMore([sub, ...rest]);
      return runStandalone(context());
    case 'db': {
      if (sub === 'backup' || sub === 'restore') {
        const [file, ...more] = rest;
        expectNoMore(more);
        return sub === 'backup' ? dbBackup(context(), file) : dbRestore(context(), file);
      }
      expectNoMore(rest);
      if (sub === 'migrate') return dbMigrate(context());
      if (sub === 'reset') return dbReset(context(), values.force === true);
      throw new UsageError(`unknown db command ${JSON.stringify(sub ?? '')} (migrate, reset, backup, restore)`);
    }
    case 'sensor': {
      const [name, ...more] = rest;
      expectNoMore(more);
      if (sub !== 'add') throw new UsageError(`unknown sensor command ${JSON.stringify(sub ?? '')} (add)`);
      if (name === undefined) throw new UsageError('sensor add needs a NAME');
      return sensorAdd(context(), name, values.location);
    }
    case 'user': {
      const [name, ...more] = rest;
      expectNoMore(more);
      return userCommand(context(), sub, name, { role: values.role, passwordStdin: values['password-stdin'] });
    }
    case 'keys':
      expectNoMore(rest);
      return keysCommand(context(), sub);
    case 'certs': {
      const [arg, ...more] = rest;
      expectNoMore(more);
      // Without a directory: <dataDir>/tls of the configuration.
      const dirOf = (given: string | undefined) => given ?? join(context().config.dataDir, 'tls');
      let written: string[];
      if (sub === 'init') written = await certsInit(dirOf(arg), { hosts: values.host, force: values.force === true });
      else if (sub === 'sensor') {
        if (arg === undefined) throw new UsageError('certs sensor needs a NAME');
        written = await certsSensor(dirOf(values.dir), arg, { force: values.force === true });
      } else throw new UsageError(`unknown certs command ${JSON.stringify(sub ?? '')} (init, sensor)`);
      process.stdout.write(`${written.join('\n')}\n`);
      return;
    }
    default:
      throw new UsageError(`unknown command ${JSON.stringify(command)}`);
  }
}

/** The message and its causes, one per line ("caused by: …"). */
function describe(err: unknown): string {
  const lines: string[] = [];
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 5; depth++) {
    lines.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return lines.join('\n  caused by: ');
}

/** The first ConfigError of `err` and its causes (a start step wraps a refused port or certificate). */
function configErrorIn(err: unknown): ConfigError | undefined {
  for (let e: unknown = err, depth = 0; e !== undefined && depth < 5; depth++) {
    if (e instanceof ConfigError) return e;
    e = e instanceof Error ? e.cause : undefined;
  }
  return undefined;
}

main(process.argv.slice(2)).catch((err: unknown) => {
  const configError = configErrorIn(err);
  if (configError) {
    // One problem: one line naming the key and the reason (what systemd shows); several: a list.
    const [only] = configError.problems;
    process.stderr.write(`pcapmesh: ${configError.problems.length === 1 ? `invalid configuration: ${only}` : configError.message}\n`);
    process.exit(2);
  }
  if (err instanceof ApiError) {
    // The collector refused: its message names what was wrong (a bad filter: the position). Invalid input is a usage error.
    process.stderr.write(`pcapmesh: ${err.message}${err.status === 400 ? '' : ` (HTTP ${err.status})`}\n`);
    process.exit(err.status === 400 ? 2 : 1);
  }
  if (err instanceof UsageError || isDomainError(err, 'invalid')) {
    process.stderr.write(`pcapmesh: ${err.message}\n\n${process.argv[2] === 'job' ? jobUsage() : USAGE}`);
    process.exit(2);
  }
  process.stderr.write(`pcapmesh: ${describe(err)}\n`);
  process.exit(1);
});
