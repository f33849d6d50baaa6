/**
 * Figure: indexed extract of one host over a 10-minute window of a 1-hour directory vs tcpdump
 * over the same files, same run. Goal: at least 20× faster; peak memory under 200 MB.
 *
 *   node --conditions=pcapmesh-src --import tsx bench/extract-indexed.ts [RUNS=5] [GIB=1] [HOST=10.64.3.7]
 *
 * Input: the 4,000-host 1-hour directory of GIB GiB (see extract-data.ts): one host is a small
 * share of the traffic, as on a real link. Sidecar indexes are built first (`pcapmesh-pcap
 * index`, not timed).
 *
 * Ours, two ways:
 * - the `pcapmesh-pcap extract` command (bundled, as `npm run build` leaves it): a new Node
 *   process per run, so Node's own start-up (~0.1 s here for `node -e 0`) is in every run;
 * - `extract()` in one running process, as the agent's task runner calls it (bench/lib/extract-calls.js):
 *   the first call (code not yet optimised) and the median of the later ones.
 * tcpdump has no time window, so it is measured over all the directory's files (the same files
 * ours is given) and, as the strictest reference, over only the files that overlap the window.
 * Packet counts are checked: ours must equal tcpdump's selection over those files, cut to the window.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { openCapture } from '@pcapmesh/shared/pcap/reader';
import { captureTimeRange } from '@pcapmesh/shared/pcap/time-range';
import { benchRoot, dataDir, pcapCli, sharedDist } from './lib/data.js';
import { measure, printTable, type Measurement } from './lib/measure.js';
import { START, extractBenchDir, throughTagsExpression } from './extract-data.js';

const runs = Number(process.argv[2] ?? 5);
const gib = Number(process.argv[3] ?? 1);
const host = process.argv[4] ?? '10.64.3.7';
const filter = `host ${host}`;
const from = { sec: START + 1200, nsec: 0 };
const to = { sec: START + 1800, nsec: 0 };
const { dir, files, bytes } = extractBenchDir(true, gib);

// --settle 0: the generator closed every file (by default the newest files count as still being written).
const indexed = spawnSync(process.execPath, [pcapCli(), 'index', '--settle', '0', dir], { encoding: 'utf8' });
if (indexed.status !== 0) throw new Error(`pcapmesh-pcap index failed: ${indexed.stderr}`);
const overlapping = files.filter((f) => {
  const { first, last } = captureTimeRange(f);
  return first && last && last.sec >= from.sec && first.sec < to.sec;
});

const oursOut = join(dataDir, 'extract-indexed-ours.pcap');
const refDir = join(dataDir, 'extract-indexed-tcpdump');
const expr = throughTagsExpression(filter);
const script = `for f in "$@"; do tcpdump -r "$f" -w "${refDir}/$(basename "$f")" '${expr}' 2>/dev/null || exit 1; done`;
const resetRef = (): void => {
  rmSync(refDir, { recursive: true, force: true });
  mkdirSync(refDir, { recursive: true });
};

const cli = measure(
  'pcapmesh-pcap extract (indexed), new process per run',
  process.execPath,
  [pcapCli(), 'extract', '--from', String(from.sec), '--to', String(to.sec), '-f', filter, '-o', oursOut, dir],
  { runs, before: () => rmSync(oursOut, { force: true }) },
);
const { first: inProcessFirst, later: inProcessLater } = inProcess(runs);
const refAll = measure(`tcpdump -r (all ${files.length} files)`, 'sh', ['-c', script, 'sh', ...files], { runs, before: resetRef });
const refWindow = measure(`tcpdump -r (${overlapping.length} files overlapping the window)`, 'sh', ['-c', script, 'sh', ...overlapping], {
  runs,
  before: resetRef,
});

let refPackets = 0;
for (const f of overlapping) {
  const r = openCapture(join(refDir, f.slice(dir.length + 1)));
  for (let p = r.next(); p; p = r.next()) if (p.sec >= from.sec && p.sec < to.sec) refPackets++;
  r.close();
}
let oursPackets = 0;
const r = openCapture(oursOut);
while (r.next()) oursPackets++;
r.close();

const windowBytes = overlapping.reduce((n, f) => n + captureTimeRange(f).bytes, 0);
printTable(
  `indexed extract: host ${host}, 10 min of a 1-hour directory (${files.length} files, ${(bytes / 1e6).toFixed(0)} MB; ` +
    `${overlapping.length} files / ${(windowBytes / 1e6).toFixed(0)} MB overlap the window)`,
  [cli, inProcessFirst, inProcessLater, refAll, refWindow],
);
console.log('Ours faster by (wall time; tcpdump ÷ ours):\n');
console.log(`| ours | vs ${refAll.label} | vs ${refWindow.label} |\n|---|---:|---:|`);
for (const ours of [cli, inProcessFirst, inProcessLater]) {
  console.log(`| ${ours.label} | ${(refAll.seconds / ours.seconds).toFixed(1)}× | ${(refWindow.seconds / ours.seconds).toFixed(1)}× |`);
}
console.log(
  `\npackets in the window: ours ${oursPackets}, tcpdump ${refPackets} (${oursPackets === refPackets ? 'equal' : 'DIFFERENT'}); ` +
    `peak RSS: command ${cli.peakRssMiB.toFixed(0)} MiB, running process ${inProcessLater.peakRssMiB.toFixed(0)} MiB (limit 200)`,
);
rmSync(oursOut, { force: true });
rmSync(refDir, { recursive: true, force: true });
if (oursPackets !== refPackets) process.exitCode = 1;

/** `runs + 1` extract() calls in one process: the first call, and the median of the others. */
function inProcess(n: number): { first: Measurement; later: Measurement } {
  const options = { inputs: [dir], output: oursOut, filter, from, to };
  const run = spawnSync(process.execPath, [join(benchRoot, 'lib/extract-calls.js'), sharedDist, String(n + 1), JSON.stringify(options)], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`extract-calls.js failed: ${run.stderr}`);
  const { calls, peakRssMiB } = JSON.parse(run.stdout) as { calls: Array<{ wall: number; cpu: number }>; peakRssMiB: number };
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const later = calls.slice(1);
  return {
    first: { label: 'extract() in a running process: first call', seconds: calls[0]!.wall, runs: [calls[0]!.wall], cpuSeconds: calls[0]!.cpu, peakRssMiB },
    later: {
      label: 'extract() in a running process: later calls',
      seconds: median(later.map((c) => c.wall)),
      runs: later.map((c) => c.wall),
      cpuSeconds: median(later.map((c) => c.cpu)),
      peakRssMiB,
    },
  };
}
