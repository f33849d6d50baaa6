/**
 * Figure: sidecar index build speed and size. `pcapmesh-pcap index --force` (read + decode
 * every packet + write the .pmidx) next to `capinfos -c` (the cheapest full read of the same
 * file by a reference tool), same run. Goals: ≥ 150 MB/s per core, index ≤ 3 % of the capture.
 *
 *   node --conditions=pcapmesh-src --import tsx bench/sidecar.ts [MB=512] [RUNS=3]
 */
import { statSync } from 'node:fs';
import { generated, pcapCli } from './lib/data.js';
import { measure, printTable } from './lib/measure.js';

const mb = Number(process.argv[2] ?? 512);
const runs = Number(process.argv[3] ?? 3);
const file = generated(`reader-${mb}MB.pcap`, { seed: 42, bytes: mb * 1024 * 1024 });
const size = statSync(file).size;

const ours = measure('pcapmesh-pcap index --force', process.execPath, [pcapCli(), 'index', '--force', '--settle', '0', file], { runs });
const capinfos = measure('capinfos -c', 'capinfos', ['-c', file], { runs });
printTable(`index build of ${(size / 1e6).toFixed(0)} MB (process start included)`, [ours, capinfos], { bytes: size });
const indexBytes = statSync(`${file}.pmidx`).size;
console.log(
  `index: ${indexBytes} bytes = ${((100 * indexBytes) / size).toFixed(3)} % of the capture (limit 3 %); build ${(size / 1e6 / ours.seconds).toFixed(0)} MB/s on one core (goal ≥ 150)`,
);
