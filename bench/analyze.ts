/**
 * Figure: `pcapmesh-pcap analyze` vs `tshark -q -z conv,ip -z io,phs` on the same capture, same
 * run, for several classes of capture. Goal (#12): at least 10× tshark's speed on each; our peak
 * memory under 200 MB whatever the input size (tshark needs ~1.7 GB for 1 GB).
 *
 *   node --conditions=pcapmesh-src --import tsx bench/analyze.ts [MB=200] [RUNS=3] [TSHARK_RUNS=1] [CLASSES=all]
 *
 * CLASSES is a comma list of:
 * - small: pcapplusplus/Pcap++Test/example2.pcap of the shared corpus (2.9 MB of real mixed
 *   traffic: VLAN, IPv6, DNS, TLS, HTTP), where start-up dominates;
 * - mixed: the traffic generator's default mix (seed 1, one hour, ~830-byte average packets,
 *   IPv4/IPv6, VLAN/QinQ, TCP/UDP/ICMP/ARP, fragments; few conversations), MB;
 * - mixed-1g: the same at 1024 MB;
 * - many: 2,000 clients and 1,000 servers with short UDP/ICMP/DNS/TCP flows (~180-byte packets):
 *   hundreds of thousands of pairs and flows, past the exact tables' cap, MB;
 * - dns: DNS lookups only, 20,000 distinct names (~100-byte packets), MB;
 * - tls: TLS sessions only, 5,000 distinct SNI names, MB.
 * Inputs are generated once under bench/data/. Ours runs the compiled CLI with `--json` (the full
 * report, as the collector uses it). With PCAPMESH_BENCH_BEFORE=path/to/pcapmesh-pcap.js, a
 * second build (e.g. of an earlier commit) is measured too, on the same inputs.
 */
import { statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import type { GenOptions } from '@pcapmesh/shared/pcap/gen/generator';
import { pcapsDir } from '@pcapmesh/shared/util/testing';
import { generated, pcapCli } from './lib/data.js';
import { type Measurement, measure, printTable } from './lib/measure.js';

const mb = Number(process.argv[2] ?? 200);
const runs = Number(process.argv[3] ?? 3);
const tsharkRuns = Number(process.argv[4] ?? 1);
const ALL = ['small', 'mixed', 'mixed-1g', 'many', 'dns', 'tls'];
const classes = (process.argv[5] ?? ALL.join(',')).split(',');
for (const c of classes) if (!ALL.includes(c)) throw new Error(`unknown class "${c}" (classes: ${ALL.join(', ')})`);
const before = process.env.PCAPMESH_BENCH_BEFORE;

/** 2,000 clients (a quarter IPv6, every fifth IPv4 one tagged) and 1,000 servers. */
function manyHosts(): Pick<GenOptions, 'hosts' | 'servers'> {
  const hosts: string[] = [];
  const servers: string[] = [];
  for (let i = 0; i < 2000; i++) {
    hosts.push(
      i % 4 === 3 ? `2001:db8:${(i >> 8).toString(16)}::${(i + 1).toString(16)}` : `10.${i >> 8}.${i & 255}.${(i % 200) + 2}${i % 5 === 0 ? '%30' : ''}`,
    );
  }
  for (let i = 0; i < 1000; i++) servers.push(i % 5 === 4 ? `2606:4700:${i.toString(16)}::1` : `198.${18 + (i >> 8)}.${i & 255}.${(i % 250) + 1}`);
  return { hosts, servers };
}

const names = (n: number, zone: string): string[] => Array.from({ length: n }, (_, i) => `h${i}.${['svc', 'cdn', 'api', 'mail'][i % 4]}${i % 97}.${zone}`);

function input(name: string): string {
  const bytes = mb * 1024 * 1024;
  const hour = { seed: 1, duration: 3600 };
  switch (name) {
    case 'small':
      return join(pcapsDir(), 'pcapplusplus/Pcap++Test/example2.pcap');
    case 'mixed':
      return generated(`analyze-${mb}MB.pcap`, { ...hour, bytes });
    case 'mixed-1g':
      return generated('analyze-1024MB.pcap', { ...hour, bytes: 1024 * 1024 * 1024 });
    case 'many':
      return generated(`analyze-many-${mb}MB.pcap`, { ...hour, bytes, ...manyHosts(), mix: { udp: 6, ping: 1, dns: 1, tcp: 2 } });
    case 'dns':
      return generated(`analyze-dns-${mb}MB.pcap`, { ...hour, bytes, mix: { dns: 1 }, domains: names(20_000, 'example') });
    default:
      return generated(`analyze-tls-${mb}MB.pcap`, { ...hour, bytes, mix: { tls: 1 }, domains: names(5_000, 'example.net') });
  }
}

const summary: string[] = [];
for (const name of classes) {
  const path = input(name);
  const bytes = statSync(path).size;
  const load = loadavg()[0]!.toFixed(1);
  const rows: Measurement[] = [measure('pcapmesh-pcap analyze --json', process.execPath, [pcapCli(), 'analyze', '--json', path], { runs })];
  if (before) rows.push(measure('pcapmesh-pcap analyze --json (before)', process.execPath, [before, 'analyze', '--json', path], { runs }));
  const ref = measure('tshark -q -z conv,ip -z io,phs', 'tshark', ['-q', '-z', 'conv,ip', '-z', 'io,phs', '-r', path], { runs: tsharkRuns });
  rows.push(ref);
  const ours = rows[0]!;
  printTable(`analyze, ${name}: ${(bytes / 1e6).toFixed(0)} MB (load average ${load} at start)`, rows, { bytes });
  const line =
    `${name.padEnd(8)} ${(bytes / 1e6).toFixed(0).padStart(5)} MB: ratio wall ${(ref.seconds / ours.seconds).toFixed(1)}×, CPU ${(ref.cpuSeconds / ours.cpuSeconds).toFixed(1)}× ` +
    `(goal ≥ 10×); peak RSS ours ${ours.peakRssMiB.toFixed(0)} MiB (limit 200), tshark ${ref.peakRssMiB.toFixed(0)} MiB; load ${load} → ${loadavg()[0]!.toFixed(1)}` +
    (before ? `; before → now CPU ${(rows[1]!.cpuSeconds / ours.cpuSeconds).toFixed(2)}×` : '');
  summary.push(line);
  console.log(line);
}
console.log(`\nsummary\n${summary.join('\n')}`);
