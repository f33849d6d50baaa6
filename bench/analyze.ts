/**
 * Figure: `pcapmesh-pcap analyze` vs `tshark -q -z conv,ip -z io,phs` on the same generated
 * capture, same run. Goal: at least 10× tshark's speed; our peak memory under 200 MB whatever
 * the input size (tshark needs ~1.7 GB for 1 GB).
 *
 *   node --conditions=pcapmesh-src --import tsx bench/analyze.ts [MB=1024] [RUNS=3] [TSHARK_RUNS=1]
 *
 * Input: one deterministic capture from the traffic generator (seed 1, one hour, ~900-byte
 * average packets, IPv4/IPv6, VLAN/QinQ, TCP/UDP/ICMP/ARP, fragments), generated once under
 * bench/data/. Ours runs the compiled CLI with `--json` (the full report, as the collector uses it).
 */
import { statSync } from 'node:fs';
import { generated, pcapCli } from './lib/data.js';
import { measure, printTable } from './lib/measure.js';

const mb = Number(process.argv[2] ?? 1024);
const runs = Number(process.argv[3] ?? 3);
const tsharkRuns = Number(process.argv[4] ?? 1);
const input = generated(`analyze-${mb}MB.pcap`, { seed: 1, bytes: mb * 1024 * 1024, duration: 3600 });
const bytes = statSync(input).size;

const ours = measure('pcapmesh-pcap analyze --json', process.execPath, [pcapCli(), 'analyze', '--json', input], { runs });
const ref = measure('tshark -q -z conv,ip -z io,phs', 'tshark', ['-q', '-z', 'conv,ip', '-z', 'io,phs', '-r', input], { runs: tsharkRuns });

printTable(`analyze: ${(bytes / 1e6).toFixed(0)} MB generated capture`, [ours, ref], { bytes });
console.log(
  `speed ratio (tshark time ÷ ours): wall ${(ref.seconds / ours.seconds).toFixed(1)}×, CPU ${(ref.cpuSeconds / ours.cpuSeconds).toFixed(1)}× ` +
    `(goal ≥ 10×); peak RSS ours ${ours.peakRssMiB.toFixed(0)} MiB (limit 200), tshark ${ref.peakRssMiB.toFixed(0)} MiB`,
);
