/**
 * extract: the packets of many captures that fall in [from, to) and match a filter, written to
 * one file in time order.
 *
 * Plan: expand inputs (directories recursively) → drop files whose first..last packet time
 * misses the window (captureTimeRange: head + tail, no full read) → scan the rest in worker
 * threads, one file per task, each writing its matches (file order) to a temporary part (classic
 * pcap in the output's precision for classic inputs, else pcapng) → assemble the output: when the
 * parts are classic pcap of one link type and disjoint in time (a rolling directory), their
 * records are appended as bytes; otherwise they are merged by time (groups of time-overlapping
 * parts k-way merged, disjoint groups concatenated, so memory stays bounded however many files).
 *
 * Output: classic pcap (ns when any input is ns) when the matches share one link type, pcapng
 * when they differ. The filter is applied "through VLAN tags" (see `throughVlanTags`), which is
 * what `tcpdump -r F 'F or (vlan and (F or (vlan and F)))'` selects.
 *
 * Bad input: a filter error throws before any work; a damaged or unreadable file is reported in
 * `problems` (its packets before the damage are kept) and does not stop the others.
 *
 * @example
 * const stats = await extract({ inputs: ['/var/capture'], output: 'out.pcap', filter: 'host 10.0.0.1',
 *   from: parseTimeBound('2026-01-01T09:00Z'), to: parseTimeBound('2026-01-01T09:20Z') });
 */
import { closeSync, mkdtempSync, openSync, readSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { expandInputs } from './extract-inputs.js';
import { LimitReached, LimitedWriter, ScanPrefix, exceeds, type ExtractLimits, type TruncationReason } from './extract-limit.js';
import { defaultWorkerCount, runScans } from './extract-pool.js';
import type { ScanResult, ScanTask } from './extract-scan.js';
import { throughVlanTags, type FilterNode } from './filter/ast.js';
import { parseFilter } from './filter/parser.js';
import { structuredToFilter, type StructuredFilter } from './filter/structured.js';
import { mergeReaders } from './merge.js';
import { openCapture, type CaptureReader } from './reader.js';
import { captureTimeRange } from './time-range.js';
import { loadIndexHeader } from './sidecar/index.js';
import { compareTimestamps } from './timestamp.js';
import type { CaptureProblem, Timestamp } from './types.js';
import { FileSink, MemorySink, PcapWriter, PcapngWriter, type PacketWriter } from './writer.js';

export interface ExtractOptions {
  /** Files and directories (searched recursively). */
  inputs: string[];
  /** Output file (pcap or pcapng, see above), or an open descriptor the caller keeps owning (1 = stdout). */
  output: string | number;
  /** tcpdump filter text, a parsed AST, or the structured job form; absent = every packet. */
  filter?: string | FilterNode | StructuredFilter;
  /** Window start (inclusive) and end (exclusive). */
  from?: Timestamp;
  to?: Timestamp;
  /** Use `.pmidx` sidecars to skip files and blocks (default true). */
  useIndex?: boolean;
  /** Worker threads; 0 = scan in this thread. Default: defaultWorkerCount() (CPUs − 1; none with ≤ 2 CPUs), in-process below 256 MB of input. */
  workers?: number;
  /**
   * Progress after each file and, with `progressEveryMs`, during a file (in-process scans only:
   * `workers: 0` or a single file).
   */
  onProgress?: (p: ExtractProgress) => void;
  /** Also report progress while a file is read, at most this often (milliseconds). */
  progressEveryMs?: number;
  /** Stop at this many packets / captured bytes of matches (time order); see extract-limit.ts. */
  limits?: ExtractLimits;
  /** Cancels the extract: the promise rejects with the signal's reason and no output is left. */
  signal?: AbortSignal;
}

export interface ExtractProgress {
  filesDone: number;
  filesTotal: number;
  /** Packets and captured bytes matched so far. */
  packets: number;
  bytes: number;
  /** Captured bytes of the packets read so far. */
  bytesScanned: number;
  /** Bytes of the selected files passed so far (done files whole, the current one up to the packet being read), of `bytesTotal`. */
  position: number;
  bytesTotal: number;
}

export interface ExtractStats {
  /** Packets and captured bytes written. */
  packets: number;
  bytes: number;
  /** Files read, and files left out because their time span misses the window. */
  filesScanned: number;
  filesSkippedByTime: number;
  /** Files and blocks the index proved to hold no match. */
  filesSkippedByIndex: number;
  blocksSkipped: number;
  /** Packets and bytes read. */
  packetsScanned: number;
  bytesScanned: number;
  /** Damaged or unreadable inputs (their valid packets are in the output). */
  problems: CaptureProblem[];
  format: 'pcap' | 'nsecpcap' | 'pcapng';
  /** Set when a limit left matching packets out: which one. */
  truncated?: TruncationReason;
}

/** Below this much selected input, starting worker threads (module load, JIT warm-up) costs more than it saves. */
const IN_PROCESS_BELOW = 256 * 1024 * 1024;

/** Parses/accepts the filter forms of ExtractOptions; throws the parser's positioned error. */
export function resolveFilter(filter: ExtractOptions['filter']): FilterNode {
  if (filter === undefined) return { kind: 'all' };
  if (typeof filter === 'string') return parseFilter(filter);
  if ('kind' in filter && typeof filter.kind === 'string') return filter as FilterNode;
  return structuredToFilter(filter as StructuredFilter);
}

export async function extract(opts: ExtractOptions): Promise<ExtractStats> {
  const userFilter = resolveFilter(opts.filter);
  const filter = throughVlanTags(userFilter);
  if (opts.from && opts.to && compareTimestamps(opts.from, opts.to) >= 0) {
    throw new Error('extract: the window is empty (--from must be before --to)');
  }
  const files = expandInputs(opts.inputs);
  const stats: ExtractStats = {
    packets: 0,
    bytes: 0,
    filesScanned: 0,
    filesSkippedByTime: 0,
    filesSkippedByIndex: 0,
    blocksSkipped: 0,
    packetsScanned: 0,
    bytesScanned: 0,
    problems: [],
    format: 'pcap',
  };
  const selected = selectByTime(files, opts, stats);
  const limits = opts.limits;
  // With limits, the earliest files first: the scan can stop once their matches suffice.
  if (limits) selected.sort((a, b) => (a.first && b.first ? compareTimestamps(a.first, b.first) : a.first ? -1 : b.first ? 1 : 0));
  // Parts beside the output file (same filesystem, same permissions); for a descriptor, in the temp directory.
  const parts =
    typeof opts.output === 'number'
      ? mkdtempSync(join(tmpdir(), 'pcapmesh-extract-parts-'))
      : mkdtempSync(join(dirname(opts.output), `.${basename(opts.output)}.parts-`));
  try {
    const nanosecond = anyNanosecond(selected.map((f) => f.path));
    const tasks: ScanTask[] = selected.map((f, i) => ({
      path: f.path,
      output: join(parts, `${i}.part`),
      filter,
      from: opts.from,
      to: opts.to,
      classicNanosecond: nanosecond,
      indexFilter: opts.useIndex === false ? undefined : userFilter,
    }));
    const totalBytes = selected.reduce((sum, f) => sum + f.bytes, 0);
    const workers = opts.workers ?? (totalBytes < IN_PROCESS_BELOW ? 0 : defaultWorkerCount());
    let filesDone = 0;
    let bytes = 0;
    let position = 0;
    let lastTick = Date.now();
    const prefix = limits
      ? new ScanPrefix(
          selected.map((f) => f.first),
          limits,
        )
      : null;
    let enough = false;
    const progress = (p: Partial<ExtractProgress>): void =>
      opts.onProgress?.({
        filesDone,
        filesTotal: tasks.length,
        packets: stats.packets,
        bytes,
        bytesScanned: stats.bytesScanned,
        position,
        bytesTotal: totalBytes,
        ...p,
      });
    const every = opts.progressEveryMs;
    const results = await runScans(tasks, {
      workers,
      signal: opts.signal,
      onResult: (r, index) => {
        filesDone++;
        stats.packets += r.packets;
        stats.bytesScanned += r.bytesScanned;
        bytes += r.bytes;
        position += selected[index]!.bytes;
        if (prefix?.add(index, r)) enough = true;
        lastTick = Date.now();
        progress({});
      },
      onTick:
        opts.onProgress && every !== undefined
          ? (_index, tick) => {
              const now = Date.now();
              if (now - lastTick < every) return;
              lastTick = now;
              progress({ packets: stats.packets + tick.packets, bytes: bytes + tick.bytes, position: position + tick.position });
            }
          : undefined,
      enough: () => enough,
    });
    opts.signal?.throwIfAborted();
    stats.packets = 0;
    stats.bytesScanned = 0;
    for (const r of results) {
      if (!r) continue; // left out: the limits were reached before it
      stats.blocksSkipped += r.blocksSkipped;
      if (r.skippedByIndex) {
        stats.filesSkippedByIndex++;
        continue;
      }
      stats.filesScanned++;
      stats.packetsScanned += r.packetsScanned;
      stats.bytesScanned += r.bytesScanned;
      stats.problems.push(...r.problems);
    }
    const scanned = results.filter((r): r is ScanResult => r !== undefined);
    const written = writeMerged(scanned, opts.output, limits);
    stats.packets = written.packets;
    stats.bytes = written.bytes;
    stats.format = written.format;
    // Files left out by the limits (ScanPrefix) never matter: the scanned ones already exceed a limit.
    if (written.truncated) stats.truncated = written.truncated;
    return stats;
  } catch (error) {
    if (typeof opts.output === 'string') rmSync(opts.output, { force: true });
    throw error;
  } finally {
    rmSync(parts, { recursive: true, force: true });
  }
}

/** Files whose packet-time span meets the window (all files when there is no window). */
function selectByTime(files: string[], opts: ExtractOptions, stats: ExtractStats): SelectedFile[] {
  // No window: every file is read anyway; its size is all the plan needs.
  if (!opts.from && !opts.to && !opts.limits) return files.map((path) => ({ path, bytes: statSync(path).size, first: null }));
  const out: SelectedFile[] = [];
  for (const path of files) {
    // A fresh sidecar's header knows the file's span (and min/max even when time goes backwards).
    const indexed = opts.useIndex === false ? null : loadIndexHeader(path);
    let range: { first: Timestamp | null; last: Timestamp | null; bytes: number };
    try {
      range =
        indexed?.status === 'fresh' ? { first: indexed.header.first, last: indexed.header.last, bytes: indexed.header.capture.size } : captureTimeRange(path);
    } catch (error) {
      stats.problems.push({ file: path, offset: 0, reason: (error as Error).message });
      continue;
    }
    const { first, last } = range;
    const misses =
      (opts.to !== undefined && first !== null && compareTimestamps(first, opts.to) >= 0) ||
      (opts.from !== undefined && last !== null && compareTimestamps(last, opts.from) < 0);
    if (misses) {
      stats.filesSkippedByTime++;
      continue;
    }
    out.push({ path, bytes: range.bytes, first });
  }
  return out;
}

/** A file the window selects. */
interface SelectedFile {
  path: string;
  bytes: number;
  /** Earliest packet time (null: unknown). */
  first: Timestamp | null;
}

/** Does any input have nanosecond timestamps (header probe; unreadable files count as no)? */
function anyNanosecond(paths: string[]): boolean {
  return paths.some((path) => {
    try {
      const r = openCapture(path, { bufferSize: 64 * 1024 });
      r.close();
      return r.nanosecond;
    } catch {
      return false;
    }
  });
}

/**
 * The fast path: every part is classic pcap in the output's link type and precision, and the
 * parts do not overlap in time (a rolling directory) — the output is their records appended.
 */
function appendParts(parts: ScanResult[], output: string | number, linkType: number, nanosecond: boolean, snaplen: number | undefined): boolean {
  const sorted = [...parts].sort((a, b) => compareTimestamps(a.first!, b.first!));
  for (let i = 0; i < sorted.length; i++) {
    const p = sorted[i]!;
    if (!p.partIsPcap || p.partNanosecond !== nanosecond || p.linkTypes[0] !== linkType) return false;
    if (i > 0 && compareTimestamps(p.first!, sorted[i - 1]!.last!) < 0) return false;
  }
  const header = new MemorySink();
  new PcapWriter(header, { linkType, nanosecond, snaplen }).close();
  const out = new FileSink(output);
  // Sized to the parts: a selective extract's parts are small, and a fresh 8 MiB is not free.
  const chunk = new Uint8Array(Math.min(8 * 1024 * 1024, Math.max(4096, ...sorted.map((p) => p.bytes + 16 * p.packets))));
  try {
    out.write(header.bytes());
    for (const p of sorted) {
      const fd = openSync(p.output!, 'r');
      try {
        for (let at = 24, n; (n = readSync(fd, chunk, 0, chunk.length, at)) > 0; at += n) out.write(chunk.subarray(0, n));
      } finally {
        closeSync(fd);
      }
    }
  } finally {
    out.close();
  }
  return true;
}

/** Merges the per-file parts into `output` in time order (see the module comment), within the limits. */
function writeMerged(
  results: ScanResult[],
  output: string | number,
  limits: ExtractLimits | undefined,
): { packets: number; bytes: number; format: ExtractStats['format']; truncated?: TruncationReason } {
  const parts = results.filter((r) => r.output !== null && r.first && r.last);
  const linkTypes = new Set(parts.flatMap((r) => r.linkTypes));
  const nanosecond = results.some((r) => r.nanosecond);
  const format: ExtractStats['format'] = linkTypes.size > 1 ? 'pcapng' : nanosecond ? 'nsecpcap' : 'pcap';
  const linkType = [...linkTypes][0] ?? results.find((r) => r.linkTypes.length > 0)?.linkTypes[0] ?? 1;
  const snaplen = Math.max(0, ...results.map((r) => r.snaplen)) || undefined;
  const total = { packets: parts.reduce((n, p) => n + p.packets, 0), bytes: parts.reduce((n, p) => n + p.bytes, 0) };
  const cut = limits !== undefined && exceeds(limits, total.packets, total.bytes);
  if (format !== 'pcapng' && !cut && appendParts(parts, output, linkType, nanosecond, snaplen)) return { ...total, format };
  const inner: PacketWriter = format === 'pcapng' ? PcapngWriter.toFile(output, { nanosecond }) : PcapWriter.toFile(output, { linkType, nanosecond, snaplen });
  const limited = cut ? new LimitedWriter(inner, limits) : null;
  const writer = limited ?? inner;
  let packets = 0;
  let bytes = 0;
  try {
    parts.sort((a, b) => compareTimestamps(a.first!, b.first!));
    for (let i = 0; i < parts.length;) {
      // A group: parts whose [first, last] overlap, merged together; groups follow each other in time.
      let end = parts[i]!.last!;
      let j = i + 1;
      while (j < parts.length && compareTimestamps(parts[j]!.first!, end) <= 0) {
        if (compareTimestamps(parts[j]!.last!, end) > 0) end = parts[j]!.last!;
        j++;
      }
      const group = parts.slice(i, j);
      const bufferSize = Math.max(64 * 1024, Math.min(2 * 1024 * 1024, Math.floor((64 * 1024 * 1024) / group.length)));
      const readers: CaptureReader[] = [];
      try {
        for (const part of group) readers.push(openCapture(part.output!, { bufferSize }));
        const merged = mergeReaders(readers, writer);
        packets += merged.packets;
        bytes += merged.bytes;
      } catch (error) {
        if (!(error instanceof LimitReached)) throw error;
        return { packets: limited!.packets, bytes: limited!.bytes, format, truncated: error.reason };
      } finally {
        for (const r of readers) r.close();
      }
      i = j;
    }
  } finally {
    writer.close();
  }
  return { packets, bytes, format };
}
