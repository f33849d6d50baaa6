/**
 * Ring retention for a managed capture directory: deletes the oldest files the agent's tcpdump
 * wrote (`{interface}-YYYYMMDDhhmmss.pcap`, UTC names, so name order is time order) while the
 * directory holds more than `maxBytes` (0 = no byte limit) or its filesystem has less than
 * `minFreePercent` free. The newest file (being written) is never deleted, nor any file that
 * does not carry the agent's name pattern. A ring file's sidecar index (`<file>.pmidx`, see
 * pcap/indexer.ts) counts with it and goes with it.
 *
 * `RingRetention` schedules the sweeps: a full one of every ring now and then, and a cheap
 * free-space check in between, so a disk that fills faster than the full sweeps come is cut back
 * within a tick. (tcpdump does not stop on a full disk: it goes on writing empty and torn files and
 * loses every packet, silently — the ring must free space before that happens.)
 */
import { readdirSync, statfsSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { sidecarPath } from '@pcapmesh/shared/pcap/sidecar/index';

export interface RetentionPolicy {
  directory: string;
  interface: string;
  maxBytes: number;
  minFreePercent: number;
}

export interface SweepResult {
  /** Capture files deleted (their sidecars went with them). */
  deleted: string[];
  /** Bytes of the deleted captures and their sidecars. */
  deletedBytes: number;
  /** Bytes of the agent's files (ring captures and their sidecars) left in the directory. */
  keptBytes: number;
}

/** The file name tcpdump writes for `iface` (strftime pattern for -w with -G). */
export function ringPattern(iface: string): string {
  return `${iface}-%Y%m%d%H%M%S.pcap`;
}

function ringRegExp(iface: string): RegExp {
  return new RegExp(`^${iface.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}-\\d{14}\\.pcap$`);
}

/** Percentage of the filesystem holding `dir` that unprivileged users can still write. */
export function freePercent(dir: string): number {
  const s = statfsSync(dir);
  return s.blocks > 0 ? (s.bavail / s.blocks) * 100 : 100;
}

export function sweep(policy: RetentionPolicy, free: (dir: string) => number = freePercent): SweepResult {
  const pattern = ringRegExp(policy.interface);
  let names: string[];
  try {
    names = readdirSync(policy.directory);
  } catch (err) {
    // Not created yet (tcpdump creates it on start): nothing to retain.
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { deleted: [], deletedBytes: 0, keptBytes: 0 };
    throw new Error(`ring retention cannot list ${policy.directory}`, { cause: err });
  }
  const files = names
    .filter((n) => pattern.test(n))
    .sort()
    .flatMap((name) => {
      const path = join(policy.directory, name);
      try {
        return [{ path, size: statSync(path).size + sizeIfAny(sidecarPath(path)) }];
      } catch {
        return [];
      }
    });
  let total = files.reduce((n, f) => n + f.size, 0);
  const result: SweepResult = { deleted: [], deletedBytes: 0, keptBytes: total };
  const overBytes = () => policy.maxBytes > 0 && total > policy.maxBytes;
  const lowSpace = () => policy.minFreePercent > 0 && free(policy.directory) < policy.minFreePercent;
  for (const f of files.slice(0, -1)) {
    if (!overBytes() && !lowSpace()) break;
    // The capture first: a sidecar without its capture is an orphan the indexer removes, a capture
    // without its sidecar is merely unindexed.
    unlinkIfAny(f.path);
    unlinkIfAny(sidecarPath(f.path));
    total -= f.size;
    result.deleted.push(f.path);
    result.deletedBytes += f.size;
  }
  result.keptBytes = total;
  return result;
}

/**
 * Sweeps a set of rings on a schedule the caller drives with `tick()` (the agent: every second).
 * Each tick costs one statfs per ring; a ring is swept (readdir + stat of its files) when its
 * filesystem is under `minFreePercent`, and every ring at the first tick and then every
 * `fullEveryMs` (the `maxBytes` bound is checked there).
 */
export class RingRetention {
  private lastFull = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly policies: readonly RetentionPolicy[],
    private readonly fullEveryMs = 10_000,
    private readonly free: (dir: string) => number = freePercent,
  ) {}

  /** One tick at `now`: the sweeps that deleted something. */
  tick(now = Date.now()): { policy: RetentionPolicy; result: SweepResult }[] {
    const full = now - this.lastFull >= this.fullEveryMs;
    if (full) this.lastFull = now;
    const out: { policy: RetentionPolicy; result: SweepResult }[] = [];
    for (const policy of this.policies) {
      if (!full && !(policy.minFreePercent > 0 && this.freeOrFull(policy.directory) < policy.minFreePercent)) continue;
      const result = sweep(policy, this.free);
      if (result.deleted.length > 0) out.push({ policy, result });
    }
    return out;
  }

  /** Free percentage of `dir`'s filesystem; 100 while the directory does not exist yet. */
  private freeOrFull(dir: string): number {
    try {
      return this.free(dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 100;
      throw new Error(`ring retention cannot check the free space of ${dir}`, { cause: err });
    }
  }
}

function sizeIfAny(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function unlinkIfAny(path: string): void {
  try {
    unlinkSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw new Error(`ring retention cannot delete ${path}`, { cause: err });
  }
}
