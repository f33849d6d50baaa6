/**
 * Command line for the traffic generator (benches, tests, demos):
 *
 *   node --conditions=pcapmesh-src --import tsx shared/src/pcap/gen/cli.ts \
 *     --out DIR --bytes 1G --duration 3600 --files 60 --seed 1
 *
 * Also reachable as the hidden `pcapmesh-pcap gen` subcommand. With `--files N` or
 * `--rotate SECONDS`, `--out` is a directory of `cap-YYYYmmddHHMMSS.pcap` files; otherwise
 * it is one file. Prints a JSON summary on stdout.
 */
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { LinkType } from '../types.js';
import type { GenOptions } from './generator.js';
import { type GenSummary, writeCapture, writeRollingCaptures } from './output.js';

export const GEN_USAGE = `usage: pcapmesh-pcap gen --out PATH [--bytes SIZE | --packets N] [--duration SECONDS]
           [--files N | --rotate SECONDS] [--seed N] [--start UNIX|ISO-8601] [--nano]
           [--link ethernet|sll|sll2|raw] [--hosts ADDR[%VLAN[.VLAN]],...]
  SIZE takes k, M, G suffixes (powers of 1024), e.g. 1G.`;

const LINKS: Record<string, number> = {
  ethernet: LinkType.ETHERNET,
  sll: LinkType.LINUX_SLL,
  sll2: LinkType.LINUX_SLL2,
  raw: LinkType.RAW,
};

/** Parses `1G`, `512M`, `64k`, `1000` (binary multiples); throws naming the bad value. */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?)([kKmMgGtT]?)i?[bB]?$/.exec(text.trim());
  if (!m) throw new Error(`bad size "${text}" (examples: 1000, 64k, 512M, 1G)`);
  const power = ' kmgt'.indexOf((m[2] || ' ').toLowerCase());
  return Math.round(Number(m[1]) * 1024 ** power);
}

function number(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n)) throw new Error(`--${name} wants a number, got "${text}"`);
  return n;
}

function parseStart(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text);
  const ms = Date.parse(text);
  if (Number.isNaN(ms)) throw new Error(`--start wants Unix seconds or an ISO-8601 time, got "${text}"`);
  return ms / 1000;
}

/** Runs the generator CLI on `argv` (arguments after the command name); returns the summary. */
export function genMain(argv: string[]): GenSummary {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      out: { type: 'string' },
      bytes: { type: 'string' },
      packets: { type: 'string' },
      duration: { type: 'string' },
      files: { type: 'string' },
      rotate: { type: 'string' },
      seed: { type: 'string' },
      start: { type: 'string' },
      nano: { type: 'boolean' },
      link: { type: 'string' },
      hosts: { type: 'string' },
    },
  });
  if (!values.out) throw new Error(`--out is required\n${GEN_USAGE}`);
  const link = values.link ?? 'ethernet';
  const linkType = LINKS[link];
  if (linkType === undefined) throw new Error(`--link must be one of ${Object.keys(LINKS).join(', ')}, got "${link}"`);
  const duration = number('duration', values.duration) ?? 60;
  const opts: GenOptions = {
    seed: number('seed', values.seed) ?? 1,
    start: parseStart(values.start),
    duration,
    bytes: values.bytes === undefined ? undefined : parseSize(values.bytes),
    packets: number('packets', values.packets),
    nanosecond: values.nano ?? false,
    linkType,
    hosts: values.hosts
      ?.split(',')
      .map((h) => h.trim())
      .filter(Boolean),
  };
  const files = number('files', values.files);
  const rotate = number('rotate', values.rotate);
  if (files !== undefined && !(Number.isInteger(files) && files >= 1)) throw new Error(`--files wants a positive integer, got ${files}`);
  if (files === undefined && rotate === undefined) return writeCapture(values.out, opts);
  return writeRollingCaptures(values.out, opts, rotate ?? Math.max(1, duration / files!));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  try {
    console.log(JSON.stringify(genMain(process.argv.slice(2))));
  } catch (err) {
    console.error(`gen: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 2;
  }
}
