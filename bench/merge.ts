/**
 * Figure: `pcapmesh-pcap merge` of 8 inputs vs `mergecap -F pcap`, same inputs, same run.
 * Goal: at least 1.0× mergecap's speed, peak memory under 200 MB whatever the input size.
 *
 *   node --conditions=pcapmesh-src --import tsx bench/merge.ts [MB_PER_INPUT=128] [RUNS=3]
 *
 * Inputs: 8 deterministic synthetic captures (seeds 1–8, same time span so they interleave),
 * generated once under bench/data/. The outputs of both tools are compared byte for byte.
 */
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { dataDir, generated, pcapCli } from './lib/data.js';
import { measure, printTable } from './lib/measure.js';

const mbPerInput = Number(process.argv[2] ?? 128);
const runs = Number(process.argv[3] ?? 3);
const inputs = Array.from({ length: 8 }, (_, i) =>
  generated(`merge-in-${i + 1}-${mbPerInput}MB.pcap`, { seed: i + 1, bytes: mbPerInput * 1024 * 1024, start: 1_700_000_000, duration: 600 }),
);
const total = inputs.reduce((n, f) => n + statSync(f).size, 0);
const oursOut = join(dataDir, 'merge-out-ours.pcap');
const refOut = join(dataDir, 'merge-out-mergecap.pcap');
const clean = (f: string) => () => rmSync(f, { force: true });

const ours = measure('pcapmesh-pcap merge', process.execPath, [pcapCli(), 'merge', '--format', 'pcap', '-o', oursOut, ...inputs], {
  runs,
  before: clean(oursOut),
});
const ref = measure('mergecap -F pcap', 'mergecap', ['-F', 'pcap', '-w', refOut, ...inputs], { runs, before: clean(refOut) });
const identical = readFileSync(oursOut).equals(readFileSync(refOut));
// The cost of --dedup (mergecap has no equivalent; shown against the same mergecap run).
const dedup = measure('pcapmesh-pcap merge --dedup', process.execPath, [pcapCli(), 'merge', '--dedup', '--format', 'pcap', '-o', oursOut, ...inputs], {
  runs,
  before: clean(oursOut),
});

printTable(`merge: 8 inputs × ${mbPerInput} MiB (${(total / 1e6).toFixed(0)} MB in)`, [ours, ref], { bytes: total });
printTable(`merge --dedup (1 ms window) of the same inputs, vs the same mergecap runs`, [dedup, ref], { bytes: total });
console.log(
  `outputs byte-identical: ${identical ? 'yes' : 'NO'}; speed ratio (mergecap time ÷ ours): ${(ref.seconds / ours.seconds).toFixed(2)}; ours peak RSS ${ours.peakRssMiB.toFixed(0)} MiB (limit 200)`,
);
rmSync(oursOut, { force: true });
rmSync(refOut, { force: true });
if (!identical) process.exitCode = 1;
