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
import type { CandidateSelector, Candidates, SingleAddress } from './candidates.js';
import type { CaptureIndex } from './index.js';
import { forEachPosting, listTotals } from './postings.js';

/**
 * Gaps up to this many bytes between wanted records are read through rather than seeked over.
 * Small: every record read through is parsed and filtered, which costs more than a positioned
 * read from the page cache (measured on the bench's sparse host: 16 KiB read 5× the matches).
 */
export const READ_GAP = 2 * 1024;
/**
 * Gaps up to this many bytes between listed records are read through in the same read, but only
 * the listed records are parsed (ReadPlan.picks): bytes read through cost a copy from the page
 * cache, not a parse and filter.
 */
export const PICK_GAP = 16 * 1024;
/** A run of listed records is one read of at most this many bytes (the reader's buffer, see extract-scan.ts). */
export const MAX_PICK_RUN = 1024 * 1024;
/** Listed bytes above this share of a block: read the block whole. */
export const DENSE_SHARE = 0.25;
/** Planned bytes above this share of the file: scan the file instead. */
export const SCAN_SHARE = 0.9;

export interface ReadPlan {
  /** Read the whole file (no ranges). */
  scan: boolean;
  /** File byte ranges [start, end), ascending, disjoint; each starts at a record. Empty: nothing can match. */
  ranges: Array<[number, number]>;
  /**
   * Per range: null = parse every record in it; else the file offsets (ascending, the first the
   * range's start) of the only records in it that can match — the bytes between are read, not parsed.
   */
  picks: Array<number[] | null>;
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
  if (select.single) return planSingle(index, select.single, from, to, true, null);
  return planFrom(index, (block) => select(block), from, to);
}

/**
 * Builds a read plan's ranges in file order: whole runs (`push`, coalesced across READ_GAP) and runs
 * of listed records (`pick`, coalesced across PICK_GAP up to MAX_PICK_RUN, the offsets kept). The
 * two kinds never share a run: a whole run parses every record it reads, a picked one only its own.
 */
class Coalescer {
  readonly ranges: Array<[number, number]> = [];
  readonly picks: Array<number[] | null> = [];
  bytes = 0;
  // The range being coalesced: [runStart, runEnd), none while runEnd < 0; runPicks null for a whole run.
  private runStart = 0;
  private runEnd = -1;
  private runPicks: number[] | null = null;

  /** `collect: false`: only the byte total is kept (no range arrays). */
  constructor(private readonly collect: boolean) {}

  /** Every record in [start, end). */
  push(start: number, end: number): void {
    if (this.runEnd >= 0 && this.runPicks === null && start - this.runEnd <= READ_GAP) {
      if (end > this.runEnd) this.runEnd = end;
      return;
    }
    this.close();
    this.runStart = start;
    this.runEnd = end;
  }

  /** The one record at `start`, whose bytes end before `end`. */
  pick(start: number, end: number): void {
    if (this.runEnd >= 0 && this.runPicks !== null && start - this.runEnd <= PICK_GAP && end - this.runStart <= MAX_PICK_RUN) {
      if (end > this.runEnd) this.runEnd = end;
      if (this.collect) this.runPicks.push(start);
      return;
    }
    this.close();
    this.runStart = start;
    this.runEnd = end;
    this.runPicks = this.collect ? [start] : EMPTY_PICKS;
  }

  plan(index: CaptureIndex, blocksSkipped: number): ReadPlan {
    this.close();
    const size = index.data.capture.size;
    return { scan: size > 0 && this.bytes > SCAN_SHARE * size, ranges: this.ranges, picks: this.picks, blocksSkipped, bytes: this.bytes };
  }

  private close(): void {
    if (this.runEnd < 0) return;
    this.bytes += this.runEnd - this.runStart;
    if (this.collect) {
      this.ranges.push([this.runStart, this.runEnd]);
      this.picks.push(this.runPicks);
    }
    this.runEnd = -1;
    this.runPicks = null;
  }
}

/** Marks a picked run when the offsets are not collected (estimate). */
const EMPTY_PICKS: number[] = [];

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
  const out = new Coalescer(collect);
  let blocksSkipped = 0;
  for (let i = 0; i < index.blocks.length; i++) {
    const block = index.blocks[i]!;
    if (block.mustRead) {
      // The first packet of a pcapng interface: its IDB is inside the block, before any record we could seek to.
      out.push(block.offset, block.end);
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
      out.push(block.offset, block.end);
      continue;
    }
    const { offsets, lengths } = c.list;
    let listed = 0;
    for (let k = 0; k < lengths.length; k++) listed += lengths[k]! + overhead;
    if (listed > DENSE_SHARE * (block.end - block.offset)) {
      out.push(block.offset, block.end);
      continue;
    }
    for (let i = 0; i < offsets.length; i++) out.pick(offsets[i]!, Math.min(block.end, offsets[i]! + lengths[i]! + overhead));
  }
  return out.plan(index, blocksSkipped);
}

/**
 * The read plan of a one-address filter straight from the encoded lists (no arrays of offsets):
 * the same plan as planFrom with the address selector, and when `counts` is given, the same
 * counts as estimateIndex's loop (counts[0] packets, [1] bytes, [2] 1 while exact, else 0).
 */
function planSingle(
  index: CaptureIndex,
  single: SingleAddress,
  from: Timestamp | null,
  to: Timestamp | null,
  collect: boolean,
  counts: Float64Array | null,
): ReadPlan {
  const overhead = recordOverhead(index.format);
  const out = new Coalescer(collect);
  const span = new Uint32Array(2);
  const totals = new Float64Array(2);
  let blocksSkipped = 0;
  let end = 0;
  const pick = (offset: number, caplen: number): void => out.pick(offset, Math.min(end, offset + caplen + overhead));
  for (let i = 0; i < index.blocks.length; i++) {
    const block = index.blocks[i]!;
    const overlaps = block.mayOverlap(from, to);
    // none: the index rules the block out; a list in span; else the whole block (no list kept, or damage).
    // The list first: a block keeps a list only for an address it has, so the summary (views made
    // on first use) is asked only when there is none — whether the address is absent or dense.
    let kind: 'none' | 'list' | 'all' = 'all';
    if (single.family === 4) {
      if (block.postingSpan4(single.addr, span)) kind = 'list';
      else if (!block.mayHaveIpv4(single.addr, 0xffff_ffff)) kind = 'none';
    } else if (block.postingSpan6(single.key, span)) kind = 'list';
    else if (!block.mayHaveIpv6(single.bytes, 128)) kind = 'none';
    if (kind === 'list' && !listTotals(block.postingBytes, span[0]!, span[1]!, block.offset, block.end, totals)) kind = 'all';
    if (counts && overlaps && kind !== 'none') {
      counts[0]! += kind === 'list' ? totals[0]! : block.packets;
      counts[1]! += kind === 'list' ? totals[1]! : block.bytes;
      if (!(kind === 'list' && single.exact && insideWindow(block.first, block.last, from, to))) counts[2] = 0;
    }
    if (block.mustRead) {
      out.push(block.offset, block.end);
      continue;
    }
    if (!overlaps || kind === 'none') {
      blocksSkipped++;
      continue;
    }
    if (kind === 'all' || totals[1]! + overhead * totals[0]! > DENSE_SHARE * (block.end - block.offset)) {
      out.push(block.offset, block.end);
      continue;
    }
    end = block.end;
    forEachPosting(block.postingBytes, span[0]!, span[1]!, block.offset, pick);
  }
  return out.plan(index, blocksSkipped);
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
  if (select.single) {
    const counts = Float64Array.of(0, 0, 1);
    const plan = planSingle(index, select.single, from, to, false, counts);
    return { packets: counts[0]!, bytes: counts[1]!, exact: counts[2] === 1, bytesToRead: plan.scan ? index.data.capture.size : plan.bytes };
  }
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
