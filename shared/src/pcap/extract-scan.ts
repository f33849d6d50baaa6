/**
 * One file of an extract: read it, keep the packets inside [from, to) that match the compiled
 * filter, write them (file order) to a temporary pcapng. Runs in a worker thread or in-process.
 *
 * Damage never throws: a file that cannot be opened, or stops early, is reported in `problems`
 * and every valid packet before the damage is kept.
 */
import { compileFilter, type CompiledFilter } from './filter/compile.js';
import type { FilterNode } from './filter/ast.js';
import { DECODED_LINK_TYPES } from './decode.js';
import { openCapture, type CaptureReader } from './reader.js';
import { compileCandidates, type CandidateSelector } from './sidecar/candidates.js';
import { loadIndex } from './sidecar/index.js';
import { planReads, type ReadPlan } from './sidecar/plan.js';
import type { CaptureProblem, Timestamp } from './types.js';
import { PcapWriter, PcapngWriter, type PacketWriter } from './writer.js';

export interface ScanTask {
  path: string;
  /** Temporary pcapng (ns) that receives the matches; created only when something matches. */
  output: string;
  /** The filter as applied (already `throughVlanTags`). */
  filter: FilterNode;
  from?: Timestamp;
  to?: Timestamp;
  /** The user's filter (before throughVlanTags), for the index summary; undefined = no index. */
  indexFilter?: FilterNode;
  /**
   * Write a classic-pcap input's matches as classic pcap with this precision (so extract can
   * append the part to the output as bytes); absent, or a pcapng input: pcapng with ns times.
   */
  classicNanosecond?: boolean;
}

export interface ScanResult {
  path: string;
  /** The temporary output, or null when nothing matched. */
  output: string | null;
  packets: number;
  bytes: number;
  packetsScanned: number;
  bytesScanned: number;
  /** Earliest and latest timestamp written (file order may go backwards). */
  first: Timestamp | null;
  last: Timestamp | null;
  /** Link types of the packets written, and of the whole file as far as read. */
  linkTypes: number[];
  nanosecond: boolean;
  snaplen: number;
  problems: CaptureProblem[];
  /** The part is classic pcap: `linkTypes[0]`, precision `partNanosecond`, header 24 bytes. */
  partIsPcap: boolean;
  partNanosecond: boolean;
  /** A fresh index proved the whole file holds no match (it was not read). */
  skippedByIndex: boolean;
  /** Index blocks not read. */
  blocksSkipped: number;
  /** How the file was read: whole (no usable index, or the plan would read most of it), or the index's ranges. */
  readMode: 'scan' | 'ranges';
}

/** Counters for the hot path, summed over every scan of this thread (for logs and benches). */
export const scanCounters = { files: 0, packets: 0, bytes: 0, matched: 0 };

/**
 * Read buffer per file. 1 MiB reads as fast as 4 MiB here and keeps memory flat: each file's
 * buffer is garbage until the next GC, and V8 does not hurry for external memory.
 */
const READ_BUFFER = 1024 * 1024;

const compiledCache = new WeakMap<FilterNode, CompiledFilter>();
const selectorCache = new WeakMap<FilterNode, CandidateSelector>();
/** Smallest read buffer of a ranged read (sparse records: one small read each). */
const MIN_RANGE_BUFFER = 64 * 1024;

/**
 * The byte ranges of the file worth reading according to its sidecar index (posting lists and
 * block summaries, see sidecar/plan.ts), or null to read it all (no fresh index, link types the
 * decoder — hence the index — does not understand, or a plan that would read most of the file).
 * An empty list means nothing can match. A corrupt, truncated or outdated sidecar is not fresh:
 * the file is scanned, never answered from damaged data.
 */
function plannedRanges(task: ScanTask, result: ScanResult): Pick<ReadPlan, 'ranges' | 'picks'> | null {
  if (!task.indexFilter) return null;
  const loaded = loadIndex(task.path);
  if (loaded.status !== 'fresh') return null;
  const index = loaded.index;
  if (!index.linkTypes.every((lt) => DECODED_LINK_TYPES.has(lt))) return null;
  let select = selectorCache.get(task.indexFilter);
  if (!select) {
    select = compileCandidates(task.indexFilter);
    selectorCache.set(task.indexFilter, select);
  }
  const plan = planReads(index, select, task.from ?? null, task.to ?? null);
  result.blocksSkipped = plan.blocksSkipped;
  return plan.scan ? null : plan;
}

/** What a scan has matched so far, and where in the file it is (see `scanFile`'s `onTick`). */
export interface ScanTick {
  packets: number;
  bytes: number;
  /** File offset of the packet record being read. */
  position: number;
}

/** How often (in packets read) `onTick` is called. */
export const SCAN_TICK_PACKETS = 4096;

/**
 * Scans one file. `isAborted` is polled every 64k packets; `onTick`, when given, is called every
 * SCAN_TICK_PACKETS packets read (in-process progress within a large file).
 */
export function scanFile(task: ScanTask, isAborted: () => boolean = () => false, onTick?: (tick: ScanTick) => void): ScanResult {
  const result: ScanResult = {
    path: task.path,
    output: null,
    packets: 0,
    bytes: 0,
    packetsScanned: 0,
    bytesScanned: 0,
    first: null,
    last: null,
    linkTypes: [],
    nanosecond: false,
    snaplen: 0,
    problems: [],
    skippedByIndex: false,
    blocksSkipped: 0,
    partIsPcap: false,
    partNanosecond: true,
    readMode: 'scan',
  };
  const planned = plannedRanges(task, result);
  const ranges = planned?.ranges ?? null;
  if (ranges !== null && ranges.length === 0) {
    result.skippedByIndex = true;
    result.readMode = 'ranges';
    return result;
  }
  if (ranges === null) result.blocksSkipped = 0;
  else result.readMode = 'ranges';
  // Sparse ranges: a small buffer (each range is one read of about its size).
  let bufferSize = ranges === null ? READ_BUFFER : MIN_RANGE_BUFFER;
  for (const [start, end] of ranges ?? []) bufferSize = Math.min(READ_BUFFER, Math.max(bufferSize, end - start));
  let reader: CaptureReader;
  try {
    reader = openCapture(task.path, { bufferSize });
  } catch (error) {
    result.problems.push({ file: task.path, offset: 0, reason: (error as Error).message });
    return result;
  }
  let compiled = compiledCache.get(task.filter);
  if (!compiled) {
    compiled = compileFilter(task.filter);
    compiledCache.set(task.filter, compiled);
  }
  const fromSec = task.from?.sec ?? -Infinity;
  const fromNsec = task.from?.nsec ?? 0;
  const toSec = task.to?.sec ?? Infinity;
  const toNsec = task.to?.nsec ?? 0;
  const written = new Set<number>();
  let writer: PacketWriter | null = null;
  let linkType = -1;
  let predicate = compiled.forLinkType(0);
  let scanned = 0;
  let scannedBytes = 0;
  let first: Timestamp | null = null;
  let last: Timestamp | null = null;
  // A classic pcap input holds one link type: its part can be classic pcap too.
  const classic = reader.format === 'pcap' && task.classicNanosecond !== undefined && reader.linkTypes.length === 1;
  const openPart = (): PacketWriter =>
    classic
      ? PcapWriter.toFile(task.output, { linkType: reader.linkTypes[0]!, nanosecond: task.classicNanosecond, snaplen: reader.snaplen || undefined })
      : PcapngWriter.toFile(task.output, { nanosecond: true });
  // Without an index: one range, the whole file.
  const plan: Array<[number, number]> = ranges ?? [[-1, Infinity]];
  const picks = planned?.picks ?? [null];
  try {
    for (let r = 0; r < plan.length; r++) {
      const [start, end] = plan[r]!;
      const only = picks[r] ?? null;
      // A range of listed records: the first seek reads the whole range, the next ones move in the buffer.
      let k = 0;
      if (start >= 0) reader.seek(start, end);
      for (
        let v = reader.next();
        v !== null && v.offset < end;
        v = only === null ? reader.next() : ++k < only.length ? (reader.seek(only[k]!, end), reader.next()) : null
      ) {
        scanned++;
        scannedBytes += v.caplen;
        if ((scanned & (SCAN_TICK_PACKETS - 1)) === 0) {
          onTick?.({ packets: result.packets, bytes: result.bytes, position: v.offset });
          if ((scanned & 0xffff) === 0 && isAborted()) break;
        }
        const sec = v.sec;
        if (sec < fromSec || (sec === fromSec && v.nsec < fromNsec)) continue;
        if (sec > toSec || (sec === toSec && v.nsec >= toNsec)) continue;
        if (v.linkType !== linkType) {
          // A packet on an undeclared interface (damaged pcapng: the reader reports it) has no
          // link type to interpret or write it with.
          if (v.linkType < 0) continue;
          linkType = v.linkType;
          predicate = compiled.forLinkType(linkType);
        }
        if (!predicate(v.data, v.caplen, v.origLen)) continue;
        writer ??= openPart();
        writer.write(v, reader.snaplen || undefined);
        written.add(linkType);
        result.packets++;
        result.bytes += v.caplen;
        if (!first || sec < first.sec || (sec === first.sec && v.nsec < first.nsec)) first = { sec, nsec: v.nsec };
        if (!last || sec > last.sec || (sec === last.sec && v.nsec > last.nsec)) last = { sec, nsec: v.nsec };
      }
    }
  } finally {
    writer?.close();
    reader.close();
  }
  result.output = writer ? task.output : null;
  result.packetsScanned = scanned;
  result.bytesScanned = scannedBytes;
  result.first = first;
  result.last = last;
  result.linkTypes = [...(written.size > 0 ? written : new Set(reader.linkTypes))];
  result.nanosecond = reader.nanosecond;
  result.partIsPcap = classic;
  result.partNanosecond = classic ? task.classicNanosecond === true : true;
  result.snaplen = reader.snaplen;
  result.problems = reader.problems.slice();
  scanCounters.files++;
  scanCounters.packets += scanned;
  scanCounters.bytes += scannedBytes;
  scanCounters.matched += result.packets;
  return result;
}
