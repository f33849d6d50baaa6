// Runs the library's extract() several times in ONE process, the way the agent's task runner does
// (a long-running process that loaded the library once), and prints per-call wall and CPU times
// plus the process's peak RSS as JSON. Spawned by bench/extract-indexed.ts; not timed itself.
//
//   node bench/lib/extract-calls.js SHARED_DIST CALLS OPTIONS_JSON
//
// SHARED_DIST is the compiled shared/ (bench/data/shared-dist): JavaScript as users run it.
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

const [dist, callsText, optionsJson] = process.argv.slice(2);
if (!dist || !callsText || !optionsJson) {
  console.error('usage: extract-calls.js SHARED_DIST CALLS OPTIONS_JSON');
  process.exit(2);
}
const { extract } = await import(pathToFileURL(join(dist, 'pcap/extract.js')).href);
const options = JSON.parse(optionsJson);
const calls = [];
for (let i = 0; i < Number(callsText); i++) {
  const cpu = process.cpuUsage();
  const started = process.hrtime.bigint();
  const stats = await extract(options);
  const wall = Number(process.hrtime.bigint() - started) / 1e9;
  const used = process.cpuUsage(cpu);
  calls.push({ wall, cpu: (used.user + used.system) / 1e6, packets: stats.packets });
}
console.log(JSON.stringify({ calls, peakRssMiB: process.resourceUsage().maxRSS / 1024 }));
