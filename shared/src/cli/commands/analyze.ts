/** `pcapmesh-pcap analyze [--json] [--top N] FILE...`: protocol breakdown, talkers, conversations. */
import { analyzeFiles } from '../../pcap/analyze/analyze-files.js';
import { formatReport } from '../../pcap/analyze/format.js';
import { UsageError, parseCommandLine, type CliCommand } from '../command.js';

export const command: CliCommand = {
  summary: 'protocols, conversations and top talkers of a capture',
  usage: `usage: pcapmesh-pcap analyze [--json] [--top N] FILE...

Reads the captures in order (pcap or pcapng; several files are analysed as one) and prints:
protocol breakdown (packets and bytes per Ethernet, VLAN, IPv4, IPv6, ARP, TCP, UDP, ICMP,
ICMPv6, other), top talkers, IP conversations and TCP/UDP flows (packets, bytes per direction,
first and last time), top ports, a packets-per-second timeline, DNS query names, TLS SNI and
HTTP Host names. Bytes are frame lengths on the wire, as tshark counts them.
  --json    print the report as JSON (the AnalysisReport type, version 1)
  --top N   rows per top list (default 20)
Memory is bounded: conversation tables are exact up to 100 000 entries, then approximate
(the report says so). Damage in a file is reported; packets before it are analysed.`,
  run(args) {
    const { values, positionals } = parseCommandLine(args, { json: { type: 'boolean' }, top: { type: 'string' } });
    if (positionals.length === 0) throw new UsageError('no FILE given');
    const top = values.top === undefined ? 20 : Number(values.top);
    if (!Number.isInteger(top) || top < 1) throw new UsageError(`--top wants a positive integer, not "${values.top}"`);
    const report = analyzeFiles(positionals, { top });
    for (const p of report.capture.problems) console.error(`pcapmesh-pcap analyze: warning: ${p.file}: at ${p.offset}: ${p.reason}`);
    console.log(values.json ? JSON.stringify(report) : formatReport(report));
    return 0;
  },
};
