/**
 * Which filesystem holds each capture directory: the mount point that is the longest prefix of
 * the directory's real path (symlinks resolved; a directory that does not exist yet is matched
 * through its nearest existing ancestor), from the kernel's mount table — every filesystem,
 * tmpfs included (systeminformation's fsSize leaves tmpfs out, so a capture directory on tmpfs
 * was reported as `/`). Sizes come from statfs(2) of the directory itself.
 */
import { readFileSync, realpathSync, statfsSync } from 'node:fs';
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

/** The mount among `mounts` whose path is the longest prefix of `path` (path-segment aware; of equal ones the last, as a later mount hides an earlier one). */
export function mountOf<M extends { mount: string }>(path: string, mounts: M[]): M | undefined {
  let best: M | undefined;
  for (const m of mounts) {
    const prefix = m.mount.endsWith(sep) ? m.mount : m.mount + sep;
    const inside = path === m.mount || path.startsWith(prefix) || m.mount === sep;
    if (inside && (!best || m.mount.length >= best.mount.length)) best = m;
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

/** A line of /proc/self/mounts: device, mount point (octal escapes for space, tab, newline, backslash), type, … */
export function parseMounts(text: string): { mount: string; fs: string }[] {
  const unescape = (field: string) => field.replace(/\\([0-7]{3})/g, (_, octal: string) => String.fromCharCode(parseInt(octal, 8)));
  return text
    .split('\n')
    .map((line) => line.split(' '))
    .filter((fields) => fields.length >= 3)
    .map(([device, mount]) => ({ mount: unescape(mount!), fs: unescape(device!) }));
}

/** The disks holding `directories` on this host: mount table from /proc/self/mounts, sizes from statfs. */
export function localDisks(directories: string[], mountsText = readFileSync('/proc/self/mounts', 'utf8')): HealthMessage['disks'] {
  const table = parseMounts(mountsText);
  const measured = new Map<string, MountInfo>();
  for (const dir of directories) {
    const real = realDirectory(dir);
    const m = mountOf(real, table);
    if (!m || measured.has(m.mount)) continue;
    const s = statfsSync(real);
    measured.set(m.mount, { mount: m.mount, fs: m.fs, size: s.blocks * s.bsize, used: (s.blocks - s.bfree) * s.bsize, available: s.bavail * s.bsize });
  }
  return disksOf(directories, [...measured.values()]);
}
