/**
 * Figure: reader throughput. Our streaming reader iterating every packet of a large capture
 * (in-process, warm page cache), and `pcapmesh-pcap info` (reads every packet) next to
 * `capinfos -c -a -e` and `tcpdump -r FILE -w /dev/null` on the same file, same run.
 * (pcap-parser, the npm alternative, reads only classic µs pcap at ~200 MB/s — see README.)
 *
 *   node --conditions=pcapmesh-src --import tsx bench/reader.ts [MB=1024] [RUNS=3]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { openCapture } from '@pcapmesh/shared/pcap/reader';
import { generated, pcapCli } from './lib/data.js';
import { machine, measure, printTable } from './lib/measure.js';

const mb = Number(process.argv[2] ?? 1024);
const runs = Number(process.argv[3] ?? 3);
const file = generated(`reader-${mb}MB.pcap`, { seed: 42, bytes: mb * 1024 * 1024 });
const size = statSync(file).size;

/** In-process: packets and bytes touched per second by the bare reader loop. */
function readerLoop(path = file): { seconds: number; cpuSeconds: number; packets: number } {
  const started = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const r = openCapture(path);
  let packets = 0;
  let check = 0;
  for (let p = r.next(); p; p = r.next()) {
    packets++;
    check += p.caplen;
  }
  r.close();
  if (check <= 0) throw new Error('no packets read');
  const used = process.cpuUsage(cpu);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, cpuSeconds: (used.user + used.system) / 1e6, packets };
}

readerLoop(); // warm the page cache and the JIT
const loops = Array.from({ length: runs }, readerLoop).sort((a, b) => a.seconds - b.seconds);
const median = loops[Math.floor(loops.length / 2)]!;
console.log(`### reader: bare packet loop, ${(size / 1e6).toFixed(0)} MB, ${median.packets} packets\n`);
console.log(`Machine: ${machine()}\n`);
const best = loops[0]!;
console.log(
  `openCapture + next() over every packet: median ${median.seconds.toFixed(2)} s wall = ${(size / 1e6 / median.seconds).toFixed(0)} MB/s, ${(median.packets / median.seconds / 1e6).toFixed(2)} M packets/s; best ${(size / 1e6 / best.seconds).toFixed(0)} MB/s; CPU time of the median run ${(size / 1e6 / median.cpuSeconds).toFixed(0)} MB/s of CPU\n`,
);

// The same packets as pcapng, written by the reference tool (editcap), as sensors running dumpcap write.
const ngFile = file.replace(/\.pcap$/, '.pcapng');
if (!existsSync(ngFile)) {
  const r = spawnSync('editcap', ['-F', 'pcapng', file, ngFile], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`editcap -F pcapng failed: ${r.stderr}`);
}
const ngSize = statSync(ngFile).size;
readerLoop(ngFile);
const ngLoops = Array.from({ length: runs }, () => readerLoop(ngFile)).sort((a, b) => a.seconds - b.seconds);
const ngMedian = ngLoops[Math.floor(ngLoops.length / 2)]!;
console.log(
  `pcapng (editcap -F pcapng of the same packets, ${(ngSize / 1e6).toFixed(0)} MB): median ${(ngSize / 1e6 / ngMedian.seconds).toFixed(0)} MB/s, ${(ngMedian.packets / ngMedian.seconds / 1e6).toFixed(2)} M packets/s\n`,
);

const ours = measure('pcapmesh-pcap info', process.execPath, [pcapCli(), 'info', file], { runs });
const capinfos = measure('capinfos -c -a -e', 'capinfos', ['-c', '-a', '-e', file], { runs });
const tcpdump = measure('tcpdump -r F -w /dev/null', 'tcpdump', ['-r', file, '-w', '/dev/null'], { runs });
printTable(`reading every packet of ${(size / 1e6).toFixed(0)} MB (process start included)`, [ours, capinfos, tcpdump], { bytes: size });
