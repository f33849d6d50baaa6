/**
 * Figure: `pcapmesh-pcap extract --no-index` over a 1 GB directory vs `tcpdump -r` of each file
 * with the same filter (same total work: every file read, matches written to a file), same run.
 * Goal: at least 1.0× tcpdump's throughput; peak memory under 200 MB.
 *
 *   node --conditions=pcapmesh-src --import tsx bench/extract-scan.ts [RUNS=3] [FILTER='host 10.1.2.20 and tcp port 443']
 *
 * tcpdump gets the through-VLAN-tags form of the filter, so both select the same packets; the
 * packet counts of both outputs are compared in the same run.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { openCapture } from '@pcapmesh/shared/pcap/reader';
import { dataDir, pcapCli } from './lib/data.js';
import { measure, printTable } from './lib/measure.js';
import { extractBenchDir, throughTagsExpression } from './extract-data.js';

const runs = Number(process.argv[2] ?? 3);
const filter = process.argv[3] ?? 'host 10.1.2.20 and tcp port 443';
const { dir, files, bytes } = extractBenchDir();
const oursOut = join(dataDir, 'extract-scan-ours.pcap');
const refDir = join(dataDir, 'extract-scan-tcpdump');
const expr = throughTagsExpression(filter);
const script = `for f in "$@"; do tcpdump -r "$f" -w "${refDir}/$(basename "$f")" '${expr.replace(/'/g, "'\\''")}' 2>/dev/null || exit 1; done`;

const ours = measure('pcapmesh-pcap extract --no-index', process.execPath, [pcapCli(), 'extract', '--no-index', '-f', filter, '-o', oursOut, dir], {
  runs,
  before: () => rmSync(oursOut, { force: true }),
});
const ref = measure('tcpdump -r (each file)', 'sh', ['-c', script, 'sh', ...files], {
  runs,
  before: () => {
    rmSync(refDir, { recursive: true, force: true });
    mkdirSync(refDir, { recursive: true });
  },
});

const count = (paths: string[]): number => {
  let n = 0;
  for (const p of paths) {
    const r = openCapture(p);
    while (r.next()) n++;
    r.close();
  }
  return n;
};
const oursPackets = count([oursOut]);
const refPackets = count(files.map((f) => join(refDir, f.slice(dir.length + 1))));
printTable(`extract --no-index, ${files.length} files, ${(bytes / 1e6).toFixed(0)} MB, filter '${filter}'`, [ours, ref], { bytes });
console.log(
  `packets selected: ours ${oursPackets}, tcpdump ${refPackets} (${oursPackets === refPackets ? 'equal' : 'DIFFERENT'}); ` +
    `throughput ratio (tcpdump time ÷ ours): ${(ref.seconds / ours.seconds).toFixed(2)}; ours peak RSS ${ours.peakRssMiB.toFixed(0)} MiB (limit 200)`,
);
rmSync(oursOut, { force: true });
rmSync(refDir, { recursive: true, force: true });
if (oursPackets !== refPackets) process.exitCode = 1;
