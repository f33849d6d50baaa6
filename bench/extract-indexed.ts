/**
 * Figure: indexed extract of one host over a 10-minute window of a 1-hour, 1 GB directory vs
 * tcpdump over the same files, same run. Goal: at least 20× faster; peak memory under 200 MB.
 *
 *   node --conditions=pcapmesh-src --import tsx bench/extract-indexed.ts [RUNS=3] [HOST=10.64.3.7]
 *
 * Input: the 4,000-host 1-hour directory (see extract-data.ts): one host is a small share of the
 * traffic, as on a real link.
 * Sidecar indexes are built first (`pcapmesh-pcap index`, not timed). tcpdump has no time window,
 * so it is measured twice: over the files that overlap the window (what an analyst would feed
 * it — the fair comparison) and over all files. Packet counts are checked: ours must equal
 * tcpdump's selection over the overlapping files, cut to the window.
 */
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { openCapture } from '@pcapmesh/shared/pcap/reader';
import { captureTimeRange } from '@pcapmesh/shared/pcap/time-range';
import { dataDir, pcapCli } from './lib/data.js';
import { measure, printTable } from './lib/measure.js';
import { START, extractBenchDir, throughTagsExpression } from './extract-data.js';

const runs = Number(process.argv[2] ?? 3);
const host = process.argv[3] ?? '10.64.3.7';
const filter = `host ${host}`;
const from = { sec: START + 1200, nsec: 0 };
const to = { sec: START + 1800, nsec: 0 };
const { dir, files, bytes } = extractBenchDir(true);

const indexed = spawnSync(process.execPath, [pcapCli(), 'index', dir], { encoding: 'utf8' });
if (indexed.status !== 0) throw new Error(`pcapmesh-pcap index failed: ${indexed.stderr}`);
const overlapping = files.filter((f) => {
  const { first, last } = captureTimeRange(f);
  return first && last && last.sec >= from.sec && first.sec < to.sec;
});

const oursOut = join(dataDir, 'extract-indexed-ours.pcap');
const refDir = join(dataDir, 'extract-indexed-tcpdump');
const expr = throughTagsExpression(filter);
const script = `for f in "$@"; do tcpdump -r "$f" -w "${refDir}/$(basename "$f")" '${expr}' 2>/dev/null || exit 1; done`;
const resetRef = (): void => { rmSync(refDir, { recursive: true, force: true }); mkdirSync(refDir, { recursive: true }); };

const ours = measure('pcapmesh-pcap extract (indexed)', process.execPath,
  [pcapCli(), 'extract', '--from', String(from.sec), '--to', String(to.sec), '-f', filter, '-o', oursOut, dir],
  { runs, before: () => rmSync(oursOut, { force: true }) });
const refAll = measure(`tcpdump -r (all ${files.length} files)`, 'sh', ['-c', script, 'sh', ...files], { runs, before: resetRef });
const refWindow = measure(`tcpdump -r (${overlapping.length} files overlapping the window)`, 'sh', ['-c', script, 'sh', ...overlapping], { runs, before: resetRef });

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
printTable(`indexed extract: host ${host}, 10 min of a 1-hour directory (${files.length} files, ${(bytes / 1e6).toFixed(0)} MB; ${overlapping.length} files / ${(windowBytes / 1e6).toFixed(0)} MB overlap the window)`, [ours, refWindow, refAll]);
console.log(`packets in the window: ours ${oursPackets}, tcpdump ${refPackets} (${oursPackets === refPackets ? 'equal' : 'DIFFERENT'}); ` +
  `speed ratio vs tcpdump over the overlapping files: ${(refWindow.seconds / ours.seconds).toFixed(1)}×, over all files: ${(refAll.seconds / ours.seconds).toFixed(1)}×; ours peak RSS ${ours.peakRssMiB.toFixed(0)} MiB (limit 200)`);
rmSync(oursOut, { force: true });
rmSync(refDir, { recursive: true, force: true });
if (oursPackets !== refPackets) process.exitCode = 1;
