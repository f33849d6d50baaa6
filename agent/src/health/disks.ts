/**
 * Which filesystem holds each capture directory: the mount point that is the longest prefix of
 * the directory's real path (symlinks resolved; a directory that does not exist yet is matched
 * through its nearest existing ancestor).
 */
import { realpathSync } from 'node:fs';
import { dirname, resolve, sep } from 'node:path';
import type { HealthMessage } from '@pcapmesh/shared/wire';

export interface MountInfo {
  mount: string;
  fs: string;
  size: number;
  used: number;
  available: number;
}

/** Real path of `dir`, or of its nearest existing ancestor when it does not exist. */
export function realDirectory(dir: string): string {
  let p = resolve(dir);
  for (;;) {
    try {
      return realpathSync(p);
    } catch {
      const up = dirname(p);
      if (up === p) return p;
      p = up;
    }
  }
}

/** The mount among `mounts` whose path is the longest prefix of `path` (path-segment aware). */
export function mountOf<M extends { mount: string }>(path: string, mounts: M[]): M | undefined {
  let best: M | undefined;
  for (const m of mounts) {
    const prefix = m.mount.endsWith(sep) ? m.mount : m.mount + sep;
    const inside = path === m.mount || path.startsWith(prefix) || m.mount === sep;
    if (inside && (!best || m.mount.length > best.mount.length)) best = m;
  }
  return best;
}

/** One disk entry per filesystem that holds at least one capture directory. */
export function disksOf(directories: string[], mounts: MountInfo[]): HealthMessage['disks'] {
  const byMount = new Map<MountInfo, string[]>();
  for (const dir of directories) {
    const m = mountOf(realDirectory(dir), mounts);
    if (!m) continue;
    byMount.set(m, [...(byMount.get(m) ?? []), dir]);
  }
  return [...byMount].map(([m, dirs]) => ({
    mount: m.mount,
    fs: m.fs,
    size: m.size,
    used: m.used,
    available: m.available,
    directories: dirs,
  }));
}
