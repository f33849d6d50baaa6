/**
 * The capture files a waiting task looks at every second (are its window's files closed?,
 * captures.ts `closedAt`), kept up to date incrementally so that a big capture directory does not
 * cost a listing — a stat of every file and of its sidecar — on the agent's main thread each second.
 *
 * Contract:
 * - `files(sources)` answers what `listCaptures(sources)` would, as far as `closedAt` needs it:
 *   every capture file with its span, and each source's newest file with its current size and mtime.
 * - A full listing (`listCaptures`) is made the first time, whenever a source's directory or one of
 *   its immediate subdirectories changed (a file created, removed or renamed changes its mtime:
 *   rotation, retention), when the newest file is gone, and at least every `fullEveryMs` (a file
 *   other than the newest written to, which a rotating writer does not do).
 * - Otherwise a check stats each source's directories and its newest file only (a handful of
 *   stats whatever the number of files) and re-describes the newest file when it grew.
 *
 * @example
 *   const watch = new CaptureWatch();
 *   const ready = closedAt(watch.files(sources), sources, window.to, quietMs, Date.now());
 */
import { readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { describeCapture, listCaptures, listingCounters, type CaptureFile, type CaptureSource } from './captures.js';

/** What the last full listing saw of one source. */
interface SourceState {
  /** mtimeMs of the source's directory and of each immediate subdirectory, by path. */
  dirs: Map<string, number>;
  files: CaptureFile[];
  /** Index in `files` of the most recently modified file, or -1. */
  newest: number;
}

export class CaptureWatch {
  readonly counters = { fullListings: 0, quickChecks: 0 };
  private state: Map<string, SourceState> | null = null;
  private listedAt = 0;

  constructor(
    private readonly fullEveryMs = 30_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** The sources' capture files, in (source, path) order (see the contract). */
  files(sources: readonly CaptureSource[]): CaptureFile[] {
    const state = this.state;
    if (state === null || this.now() - this.listedAt >= this.fullEveryMs || !this.refresh(sources, state)) return this.list(sources);
    this.counters.quickChecks += 1;
    return sources.flatMap((s) => state.get(s.name)?.files ?? []);
  }

  private list(sources: readonly CaptureSource[]): CaptureFile[] {
    this.counters.fullListings += 1;
    const all = listCaptures(sources);
    const state = new Map<string, SourceState>();
    for (const source of sources) {
      const files = all.filter((f) => f.source === source.name);
      state.set(source.name, { dirs: dirStamps(source.directory), files, newest: newestOf(files) });
    }
    this.state = state;
    this.listedAt = this.now();
    return all;
  }

  /** Brings `state` up to date by stats of directories and newest files; false when a full listing is needed. */
  private refresh(sources: readonly CaptureSource[], state: Map<string, SourceState>): boolean {
    for (const source of sources) {
      const known = state.get(source.name);
      if (known === undefined) return false;
      for (const [dir, mtimeMs] of known.dirs) if (statOf(dir)?.mtimeMs !== mtimeMs) return false;
      if (known.newest < 0) continue;
      const newest = known.files[known.newest]!;
      const stat = statOf(newest.path);
      if (stat === null || !stat.isFile()) return false;
      if (stat.size === newest.bytes && stat.mtimeMs === newest.mtimeMs) continue;
      const described = describeCapture(source.name, newest.path, stat);
      if (described === null) return false;
      known.files[known.newest] = described;
    }
    return true;
  }
}

function statOf(path: string): Stats | null {
  try {
    listingCounters.filesStatted += 1;
    return statSync(path);
  } catch {
    return null;
  }
}

/** The directory's mtime and those of its immediate subdirectories (the depth listings go to). */
function dirStamps(directory: string): Map<string, number> {
  const out = new Map<string, number>();
  const top = statOf(directory);
  if (top === null) return out.set(directory, -1);
  out.set(directory, top.mtimeMs);
  try {
    for (const entry of readdirSync(directory, { withFileTypes: true })) {
      if (!entry.isDirectory() || entry.name.startsWith('.')) continue;
      const sub = statOf(join(directory, entry.name));
      if (sub !== null) out.set(join(directory, entry.name), sub.mtimeMs);
    }
  } catch {
    // Gone between the stat and the listing: the next check sees the change.
  }
  return out;
}

function newestOf(files: readonly CaptureFile[]): number {
  let at = -1;
  files.forEach((f, i) => {
    if (at < 0 || f.mtimeMs > files[at]!.mtimeMs) at = i;
  });
  return at;
}
