/**
 * From a capture's index, a filter and a window: which byte ranges extract reads (planReads) and
 * how many packets and bytes match (estimateIndex) — neither reads the capture.
 *
 * Read plan: per block in the window, nothing (the index rules it out), the packets of the
 * posting lists (each record's range), or the whole block. Ranges closer than READ_GAP are
 * coalesced (one read instead of two syscalls); a block whose listed packets hold more than
 * DENSE_SHARE of its bytes is read whole (sequential reads beat hundreds of small ones). When the
 * plan covers most of the file anyway, the caller is told to scan (`scan: true`): the plain scan
 * is never slower than a plan that reads nearly everything.
 *
 * @example
 * const plan = planReads(index, compileCandidates(filter), from, to);
 * if (plan.scan) scanWholeFile(); else for (const [start, end] of plan.ranges) readRange(start, end);
 */
import type { Timestamp } from '../types.js';
import type { IndexBlock } from './block-summary.js';
import type { CandidateSelector, Candidates } from './candidates.js';
import type { CaptureIndex } from './index.js';

/**
 * Gaps up to this many bytes between wanted records are read through rather than seeked over.
 * Small: every record read through is parsed and filtered, which costs more than a positioned
 * read from the page cache (measured on the bench's sparse host: 16 KiB read 5× the matches).
 */
export const READ_GAP = 2 * 1024;
/** Listed bytes above this share of a block: read the block whole. */
export const DENSE_SHARE = 0.25;
/** Planned bytes above this share of the file: scan the file instead. */
export const SCAN_SHARE = 0.9;

export interface ReadPlan {
  /** Read the whole file (no ranges). */
  scan: boolean;
  /** File byte ranges [start, end), ascending, disjoint; each starts at a record. Empty: nothing can match. */
  ranges: Array<[number, number]>;
  /** Blocks the index ruled out. */
  blocksSkipped: number;
  /** Bytes the ranges cover. */
  bytes: number;
}

/** Bytes of a record's framing around its captured data: pcap 16; pcapng EPB 32 + padding (options, if any, make the reader read on). */
function recordOverhead(format: 'pcap' | 'pcapng'): number {
  return format === 'pcap' ? 16 : 35;
}

/** The ranges extract reads from a capture for `select` over [from, to) (null = unbounded). */
export function planReads(index: CaptureIndex, select: CandidateSelector, from: Timestamp | null, to: Timestamp | null): ReadPlan {
  return planFrom(index, (block) => select(block), from, to);
}

/**
 * planReads over candidates already computed (`candidatesOf` is asked once per block in the window).
 * `collect: false` (estimate): only the byte total, no ranges kept — one allocation less per range,
 * which matters in a short-lived process where this loop runs before the JIT has optimised it.
 */
function planFrom(
  index: CaptureIndex,
  candidatesOf: (block: IndexBlock, i: number) => Candidates,
  from: Timestamp | null,
  to: Timestamp | null,
  collect = true,
): ReadPlan {
  const overhead = recordOverhead(index.format);
  const ranges: Array<[number, number]> = [];
  let blocksSkipped = 0;
  let bytes = 0;
  // The range being coalesced: [runStart, runEnd), none while runEnd < 0.
  let runStart = 0;
  let runEnd = -1;
  const push = (start: number, end: number): void => {
    if (runEnd >= 0 && start - runEnd <= READ_GAP) {
      if (end > runEnd) runEnd = end;
      return;
    }
    if (runEnd >= 0) {
      bytes += runEnd - runStart;
      if (collect) ranges.push([runStart, runEnd]);
    }
    runStart = start;
    runEnd = end;
  };
  for (let i = 0; i < index.blocks.length; i++) {
    const block = index.blocks[i]!;
    if (block.mustRead) {
      // The first packet of a pcapng interface: its IDB is inside the block, before any record we could seek to.
      push(block.offset, block.end);
      continue;
    }
    if (!block.mayOverlap(from, to)) {
      blocksSkipped++;
      continue;
    }
    const c = candidatesOf(block, i);
    if (c.kind === 'none') {
      blocksSkipped++;
      continue;
    }
    if (c.kind === 'all') {
      push(block.offset, block.end);
      continue;
    }
    const { offsets, lengths } = c.list;
    let listed = 0;
    for (let k = 0; k < lengths.length; k++) listed += lengths[k]! + overhead;
    if (listed > DENSE_SHARE * (block.end - block.offset)) {
      push(block.offset, block.end);
      continue;
    }
    for (let i = 0; i < offsets.length; i++) push(offsets[i]!, Math.min(block.end, offsets[i]! + lengths[i]! + overhead));
  }
  push(Infinity, Infinity); // closes the last run
  const size = index.data.capture.size;
  return { scan: size > 0 && bytes > SCAN_SHARE * size, ranges, blocksSkipped, bytes };
}

export interface IndexEstimate {
  /** Matching packets and their captured bytes (an upper bound unless `exact`). */
  packets: number;
  bytes: number;
  /** True when every block's answer was exact and inside the window. */
  exact: boolean;
  /** Capture bytes extract would read (the read plan's ranges). */
  bytesToRead: number;
}

/**
 * Packets and bytes `select` matches in [from, to) from the index alone. A block that straddles a
 * window edge, or that the index cannot decide, counts as an upper bound (`exact: false`).
 */
export function estimateIndex(index: CaptureIndex, select: CandidateSelector, from: Timestamp | null, to: Timestamp | null): IndexEstimate {
  const out: IndexEstimate = { packets: 0, bytes: 0, exact: true, bytesToRead: 0 };
  // Each block's candidates once: counted here, then turned into the read plan.
  const candidates: Array<Candidates | undefined> = new Array<Candidates | undefined>(index.blocks.length);
  for (let i = 0; i < index.blocks.length; i++) {
    const block = index.blocks[i]!;
    if (!block.mayOverlap(from, to)) continue;
    const inside = insideWindow(block.first, block.last, from, to);
    const c = select(block);
    candidates[i] = c;
    if (c.kind === 'none') continue;
    if (c.kind === 'all') {
      out.packets += block.packets;
      out.bytes += block.bytes;
      out.exact &&= c.exact && inside;
      continue;
    }
    const lengths = c.list.lengths;
    out.packets += lengths.length;
    for (let k = 0; k < lengths.length; k++) out.bytes += lengths[k]!;
    out.exact &&= c.exact && inside;
  }
  const plan = planFrom(index, (block, i) => candidates[i] ?? select(block), from, to, false);
  out.bytesToRead = plan.scan ? index.data.capture.size : plan.bytes;
  return out;
}

/** Is every time in [first, last] inside [from, to)? */
function insideWindow(first: Timestamp, last: Timestamp, from: Timestamp | null, to: Timestamp | null): boolean {
  if (from && (first.sec < from.sec || (first.sec === from.sec && first.nsec < from.nsec))) return false;
  if (to && (last.sec > to.sec || (last.sec === to.sec && last.nsec >= to.nsec))) return false;
  return true;
}
