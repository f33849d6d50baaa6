/**
 * The inputs of the extract benches, generated once under bench/data/ with the deterministic
 * generator: 1-hour rolling directories of ~1.07 GB (16 files of 225 s, ~67 MB each).
 *
 * - `extract-1h`: the generator's default host mix (12 clients: every host is in every block).
 * - `extract-1h-hosts`: 4,000 clients (IPv4 10.64.0.0/20 untagged, a quarter on VLAN 64), so that
 *   "one host" is as selective as on a real sensor link — what an index can exploit.
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeRollingCaptures } from '@pcapmesh/shared/pcap/gen/output';
import { dataDir } from './lib/data.js';

export const START = 1_767_261_600; // 2026-01-01T10:00:00Z
export const DURATION = 3600;
const BYTES = 1024 * 1024 * 1024;

/** The directory and its capture files (sidecars excluded), generating them when missing. */
export function extractBenchDir(manyHosts = false): { dir: string; files: string[]; bytes: number } {
  const dir = join(dataDir, manyHosts ? 'extract-1h-hosts' : 'extract-1h');
  const list = (): string[] => (existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.pcap')).sort().map((n) => join(dir, n)) : []);
  let files = list();
  let bytes = files.reduce((n, f) => n + statSync(f).size, 0);
  if (bytes < BYTES) {
    console.error(`generating ${dir} (1 GiB over 1 hour)…`);
    const hosts = manyHosts ? Array.from({ length: 4000 }, (_, i) => `10.64.${i >> 8}.${i & 255}${i % 4 === 3 ? '%64' : ''}`) : undefined;
    writeRollingCaptures(dir, { seed: 42, bytes: BYTES, start: START, duration: DURATION, hosts }, 225);
    files = list();
    bytes = files.reduce((n, f) => n + statSync(f).size, 0);
  }
  return { dir, files, bytes };
}

/** `(F) or (vlan and ((F) or (vlan and (F))))`: the tcpdump form of a filter matched through VLAN tags. */
export function throughTagsExpression(filter: string): string {
  return `(${filter}) or (vlan and ((${filter}) or (vlan and (${filter}))))`;
}
