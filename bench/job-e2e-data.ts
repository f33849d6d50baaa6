/**
 * Input of bench/job-e2e.ts: three sensors' capture directories, one hour each (≈ 1 GiB per sensor
 * by default), generated once under bench/data/job-e2e/ with the deterministic generator and
 * indexed with `pcapmesh-pcap index` (sidecars beside the files, as the agent's indexer leaves them).
 *
 * Host classes, the same on every link unless said:
 * - typical host `10.64.3.7`: one of 4,000 clients (10.64.0.0/20, a quarter behind VLAN 64), about
 *   1/4,440 of the flows — what "one host" is on a real link;
 * - heavy host `10.99.0.1`: listed 440 times among the clients, so about a tenth of all flows
 *   (≈ 10 % of every block) — an index cannot skip much for it;
 * - sparse host `10.77.0.1`: only on sensor C's link, as one client of 4,441; the other two sensors'
 *   indexes rule out every block.
 *
 *   node --conditions=pcapmesh-src --import tsx bench/job-e2e-data.ts [GIB=1]   (prepare only)
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeRollingCaptures } from '@pcapmesh/shared/pcap/gen/output';
import { dataDir, pcapCli } from './lib/data.js';

export const START = 1_767_261_600; // 2026-01-01T10:00:00Z
export const DURATION = 3600;
export const FILE_SECONDS = 225;
export const HOSTS = { typical: '10.64.3.7', heavy: '10.99.0.1', sparse: '10.77.0.1' } as const;
export type HostClass = keyof typeof HOSTS;
const GIB = 1024 * 1024 * 1024;

export interface BenchSensor {
  name: string;
  location: string;
  dir: string;
  files: string[];
  bytes: number;
}

const SENSORS = [
  { name: 'sensor-a', location: 'dc-east', seed: 61, sparse: false },
  { name: 'sensor-b', location: 'dc-west', seed: 62, sparse: false },
  { name: 'sensor-c', location: 'branch-north', seed: 63, sparse: true },
] as const;

function clients(withSparse: boolean): string[] {
  const hosts = Array.from({ length: 4000 }, (_, i) => `10.64.${i >> 8}.${i & 255}${i % 4 === 3 ? '%64' : ''}`);
  for (let i = 0; i < 440; i++) hosts.push(HOSTS.heavy);
  if (withSparse) hosts.push(HOSTS.sparse);
  return hosts;
}

const captures = (dir: string): string[] =>
  existsSync(dir)
    ? readdirSync(dir)
        .filter((n) => n.endsWith('.pcap'))
        .sort()
        .map((n) => join(dir, n))
    : [];

/** The three sensors' directories, generated and indexed when missing (or smaller than `gib`). */
export function benchSensors(gib = 1): BenchSensor[] {
  const root = join(dataDir, gib === 1 ? 'job-e2e' : `job-e2e-${gib}G`);
  return SENSORS.map(({ name, location, seed, sparse }) => {
    const dir = join(root, name);
    let files = captures(dir);
    let bytes = files.reduce((n, f) => n + statSync(f).size, 0);
    if (bytes < gib * GIB) {
      console.error(`generating ${dir} (${gib} GiB over 1 hour)…`);
      writeRollingCaptures(dir, { seed, bytes: gib * GIB, start: START, duration: DURATION, hosts: clients(sparse) }, FILE_SECONDS);
      files = captures(dir);
      bytes = files.reduce((n, f) => n + statSync(f).size, 0);
    }
    // --settle 0: the generator closed every file. Fresh sidecars are kept (index skips them).
    const indexed = spawnSync(process.execPath, [pcapCli(), 'index', '--settle', '0', dir], { encoding: 'utf8' });
    if (indexed.status !== 0) throw new Error(`pcapmesh-pcap index ${dir} failed: ${indexed.stderr}`);
    return { name, location, dir, files, bytes };
  });
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const sensors = benchSensors(Number(process.argv[2] ?? 1));
  for (const s of sensors) console.log(`${s.name}: ${s.files.length} files, ${(s.bytes / 1e6).toFixed(0)} MB in ${s.dir}`);
}
