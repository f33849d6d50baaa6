/**
 * PCAP availability: what each capture source can deliver — oldest and newest packet time, file
 * count, bytes, gaps and damaged files — from a scan of its directory.
 *
 * Contract:
 * - A source's files (counted in `files` and `bytes`) are the regular files in its directory and in the directory's immediate
 *   subdirectories (a tcpdump ring writes one flat directory; one level of subdirectories allows
 *   per-day layouts) that are classic pcap (µs/ns, either byte order) or pcapng — recognised by
 *   their magic, whatever the name. A file named *.pcap, *.pcapng or *.cap that is not a capture
 *   is reported as a problem (and not counted); other files are ignored.
 * - Each file's first/last packet time comes from `captureTimeRange` (head + tail, not the whole
 *   file), cached by (inode, size, mtime): a rescan reads only new or changed files.
 * - Damage (a truncated tail, an unreadable file) is reported in `problems`, never fatal. The
 *   newest file of a source that changed within `activeSeconds` is being written (tcpdump
 *   flushes in blocks): its partial last record is expected and not reported.
 * - Gaps: see intervals.ts; the threshold is `gapSeconds`.
 * - An optional observer (the indexer, indexer.ts) sees each source's listing during the scan,
 *   so the directories are walked once; what it returns (index counts and problems) is added to
 *   that source's report.
 */
import { openSync, readSync, closeSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { captureTimeRange } from '@pcapmesh/shared/pcap/time-range';
import { sniffFormat } from '@pcapmesh/shared/pcap/pcap-format';
// Subpaths, not the '@pcapmesh/shared/pcap' barrel: it would load the analyser and generator at agent start-up.
import { isCaptureFormatError } from '@pcapmesh/shared/pcap/reader';
import type { CaptureProblem, Timestamp } from '@pcapmesh/shared/pcap/types';
import type { PcapSource } from '@pcapmesh/shared/wire';
import { coverage } from './intervals.js';

export interface SourceSpec {
  name: string;
  directory: string;
  /** Spaces longer than this between files' packet times are gaps. */
  gapSeconds: number;
  /** A newest file modified this recently is still being written. */
  activeSeconds: number;
  /** A ring the agent's own tcpdump writes: its newest file is open whatever its mtime. */
  managed?: boolean;
}

/** One capture file as a scan saw it. */
export interface ListedCapture {
  path: string;
  bytes: number;
  mtimeMs: number;
  ino: number;
}

/** What one scan saw of one source. */
export interface SourceListing {
  spec: SourceSpec;
  /** The source's capture files (recognised by their magic), in path order. */
  captures: ListedCapture[];
  /** Every regular file listed (captures, sidecars, anything else), by path. */
  files: ReadonlyMap<string, Stats>;
}

/** What an observer adds to a source's report. */
export type SourceAddition = Partial<Pick<PcapSource, 'indexedFiles' | 'unindexedFiles'>> & { problems?: CaptureProblem[] };
/** Sees each source's listing during a scan (synchronously; it must not throw). */
export type SourceObserver = (listing: SourceListing) => SourceAddition;

const CAPTURE_NAME = /\.(pcap|pcapng|cap)(\d+)?$/i;
const MAX_PROBLEMS = 1000;

/** What one file contributes, cached until the file changes. */
interface FileFacts {
  path: string;
  ino: number;
  key: string;
  capture: boolean;
  first: Timestamp | null;
  last: Timestamp | null;
  problems: CaptureProblem[];
  bytes: number;
  mtimeMs: number;
}

export class AvailabilityScanner {
  private readonly cache = new Map<string, FileFacts>();
  /** Files (re)read since start, for tests and health of the scanner itself. */
  readonly counters = { scans: 0, filesRead: 0 };

  constructor(
    private readonly sources: SourceSpec[],
    private readonly now: () => number = Date.now,
    private readonly observer?: SourceObserver,
  ) {}

  /** Scans every source; never throws for file-system or content problems. */
  scan(): PcapSource[] {
    this.counters.scans++;
    const seen = new Set<string>();
    const result = this.sources.map((s) => this.scanSource(s, seen));
    for (const path of this.cache.keys()) if (!seen.has(path)) this.cache.delete(path);
    return result;
  }

  private scanSource(spec: SourceSpec, seen: Set<string>): PcapSource {
    const problems: CaptureProblem[] = [];
    const listed: FileFacts[] = [];
    const all = new Map<string, Stats>();
    for (const { path, stat, error } of listFiles(spec.directory)) {
      if (error) {
        problems.push({ file: path, offset: 0, reason: error });
        continue;
      }
      seen.add(path);
      all.set(path, stat!);
      const facts = this.factsOf(path, stat!);
      if (facts.capture || facts.problems.length > 0) listed.push(facts);
    }
    const latest = listed.reduce<FileFacts | null>((m, f) => (!m || f.mtimeMs > m.mtimeMs ? f : m), null);
    const activeSince = this.now() - spec.activeSeconds * 1000;
    for (const facts of listed) {
      const beingWritten = facts === latest && facts.mtimeMs >= activeSince;
      if (!beingWritten) problems.push(...facts.problems);
    }
    const files = listed.filter((f) => f.capture);
    const intervals = files.flatMap((f) => (f.first && f.last ? [{ first: f.first, last: f.last }] : []));
    const { oldest, newest: newestTime, gaps } = coverage(intervals, spec.gapSeconds);
    const added = this.observer?.({
      spec,
      captures: files.map((f) => ({ path: f.path, bytes: f.bytes, mtimeMs: f.mtimeMs, ino: f.ino })),
      files: all,
    });
    if (added?.problems) problems.push(...added.problems);
    return {
      name: spec.name,
      directory: spec.directory,
      oldest,
      newest: newestTime,
      files: files.length,
      bytes: files.reduce((n, f) => n + f.bytes, 0),
      gaps,
      problems: problems.slice(0, MAX_PROBLEMS),
      ...(added?.indexedFiles !== undefined ? { indexedFiles: added.indexedFiles } : {}),
      ...(added?.unindexedFiles !== undefined ? { unindexedFiles: added.unindexedFiles } : {}),
    };
  }

  private factsOf(path: string, stat: Stats): FileFacts {
    const key = `${stat.ino}:${stat.size}:${stat.mtimeMs}`;
    const cached = this.cache.get(path);
    if (cached?.key === key) return cached;
    this.counters.filesRead++;
    const facts = readFacts(path, stat, key);
    this.cache.set(path, facts);
    return facts;
  }
}

function readFacts(path: string, stat: Stats, key: string): FileFacts {
  const base = { path, ino: stat.ino, key, bytes: stat.size, mtimeMs: stat.mtimeMs, first: null, last: null, problems: [] };
  const named = CAPTURE_NAME.test(path);
  let head: Uint8Array;
  try {
    head = readHead(path);
  } catch (err) {
    return { ...base, capture: false, problems: named ? [{ file: path, offset: 0, reason: `unreadable: ${(err as Error).message}` }] : [] };
  }
  if (sniffFormat(head) === null) {
    if (!named) return { ...base, capture: false };
    // An empty file is what tcpdump leaves for a moment after opening a new ring file.
    const reason = stat.size === 0 ? 'empty file' : 'not a pcap or pcapng file (unknown magic)';
    return { ...base, capture: false, problems: [{ file: path, offset: 0, reason }] };
  }
  try {
    const r = captureTimeRange(path);
    return { ...base, capture: true, first: r.first, last: r.last, problems: r.problems };
  } catch (err) {
    const reason = isCaptureFormatError(err) ? err.message.replace(`${path}: `, '') : `unreadable: ${(err as Error).message}`;
    return { ...base, capture: true, problems: [{ file: path, offset: 0, reason }] };
  }
}

function readHead(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const buf = new Uint8Array(4);
    const n = readSync(fd, buf, 0, 4, 0);
    return buf.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}

interface Listed {
  path: string;
  stat?: Stats;
  error?: string;
}

/** Regular files of `dir` and of its immediate subdirectories; errors become entries. */
function listFiles(dir: string, depth = 1): Listed[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    return [{ path: dir, error: code === 'ENOENT' ? 'directory not found' : `directory unreadable: ${(err as Error).message}` }];
  }
  const out: Listed[] = [];
  for (const name of names.sort()) {
    const path = join(dir, name);
    let stat: Stats;
    try {
      stat = statSync(path);
    } catch {
      continue; // deleted between readdir and stat (ring retention): not a problem
    }
    if (stat.isFile()) out.push({ path, stat });
    else if (stat.isDirectory() && depth > 0) out.push(...listFiles(path, depth - 1));
  }
  return out;
}
