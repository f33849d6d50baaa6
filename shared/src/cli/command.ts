/**
 * The contract between the `pcapmesh-pcap` dispatcher (pcap.ts) and its subcommands
 * (commands/<name>.ts). Each command module exports `command: CliCommand`.
 *
 * Conventions: human-readable output by default, `--json` for machine output on stdout;
 * errors on stderr naming what was wrong; exit 2 for usage errors (throw UsageError), 1 for
 * failures, 0 otherwise.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

export interface CliCommand {
  /** One line shown in the dispatcher's help. */
  summary: string;
  /** Full usage text shown on `--help` and after a usage error. */
  usage: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: string[]): Promise<number> | number;
}

/** Bad command line: the dispatcher prints the message and the command's usage, exits 2. */
export class UsageError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;
type Parsed<T extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: T; allowPositionals: true; strict: true }>>;

/** `util.parseArgs` (strict, positionals allowed) whose errors become UsageErrors. */
export function parseCommandLine<T extends Options>(args: string[], options: T): Parsed<T> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (cause) {
    throw new UsageError((cause as Error).message, { cause });
  }
}

/**
 * A duration with a unit (ns, us, µs, ms, s) in nanoseconds.
 * @example parseDuration('1ms') // 1000000
 */
export function parseDuration(text: string, what: string): number {
  const m = /^(\d+(?:\.\d+)?)(ns|us|µs|ms|s)$/.exec(text.trim());
  if (!m) throw new UsageError(`${what}: "${text}" is not a duration like 500us, 1ms or 2s`);
  const scale = { ns: 1, us: 1e3, µs: 1e3, ms: 1e6, s: 1e9 }[m[2] as 'ns'];
  return Math.round(Number(m[1]) * scale);
}
