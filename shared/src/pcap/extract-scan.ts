/**
 * One file of an extract: read it, keep the packets inside [from, to) that match the compiled
 * filter, write them (file order) to a temporary pcapng. Runs in a worker thread or in-process.
 *
 * Damage never throws: a file that cannot be opened, or stops early, is reported in `problems`
 * and every valid packet before the damage is kept.
 */
import { compileFilter, type CompiledFilter } from './filter/compile.js';
import type { FilterNode } from './filter/ast.js';
import { openCapture, type CaptureReader } from './reader.js';
import type { CaptureProblem, Timestamp } from './types.js';
import { PcapngWriter, type PacketWriter } from './writer.js';

export interface ScanTask {
  path: string;
  /** Temporary pcapng (ns) that receives the matches; created only when something matches. */
  output: string;
  /** The filter as applied (already `throughVlanTags`). */
  filter: FilterNode;
  from?: Timestamp;
  to?: Timestamp;
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
}

/** Counters for the hot path, summed over every scan of this thread (for logs and benches). */
export const scanCounters = { files: 0, packets: 0, bytes: 0, matched: 0 };

const compiledCache = new WeakMap<FilterNode, CompiledFilter>();

/** Scans one file. `isAborted` is polled every 64k packets. */
export function scanFile(task: ScanTask, isAborted: () => boolean = () => false): ScanResult {
  const result: ScanResult = {
    path: task.path, output: null, packets: 0, bytes: 0, packetsScanned: 0, bytesScanned: 0,
    first: null, last: null, linkTypes: [], nanosecond: false, snaplen: 0, problems: [],
  };
  let reader: CaptureReader;
  try {
    reader = openCapture(task.path);
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
  try {
    for (let v = reader.next(); v !== null; v = reader.next()) {
      scanned++;
      scannedBytes += v.caplen;
      if ((scanned & 0xffff) === 0 && isAborted()) break;
      const sec = v.sec;
      if (sec < fromSec || (sec === fromSec && v.nsec < fromNsec)) continue;
      if (sec > toSec || (sec === toSec && v.nsec >= toNsec)) continue;
      if (v.linkType !== linkType) {
        linkType = v.linkType;
        predicate = compiled.forLinkType(linkType);
      }
      if (!predicate(v.data, v.caplen, v.origLen)) continue;
      writer ??= PcapngWriter.toFile(task.output, { nanosecond: true });
      writer.write(v, reader.snaplen || undefined);
      written.add(linkType);
      result.packets++;
      result.bytes += v.caplen;
      if (!first || sec < first.sec || (sec === first.sec && v.nsec < first.nsec)) first = { sec, nsec: v.nsec };
      if (!last || sec > last.sec || (sec === last.sec && v.nsec > last.nsec)) last = { sec, nsec: v.nsec };
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
  result.snaplen = reader.snaplen;
  result.problems = reader.problems.slice();
  scanCounters.files++;
  scanCounters.packets += scanned;
  scanCounters.bytes += scannedBytes;
  scanCounters.matched += result.packets;
  return result;
}
