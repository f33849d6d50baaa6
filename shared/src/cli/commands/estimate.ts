/** `pcapmesh-pcap estimate [--from T] [--to T] [--filter EXPR] [--json] PATH...`: an extract's size from the indexes alone. */
import { estimateCaptures } from '../../pcap/estimate.js';
import { UsageError, parseCommandLine, type CliCommand } from '../command.js';
import { parseSelection } from '../selection.js';

export const command: CliCommand = {
  summary: 'packets and bytes an extract would write, from the indexes alone',
  usage: `usage: pcapmesh-pcap estimate [--from T] [--to T] [--filter EXPR] [--json] PATH...

How many packets and captured bytes 'pcapmesh-pcap extract' with the same window and filter would
write, from the .pmidx sidecar indexes alone (no packet is read). The count is exact where the
indexes decide (host/net filters, blocks wholly inside the window) and an upper bound otherwise;
the answer says which. Files without a fresh index are listed (run 'pcapmesh-pcap index').
  --from T, --to T   window start (inclusive) / end (exclusive), as for extract
  -f, --filter EXPR  tcpdump filter, as for extract
  --json             the estimate as one JSON object on stdout
Exit status 1 when an input cannot be read.`,
  run(args) {
    const { values, positionals } = parseCommandLine(args, {
      from: { type: 'string' },
      to: { type: 'string' },
      filter: { type: 'string', short: 'f' },
      json: { type: 'boolean' },
    });
    if (positionals.length === 0) throw new UsageError('no input given');
    const { from, to, filter } = parseSelection(values);
    const started = performance.now();
    const cpu = process.cpuUsage();
    const e = estimateCaptures({ inputs: positionals, filter, from, to });
    const used = process.cpuUsage(cpu);
    const ms = performance.now() - started;
    if (values.json) {
      // ms: wall time of the estimate itself (after start-up); cpuMs: its CPU time (steadier on a busy machine).
      console.log(JSON.stringify({ ...e, ms: Math.round(ms * 10) / 10, cpuMs: Math.round((used.user + used.system) / 100) / 10 }));
    } else {
      const how = e.exact ? 'exactly' : 'at most';
      console.log(`${how} ${e.packets} packets, ${e.bytes} bytes${e.unindexed.length > 0 ? ` in the ${e.indexedFiles} indexed files` : ''}`);
      console.log(
        `${e.files} files (${e.bytesInWindow} bytes) in the window, ${e.indexedFiles} indexed; an extract would read ${e.bytesToRead} bytes (${ms.toFixed(1)} ms)`,
      );
      for (const u of e.unindexed) console.log(`not indexed: ${u.path}: ${u.reason}`);
    }
    for (const p of e.problems) console.error(`pcapmesh-pcap estimate: ${p.path}: ${p.reason}`);
    return e.problems.length > 0 ? 1 : 0;
  },
};
