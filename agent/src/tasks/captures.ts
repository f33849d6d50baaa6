/**
 * The capture files a task or an estimate can read: listed from the agent's capture directories,
 * each with its packet-time span, without reading packets.
 *
 * Contract:
 * - A source's files are the regular files of its directory and of its immediate subdirectories
 *   (the availability scanner's rule) whose first bytes are a pcap or pcapng magic; hidden files,
 *   sidecars (`.pmidx`) and temporary files are not.
 * - A file's span comes from its fresh sidecar's header when there is one (exact), else from
 *   `captureTimeRange` (head + tail). Spans are cached by (path, inode, size, mtime), so repeated
 *   listings read only new or changed files.
 * - An unreadable or damaged file is listed with a null span (`problem` says why) and never
 *   selected; listing never throws for file-system trouble.
 */
import { closeSync, openSync, readSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { sniffFormat } from '@pcapmesh/shared/pcap/pcap-format';
import { loadIndexHeader, sidecarPath } from '@pcapmesh/shared/pcap/sidecar/index';
import { captureTimeRange } from '@pcapmesh/shared/pcap/time-range';
import { compareTimestamps } from '@pcapmesh/shared/pcap/timestamp';
import type { Timestamp } from '@pcapmesh/shared/wire';

export interface CaptureSource {
  name: string;
  directory: string;
}

export interface CaptureFile {
  source: string;
  path: string;
  bytes: number;
  mtimeMs: number;
  /** Earliest and latest packet time; null when the file holds no packet or cannot be read. */
  first: Timestamp | null;
  last: Timestamp | null;
  /** The span came from a fresh sidecar index. */
  indexed: boolean;
  problem?: string;
}

interface Cached {
  key: string;
  file: CaptureFile;
}

const cache = new Map<string, Cached>();

/** File-system work of the listings, for tests and the waiting check's cost (capture-watch.ts). */
export const listingCounters = { listings: 0, filesStatted: 0 };

/** Every capture file of the sources, in (source, path) order. */
export function listCaptures(sources: readonly CaptureSource[]): CaptureFile[] {
  listingCounters.listings += 1;
  const out: CaptureFile[] = [];
  const seen = new Set<string>();
  for (const source of sources) {
    for (const { path, stat } of regularFiles(source.directory, 1)) {
      seen.add(path);
      const file = describe(source.name, path, stat);
      if (file) out.push(file);
    }
  }
  for (const path of cache.keys()) if (!seen.has(path)) cache.delete(path);
  return out;
}

/** Files holding packets that may lie in [from, to). */
export function overlapping(files: readonly CaptureFile[], from: Timestamp, to: Timestamp): CaptureFile[] {
  return files.filter((f) => f.first !== null && f.last !== null && compareTimestamps(f.first, to) < 0 && compareTimestamps(f.last, from) >= 0);
}

/**
 * Are the files that can hold packets up to `to` closed, source by source? A source is closed at
 * `to` when it holds a file whose first packet is at or after `to` (the writer moved on), or when
 * its most recently modified file has not changed for `quietMs`. A source without files is closed.
 */
export function closedAt(files: readonly CaptureFile[], sources: readonly CaptureSource[], to: Timestamp, quietMs: number, now: number): boolean {
  return sources.every((source) => {
    const own = files.filter((f) => f.source === source.name);
    if (own.length === 0) return true;
    if (own.some((f) => f.first !== null && compareTimestamps(f.first, to) >= 0)) return true;
    const newest = Math.max(...own.map((f) => f.mtimeMs));
    return now - newest >= quietMs;
  });
}

/** One file as a listing describes it (cached by path, inode, size, mtime and its sidecar's); null when it is no capture. */
export function describeCapture(source: string, path: string, stat: Stats): CaptureFile | null {
  return describe(source, path, stat);
}

function describe(source: string, path: string, stat: Stats): CaptureFile | null {
  // The sidecar's identity too: a file indexed since the last listing gets its exact span.
  const key = `${stat.ino}:${stat.size}:${stat.mtimeMs}:${sidecarKey(path)}`;
  const cached = cache.get(path);
  if (cached?.key === key) return cached.file;
  if (!isCapture(path)) return null;
  const base = { source, path, bytes: stat.size, mtimeMs: stat.mtimeMs };
  let file: CaptureFile;
  const header = loadIndexHeader(path);
  if (header.status === 'fresh') {
    file = { ...base, first: header.header.first, last: header.header.last, indexed: true };
  } else {
    try {
      const range = captureTimeRange(path);
      file = { ...base, first: range.first, last: range.last, indexed: false };
    } catch (err) {
      file = { ...base, first: null, last: null, indexed: false, problem: (err as Error).message };
    }
  }
  cache.set(path, { key, file });
  return file;
}

function sidecarKey(path: string): string {
  try {
    const s = statSync(sidecarPath(path));
    return `${s.ino}:${s.size}:${s.mtimeMs}`;
  } catch {
    return '-';
  }
}

function isCapture(path: string): boolean {
  try {
    const fd = openSync(path, 'r');
    try {
      const head = new Uint8Array(4);
      const n = readSync(fd, head, 0, 4, 0);
      return sniffFormat(head.subarray(0, n)) !== null;
    } finally {
      closeSync(fd);
    }
  } catch {
    return false;
  }
}

function regularFiles(dir: string, depth: number): { path: string; stat: Stats }[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  const out: { path: string; stat: Stats }[] = [];
  for (const name of names.sort()) {
    if (name.startsWith('.') || name.endsWith('.pmidx') || name.includes('.pmidx.tmp-')) continue;
    const path = join(dir, name);
    let stat: Stats;
    try {
      stat = statSync(path);
      listingCounters.filesStatted += 1;
    } catch {
      continue;
    }
    if (stat.isFile()) out.push({ path, stat });
    else if (stat.isDirectory() && depth > 0) out.push(...regularFiles(path, depth - 1));
  }
  return out;
}
