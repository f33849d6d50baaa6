/** `pcapmesh-pcap merge [--dedup] [--dedup-window D] [--format F] [--json] -o OUT IN...` */
import { mergeCaptures, DEFAULT_DEDUP_WINDOW_NS, type MergeFormat } from '../../pcap/merge.js';
import { UsageError, parseCommandLine, parseDuration, type CliCommand } from '../command.js';

const FORMATS: MergeFormat[] = ['auto', 'pcap', 'nsecpcap', 'pcapng'];

export const command: CliCommand = {
  summary: 'merge captures by timestamp, optionally dropping duplicates',
  usage: `usage: pcapmesh-pcap merge [--dedup] [--dedup-window D] [--format F] [--json] -o OUT IN...

Streaming k-way merge by packet time; on equal times the later input goes first, exactly like
mergecap. Memory does not grow with input size.
  -o, --output OUT     the merged capture (required; - writes to stdout)
  --dedup              drop a packet whose bytes equal a packet from another input within the window
  --dedup-window D     the window, e.g. 500us, 1ms (default), 2s
  --format F           auto (default: pcapng for mixed link types, nsecpcap when an input has ns
                       times, else pcap), pcap (µs, byte-identical to mergecap -F pcap), nsecpcap, pcapng
  --json               print the stats as JSON on stdout
Damage in an input (e.g. a truncated last record) is reported on stderr; its valid packets are merged.`,
  run(args) {
    const { values, positionals } = parseCommandLine(args, {
      output: { type: 'string', short: 'o' },
      dedup: { type: 'boolean' },
      'dedup-window': { type: 'string' },
      format: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (!values.output) throw new UsageError('-o OUT is required');
    if (positionals.length === 0) throw new UsageError('no input given');
    const format = (values.format ?? 'auto') as MergeFormat;
    if (!FORMATS.includes(format)) throw new UsageError(`--format must be one of ${FORMATS.join(', ')}, not "${values.format}"`);
    const window = values['dedup-window'] !== undefined ? parseDuration(values['dedup-window'], '--dedup-window') : DEFAULT_DEDUP_WINDOW_NS;
    if (values.output === '-' && process.stdout.isTTY) throw new UsageError('refusing to write a capture to a terminal (-o -)');
    const target = values.output === '-' ? 1 : values.output;
    const stats = mergeCaptures(positionals, target, { dedup: values.dedup ?? false, dedupWindowNs: window, format });
    for (const p of stats.problems) console.error(`pcapmesh-pcap merge: warning: ${p.file}: at ${p.offset}: ${p.reason}`);
    if (values.json && target !== 1) console.log(JSON.stringify({ output: values.output, ...stats }));
    else if (values.json) console.error(JSON.stringify({ output: 'stdout', ...stats }));
    else {
      const dups = values.dedup ? `, ${stats.duplicates} duplicates dropped` : '';
      console.error(`merged ${positionals.length} inputs: ${stats.packets} packets, ${stats.bytes} bytes (${stats.format})${dups} → ${values.output}`);
    }
    return 0;
  },
};
