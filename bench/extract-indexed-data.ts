/**
 * Input of bench/extract-indexed.ts: one-hour rolling directories of 60 files (60 s each, as
 * `tcpdump -G 60` or a dumpcap ring leaves them) at 1 and 8 GiB an hour, generated once under
 * bench/data/extract-indexed-<N>G/ with the deterministic generator and kept (delete the directory
 * to regenerate). Sidecars are built by the bench (`pcapmesh-pcap index`).
 *
 * Host classes (bench/README.md "indexed extract"):
 * - rare `10.64.3.7`: one of 4,000 clients (10.64.0.0/20, a quarter behind VLAN 64), ≈ 1/4,440 of
 *   the flows: its packets sit in a few blocks;
 * - sparse `10.1.0.53`: the DNS resolver every client asks, ≈ 2 % of the packets of every block;
 * - heavy `10.99.0.1`: listed 440 times among the clients, ≈ 10 % of all flows and of every block.
 *
 *   node --conditions=pcapmesh-src --import tsx bench/extract-indexed-data.ts [GIB=1]   (prepare only)
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeRollingCaptures } from '@pcapmesh/shared/pcap/gen/output';
import { dataDir } from './lib/data.js';

export const START = 1_767_261_600; // 2026-01-01T10:00:00Z
export const DURATION = 3600;
export const FILE_SECONDS = 60;
export const HOSTS = { rare: '10.64.3.7', sparse: '10.1.0.53', heavy: '10.99.0.1' } as const;
export type HostClass = keyof typeof HOSTS;
const GIB = 1024 * 1024 * 1024;

function clients(): string[] {
  const hosts = Array.from({ length: 4000 }, (_, i) => `10.64.${i >> 8}.${i & 255}${i % 4 === 3 ? '%64' : ''}`);
  for (let i = 0; i < 440; i++) hosts.push(HOSTS.heavy);
  return hosts;
}

/** The directory of `gib` GiB and its capture files (sidecars excluded), generated when missing or short. */
export function indexedBenchDir(gib: number): { dir: string; files: string[]; bytes: number } {
  const dir = join(dataDir, `extract-indexed-${gib}G`);
  const list = (): string[] =>
    existsSync(dir)
      ? readdirSync(dir)
          .filter((n) => n.endsWith('.pcap'))
          .sort()
          .map((n) => join(dir, n))
      : [];
  let files = list();
  let bytes = files.reduce((n, f) => n + statSync(f).size, 0);
  if (bytes < gib * GIB) {
    console.error(`generating ${dir} (${gib} GiB over 1 hour, ${DURATION / FILE_SECONDS} files)…`);
    writeRollingCaptures(dir, { seed: 71, bytes: gib * GIB, start: START, duration: DURATION, hosts: clients() }, FILE_SECONDS);
    files = list();
    bytes = files.reduce((n, f) => n + statSync(f).size, 0);
  }
  return { dir, files, bytes };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { dir, files, bytes } = indexedBenchDir(Number(process.argv[2] ?? 1));
  console.log(`${dir}: ${files.length} files, ${(bytes / 1e6).toFixed(0)} MB`);
}
