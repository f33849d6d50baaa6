/**
 * `pcapmesh-pcap`: the PCAP toolbox command line. Dispatches to commands/<name>.ts, each
 * exporting `command: CliCommand` (see command.ts).
 *
 *   npx pcapmesh-pcap info [--json] FILE...
 *   npx pcapmesh-pcap index [--json] [--force] [--settle SECONDS] PATH...
 *   npx pcapmesh-pcap merge [--dedup] [--dedup-window 1ms] [--format F] -o OUT IN...
 *   npx pcapmesh-pcap extract ...   npx pcapmesh-pcap estimate ...   npx pcapmesh-pcap analyze ...
 */
import { UsageError, type CliCommand } from './command.js';

/** Command name → one-line summary (the module is loaded only when run). */
const COMMANDS: Record<string, string> = {
  info: 'format, link types, packets, bytes, first and last packet time, per file',
  index: 'build or refresh the sidecar index (.pmidx) of capture files',
  extract: 'write the packets of a time window matching a filter',
  estimate: 'packets and bytes an extract would write, from the indexes alone',
  merge: 'merge captures by timestamp, optionally dropping duplicates',
  analyze: 'protocols, conversations and top talkers of a capture',
};

/** Commands left out of the help: `gen` (deterministic test traffic, for benches and tests). */
const HIDDEN = new Set(['gen']);

function help(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length));
  const lines = Object.entries(COMMANDS).map(([name, summary]) => `  ${name.padEnd(width)}  ${summary}`);
  return `usage: pcapmesh-pcap <command> [options]\n\ncommands:\n${lines.join('\n')}\n\n'pcapmesh-pcap <command> --help' shows a command's options.`;
}

async function loadCommand(name: string): Promise<CliCommand> {
  const module = (await import(`./commands/${name}.js`)) as { command: CliCommand };
  return module.command;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...args] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    console.log(help());
    return name === undefined ? 2 : 0;
  }
  if (!Object.hasOwn(COMMANDS, name) && !HIDDEN.has(name)) {
    console.error(`pcapmesh-pcap: unknown command "${name}"\n\n${help()}`);
    return 2;
  }
  let command: CliCommand;
  try {
    command = await loadCommand(name);
  } catch (error) {
    console.error(`pcapmesh-pcap: command "${name}" is not available: ${(error as Error).message}`);
    return 1;
  }
  if (args.includes('--help') || args.includes('-h')) {
    console.log(command.usage);
    return 0;
  }
  try {
    return await command.run(args);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`pcapmesh-pcap ${name}: ${error.message}\n\n${command.usage}`);
      return 2;
    }
    console.error(`pcapmesh-pcap ${name}: ${(error as Error).message}`);
    return 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
