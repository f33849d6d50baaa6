/**
 * Figure: what the agent's traffic summaries (agent/src/traffic/summary.ts) add to a sidecar
 * index build, which reads and decodes every packet anyway. In one process, alternating: the
 * build alone, then the build with the TrafficAccumulator as its per-packet observer (IPv4 /24,
 * IPv6 /64, 1,000 pairs a minute). CPU seconds per build (process.cpuUsage), page cache warm,
 * so the figure is the decode + summary cost, not the disk.
 *
 *   node --conditions=pcapmesh-src --import tsx bench/traffic-index.ts [MB=200] [RUNS=9]
 */
import { statSync } from 'node:fs';
import { buildIndexData } from '@pcapmesh/shared/pcap/sidecar/index';
import { TrafficAccumulator } from '../agent/src/traffic/summary.js';
import { generated } from './lib/data.js';

const mb = Number(process.argv[2] ?? 200);
const runs = Number(process.argv[3] ?? 9);
const file = generated(`traffic-${mb}MB.pcap`, { seed: 42, bytes: mb * 1024 * 1024, duration: 600 });
const size = statSync(file).size;
let packets = 0;
let minutes = 0;
const modes: Record<string, () => void> = {
  'index build': () => {
    buildIndexData(file);
  },
  'index build + traffic': () => {
    const acc = new TrafficAccumulator({ ipv4Prefix: 24, ipv6Prefix: 64, maxPairsPerMinute: 1000 });
    buildIndexData(file, undefined, acc.observe);
    const r = acc.finish();
    packets = r.packets + r.skipped;
    minutes = r.minutes.length;
  },
};
const seconds: Record<string, number[]> = {};
for (const run of Object.values(modes)) run(); // page cache and JIT warm
for (let i = 0; i < runs; i++) {
  for (const [name, run] of Object.entries(modes)) {
    const before = process.cpuUsage();
    run();
    const used = process.cpuUsage(before);
    (seconds[name] ??= []).push((used.user + used.system) / 1e6);
  }
}
console.log(`${(size / 1e6).toFixed(0)} MB, ${packets} packets, ${minutes} minutes; CPU seconds per build over ${runs} alternating runs`);
console.log('| build | median CPU s | min | max | MB/s per core |');
console.log('|---|---:|---:|---:|---:|');
const medians: number[] = [];
for (const [name, list] of Object.entries(seconds)) {
  list.sort((a, b) => a - b);
  const median = list[Math.floor(list.length / 2)]!;
  medians.push(median);
  console.log(`| ${name} | ${median.toFixed(3)} | ${list[0]!.toFixed(3)} | ${list.at(-1)!.toFixed(3)} | ${(size / 1e6 / median).toFixed(0)} |`);
}
console.log(
  `traffic adds ${(((medians[1]! - medians[0]!) / medians[0]!) * 100).toFixed(0)} % CPU, ${(((medians[1]! - medians[0]!) * 1e9) / packets).toFixed(0)} ns a packet`,
);
