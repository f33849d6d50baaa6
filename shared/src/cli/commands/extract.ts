/** `pcapmesh-pcap extract [--from T] [--to T] [--filter EXPR] [--no-index] [--workers N] [--json] -o OUT PATH...` */
import { extract } from '../../pcap/extract.js';
import { UsageError, parseCommandLine, type CliCommand } from '../command.js';
import { parseSelection } from '../selection.js';

export const command: CliCommand = {
  summary: 'write the packets of a time window matching a filter',
  usage: `usage: pcapmesh-pcap extract [--from T] [--to T] [--filter EXPR] [--no-index] [--workers N] [--json] -o OUT PATH...

The packets in [from, to) that match the filter, from capture files or directories (recursive),
written to OUT in time order: pcap (ns when an input is ns), pcapng when link types differ.
  -o, --output OUT   the result (required; - writes to stdout, e.g. | tcpdump -nn -r -)
  --from T, --to T   window start (inclusive) / end (exclusive): ISO 8601 with zone
                     (2026-01-01T09:00:00.123456789Z) or epoch seconds (1767258000.5)
  -f, --filter EXPR  tcpdump filter: host, src/dst host, net CIDR, net A mask M, port, portrange,
                     tcp, udp, sctp, icmp, icmp6, ip, ip6, arp, rarp, vlan [id], proto N, ip proto N,
                     less/greater N, and/or/not (&&, ||, !) and parentheses; matched through VLAN tags
  --no-index         do not use .pmidx sidecar indexes (scan every selected file)
  --workers N        worker threads (default: CPUs − 1, none with ≤ 2 CPUs; 0 = this thread)
  --json             print the stats as JSON on stdout
Damaged or unreadable inputs are reported on stderr; their valid packets are extracted.`,
  async run(args) {
    const { values, positionals } = parseCommandLine(args, {
      output: { type: 'string', short: 'o' },
      from: { type: 'string' },
      to: { type: 'string' },
      filter: { type: 'string', short: 'f' },
      'no-index': { type: 'boolean' },
      workers: { type: 'string' },
      json: { type: 'boolean' },
    });
    if (!values.output) throw new UsageError('-o OUT is required');
    if (values.output === '-' && process.stdout.isTTY) throw new UsageError('refusing to write a capture to a terminal (-o -)');
    const toStdout = values.output === '-';
    if (positionals.length === 0) throw new UsageError('no input given');
    const { from, to, filter } = parseSelection(values);
    let workers: number | undefined;
    if (values.workers !== undefined) {
      workers = Number(values.workers);
      if (!Number.isInteger(workers) || workers < 0) throw new UsageError(`--workers must be a whole number >= 0, not "${values.workers}"`);
    }
    const stats = await extract({ inputs: positionals, output: toStdout ? 1 : values.output, filter, from, to, useIndex: !values['no-index'], workers });
    for (const p of stats.problems) console.error(`pcapmesh-pcap extract: warning: ${p.file}: at ${p.offset}: ${p.reason}`);
    // With the capture on stdout, the stats go to stderr.
    if (values.json) (toStdout ? console.error : console.log)(JSON.stringify({ output: toStdout ? 'stdout' : values.output, ...stats }));
    else {
      console.error(
        `extracted ${stats.packets} packets, ${stats.bytes} bytes (${stats.format}) → ${toStdout ? 'stdout' : values.output}\n` +
          `files scanned ${stats.filesScanned}, skipped by time ${stats.filesSkippedByTime}, skipped by index ${stats.filesSkippedByIndex}, ` +
          `blocks skipped ${stats.blocksSkipped}; read ${stats.packetsScanned} packets, ${stats.bytesScanned} bytes`,
      );
    }
    return 0;
  },
};
