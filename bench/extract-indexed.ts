/**
 * Figure: indexed extract (sidecar format 3: posting lists, positioned reads) of one host over a
 * 10-minute window of a one-hour, 60-file directory, for three host classes (rare, sparse, heavy;
 * see extract-indexed-data.ts), against tcpdump in the same run. Goals (#12): ≥ 20× tcpdump over
 * the whole directory and ≥ 3× tcpdump over only the window's files for rare and sparse hosts;
 * heavy never slower than our own non-indexed scan (`--no-index`); peak memory < 200 MB. Also the
 * index itself: size ≤ 3 % of the capture, built at ≥ 150 MB/s per core (`pcapmesh-pcap index
 * --force`, CPU time), and `pcapmesh-pcap estimate` (< 50 ms per indexed hour, exact for hosts).
 *
 *   node --conditions=pcapmesh-src --import tsx bench/extract-indexed.ts [RUNS=5] [GIB=1] [CLASSES=rare,sparse,heavy]
 *
 * Ours is the `pcapmesh-pcap` command as users run it (the bundle `npm run build` makes, a new
 * Node process per run), and extract() called repeatedly in one running process, as the agent's
 * task runner does (bench/lib/extract-calls.js). tcpdump has no time window: it is given all the directory's files and,
 * as the strictest reference, only the files that overlap the window (what an analyst picks by
 * hand from the names). Packet counts are checked in every run: ours (indexed and not) must equal
 * tcpdump's selection over the window's files, cut to the window.
 */
import { mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { openCapture } from '@pcapmesh/shared/pcap/reader';
import { captureTimeRange } from '@pcapmesh/shared/pcap/time-range';
import { benchRoot, dataDir, pcapCli, sharedDist } from './lib/data.js';
import { machine, measure, type Measurement } from './lib/measure.js';
import { throughTagsExpression } from './extract-data.js';
import { HOSTS, START, indexedBenchDir, type HostClass } from './extract-indexed-data.js';

const runs = Number(process.argv[2] ?? 5);
const gib = Number(process.argv[3] ?? 1);
const classes = (process.argv[4] ?? 'rare,sparse,heavy').split(',') as HostClass[];
const from = { sec: START + 1200, nsec: 0 };
const to = { sec: START + 1800, nsec: 0 };
const { dir, files, bytes } = indexedBenchDir(gib);
const cli = pcapCli();
const load = (): string => loadavg()[0]!.toFixed(1);

console.log(`Machine: ${machine()}; load average at start ${load()}\n`);

// The index: built from scratch (--force) once, timed; --settle 0: the generator closed every file.
const index = measure('pcapmesh-pcap index --force (whole hour)', process.execPath, [cli, 'index', '--force', '--settle', '0', dir], { runs: 1 });
const indexBytes = files.reduce((n, f) => n + statSync(`${f}.pmidx`).size, 0);
console.log(
  `index: ${files.length} files, ${(bytes / 1e6).toFixed(0)} MB → ${(indexBytes / 1e6).toFixed(2)} MB of sidecars = ` +
    `**${((100 * indexBytes) / bytes).toFixed(2)} %** of the capture; built in ${index.seconds.toFixed(2)} s wall, ` +
    `${index.cpuSeconds.toFixed(2)} s CPU = **${(bytes / 1e6 / index.cpuSeconds).toFixed(0)} MB/s per core**; peak RSS ${index.peakRssMiB.toFixed(0)} MiB (load ${load()})\n`,
);

const overlapping = files.filter((f) => {
  const { first, last } = captureTimeRange(f);
  return first && last && last.sec >= from.sec && first.sec < to.sec;
});
const windowBytes = overlapping.reduce((n, f) => n + statSync(f).size, 0);
const oursOut = join(dataDir, 'extract-indexed-ours.pcap');
const refDir = join(dataDir, 'extract-indexed-tcpdump');
const resetRef = (): void => {
  rmSync(refDir, { recursive: true, force: true });
  mkdirSync(refDir, { recursive: true });
};
const count = (path: string, cut: boolean): number => {
  let n = 0;
  const r = openCapture(path);
  for (let p = r.next(); p; p = r.next()) if (!cut || (p.sec >= from.sec && p.sec < to.sec)) n++;
  r.close();
  return n;
};

const summary: string[] = [];
let failed = false;
for (const cls of classes) {
  const host = HOSTS[cls];
  const filter = `host ${host}`;
  const window = ['--from', String(from.sec), '--to', String(to.sec)];
  const est = spawnSync(process.execPath, [cli, 'estimate', '--json', ...window, '-f', filter, dir], { encoding: 'utf8' });
  if (est.status !== 0) throw new Error(`estimate failed: ${est.stderr}`);
  const estimate = JSON.parse(est.stdout) as { packets: number; bytes: number; exact: boolean; bytesToRead: number; ms: number; cpuMs: number };

  let oursPackets = -1;
  const countOurs = (): void => {
    oursPackets = count(oursOut, false);
  };
  const ours = measure(`${cls}: pcapmesh-pcap extract (indexed)`, process.execPath, [cli, 'extract', ...window, '-f', filter, '-o', oursOut, dir], {
    runs,
    before: () => rmSync(oursOut, { force: true }),
  });
  countOurs();
  const inProcess = inProcessCalls(filter, runs);
  const plain = measure(
    `${cls}: pcapmesh-pcap extract --no-index`,
    process.execPath,
    [cli, 'extract', '--no-index', ...window, '-f', filter, '-o', oursOut, dir],
    {
      runs: Math.min(runs, 3),
      before: () => rmSync(oursOut, { force: true }),
    },
  );
  const plainPackets = count(oursOut, false);
  const expr = throughTagsExpression(filter);
  const script = `for f in "$@"; do tcpdump -r "$f" -w "${refDir}/$(basename "$f")" '${expr}' 2>/dev/null || exit 1; done`;
  const refAll = measure(`${cls}: tcpdump -r (all ${files.length} files)`, 'sh', ['-c', script, 'sh', ...files], { runs: Math.min(runs, 3), before: resetRef });
  const refWindow = measure(`${cls}: tcpdump -r (${overlapping.length} files of the window)`, 'sh', ['-c', script, 'sh', ...overlapping], {
    runs,
    before: resetRef,
  });
  const refPackets = overlapping.reduce((n, f) => n + count(join(refDir, f.slice(dir.length + 1)), true), 0);
  const equal = oursPackets === refPackets && plainPackets === refPackets;
  failed ||= !equal || (estimate.exact && estimate.packets !== refPackets) || estimate.packets < refPackets;
  const row = (m: Measurement): string =>
    `| ${m.label} | ${m.seconds.toFixed(3)} | ${m.runs.map((s) => s.toFixed(3)).join(' / ')} | ${m.cpuSeconds.toFixed(3)} | ${m.peakRssMiB.toFixed(0)} |`;
  console.log(`#### ${cls} host ${host} (load ${load()})\n`);
  console.log('| tool | median wall s | runs (wall s) | median CPU s | peak RSS MiB |\n|---|---:|---|---:|---:|');
  for (const m of [ours, inProcess, plain, refAll, refWindow]) console.log(row(m));
  console.log(
    `\npackets in the window: ours ${oursPackets}, ours --no-index ${plainPackets}, tcpdump ${refPackets} (${equal ? 'equal' : 'DIFFERENT'}); ` +
      `estimate ${estimate.exact ? 'exactly' : 'at most'} ${estimate.packets} packets in ${estimate.ms} ms (${estimate.cpuMs} ms CPU), plan reads ${(estimate.bytesToRead / 1e6).toFixed(2)} MB ` +
      `of the window's ${(windowBytes / 1e6).toFixed(0)} MB\n`,
  );
  summary.push(
    `| ${cls} | ${ours.seconds.toFixed(3)} | **${(refAll.seconds / ours.seconds).toFixed(1)}×** | **${(refWindow.seconds / ours.seconds).toFixed(1)}×** | ` +
      `${(plain.seconds / ours.seconds).toFixed(1)}× | ${inProcess.seconds.toFixed(3)} | ${(refAll.seconds / inProcess.seconds).toFixed(0)}× / ${(refWindow.seconds / inProcess.seconds).toFixed(1)}× | ${(estimate.bytesToRead / 1e6).toFixed(2)} | ${estimate.exact ? 'exact' : 'bound'} ${estimate.packets} = ${refPackets} | ${estimate.ms} (CPU ${estimate.cpuMs}) | ${Math.max(ours.peakRssMiB, plain.peakRssMiB).toFixed(0)} |`,
  );
}
console.log(
  `### ${gib} GiB hour, ${files.length} files (${(bytes / 1e6).toFixed(0)} MB; ${overlapping.length} files / ${(windowBytes / 1e6).toFixed(0)} MB overlap the window), load at end ${load()}\n`,
);
console.log(
  '| host | command s | vs tcpdump, all files | vs tcpdump, window files | vs ours --no-index | in-process s (later calls) | in-process vs tcpdump all / window | MB read (plan) | estimate | estimate ms | peak RSS MiB |',
);
console.log('|---|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|');
for (const line of summary) console.log(line);
rmSync(oursOut, { force: true });
rmSync(refDir, { recursive: true, force: true });
/**
 * `runs + 1` extract() calls in one running process (bench/lib/extract-calls.js), as the agent's task
 * runner calls it: the median of the calls after the first (Node start-up and module loading excluded).
 */
function inProcessCalls(filter: string, n: number): Measurement {
  const options = { inputs: [dir], output: oursOut, filter, from, to };
  const run = spawnSync(process.execPath, [join(benchRoot, 'lib/extract-calls.js'), sharedDist, String(n + 1), JSON.stringify(options)], { encoding: 'utf8' });
  if (run.status !== 0) throw new Error(`extract-calls.js failed: ${run.stderr}`);
  const { calls, peakRssMiB } = JSON.parse(run.stdout) as { calls: Array<{ wall: number; cpu: number }>; peakRssMiB: number };
  const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const later = calls.slice(1);
  return {
    label: 'extract() in a running process, later calls',
    seconds: median(later.map((c) => c.wall)),
    runs: later.map((c) => c.wall),
    cpuSeconds: median(later.map((c) => c.cpu)),
    peakRssMiB,
  };
}

if (failed) {
  console.error('packet counts differ (or an exact estimate is wrong)');
  process.exitCode = 1;
}
