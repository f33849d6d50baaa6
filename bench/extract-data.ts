/**
 * The inputs of the extract benches, generated once under bench/data/ with the deterministic
 * generator: 1-hour rolling directories of 16 files of 225 s each (1 GiB: ~67 MB per file).
 *
 * - `extract-1h`: the generator's default host mix (12 clients: every host is in every block).
 * - `extract-1h-hosts`: 4,000 clients (IPv4 10.64.0.0/20 untagged, a quarter on VLAN 64), so that
 *   "one host" is as selective as on a real sensor link — what an index can exploit.
 * - `extract-1h-hosts-<N>G`: the same traffic mix at N GiB per hour (a busier link).
 */
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { writeRollingCaptures } from '@pcapmesh/shared/pcap/gen/output';
import { dataDir } from './lib/data.js';

export const START = 1_767_261_600; // 2026-01-01T10:00:00Z
export const DURATION = 3600;
const GIB = 1024 * 1024 * 1024;

/** The directory and its capture files (sidecars excluded), generating them when missing. */
export function extractBenchDir(manyHosts = false, gib = 1): { dir: string; files: string[]; bytes: number } {
  const name = manyHosts ? 'extract-1h-hosts' : 'extract-1h';
  const dir = join(dataDir, gib === 1 ? name : `${name}-${gib}G`);
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
    console.error(`generating ${dir} (${gib} GiB over 1 hour)…`);
    const hosts = manyHosts ? Array.from({ length: 4000 }, (_, i) => `10.64.${i >> 8}.${i & 255}${i % 4 === 3 ? '%64' : ''}`) : undefined;
    writeRollingCaptures(dir, { seed: 42, bytes: gib * GIB, start: START, duration: DURATION, hosts }, 225);
    files = list();
    bytes = files.reduce((n, f) => n + statSync(f).size, 0);
  }
  return { dir, files, bytes };
}

/** `(F) or (vlan and ((F) or (vlan and (F))))`: the tcpdump form of a filter matched through VLAN tags. */
export function throughTagsExpression(filter: string): string {
  return `(${filter}) or (vlan and ((${filter}) or (vlan and (${filter}))))`;
}
