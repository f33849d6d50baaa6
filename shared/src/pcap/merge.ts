/**
 * Streaming k-way merge of captures by timestamp, optionally dropping duplicates seen by two
 * sensors. Memory is constant in input size: one read buffer per input, one write buffer, a
 * k-entry heap, and (with dedup) the packets inside the dedup window.
 *
 * Order: by (sec, nsec); packets with equal times go out LATER INPUT FIRST, exactly as mergecap
 * 4.0 does (its selection scan keeps the last input whose head is earlier-or-equal; verified by
 * reference.test.ts on hand-made ties). Within one input, file order is kept. With format
 * 'pcap' and classic pcap inputs of one link type the output is byte-identical to
 * `mergecap -F pcap -w`.
 */
import { statSync, type Stats } from 'node:fs';
import { DuplicateFilter } from './merge-dedup.js';
import { MAX_CAPLEN } from './pcap-format.js';
import { openCapture, type CaptureReader } from './reader.js';
import type { CaptureProblem, PacketView } from './types.js';
import { PcapWriter, PcapngWriter, type PacketWriter } from './writer.js';

/** Output formats: classic µs pcap, classic ns pcap, pcapng; 'auto' picks (see chooseFormat). */
export type MergeFormat = 'pcap' | 'nsecpcap' | 'pcapng' | 'auto';

export interface MergeOptions {
  /** Drop packets equal to one from another input within the window. */
  dedup?: boolean;
  /** Dedup window in nanoseconds (default 1 ms). */
  dedupWindowNs?: number;
  format?: MergeFormat;
  /** Read buffer per input (default 2 MiB). */
  bufferSize?: number;
}

export interface MergeStats {
  /** Packets written. */
  packets: number;
  /** Captured bytes written (sum of caplen). */
  bytes: number;
  /** Packets dropped as duplicates. */
  duplicates: number;
  /** Damage met in inputs; every valid packet before it was merged. */
  problems: CaptureProblem[];
  format: Exclude<MergeFormat, 'auto'>;
}

export const DEFAULT_DEDUP_WINDOW_NS = 1_000_000;

/**
 * Merges already open readers into `writer`. Pure apart from the readers and writer it is given;
 * closes neither.
 * @example
 * const stats = mergeReaders([openCapture('a.pcap'), openCapture('b.pcap')], writer, { dedup: true });
 */
export function mergeReaders(
  readers: CaptureReader[],
  writer: PacketWriter,
  opts: Pick<MergeOptions, 'dedup' | 'dedupWindowNs'> = {},
): Omit<MergeStats, 'format'> {
  const heads: (PacketView | null)[] = readers.map((r) => r.next());
  const snaplens = readers.map((r) => r.snaplen || MAX_CAPLEN);
  const heap = new InputHeap(heads);
  const dedup = opts.dedup ? new DuplicateFilter(opts.dedupWindowNs ?? DEFAULT_DEDUP_WINDOW_NS) : null;
  let packets = 0;
  let bytes = 0;
  let duplicates = 0;
  for (let input = heap.min(); input >= 0; input = heap.min()) {
    const packet = heads[input] as PacketView;
    if (dedup !== null && dedup.isDuplicate(packet, input)) {
      duplicates++;
    } else {
      writer.write(packet, snaplens[input]);
      packets++;
      bytes += packet.caplen;
    }
    heads[input] = (readers[input] as CaptureReader).next();
    heap.replaceMin();
  }
  return { packets, bytes, duplicates, problems: readers.flatMap((r) => r.problems) };
}

/**
 * The output format for 'auto': pcapng when the inputs have more than one link type, else
 * nanosecond pcap when any input has ns timestamps, else µs pcap (what mergecap -F pcap writes).
 */
export function chooseFormat(readers: CaptureReader[], requested: MergeFormat = 'auto'): Exclude<MergeFormat, 'auto'> {
  const linkTypes = new Set(readers.flatMap((r) => r.linkTypes));
  if (requested !== 'auto') {
    if (requested !== 'pcapng' && linkTypes.size > 1) {
      throw new Error(`cannot write classic pcap: inputs have ${linkTypes.size} link types (${[...linkTypes].join(', ')}); use pcapng`);
    }
    return requested;
  }
  if (linkTypes.size > 1) return 'pcapng';
  return readers.some((r) => r.nanosecond) ? 'nsecpcap' : 'pcap';
}

/**
 * Merges capture files into `output` (a path, or an open descriptor such as 1 for stdout).
 * @throws when an input cannot be opened (missing, empty, not a capture) — before writing anything.
 * @example
 * const stats = mergeCaptures(['site-a.pcapng', 'site-b.pcap'], 'all.pcap', { dedup: true });
 * console.log(`${stats.packets} packets, ${stats.duplicates} duplicates dropped`);
 */
export function mergeCaptures(inputs: string[], output: string | number, opts: MergeOptions = {}): MergeStats {
  if (typeof output === 'string') refuseOverwritingAnInput(inputs, output);
  const readers: CaptureReader[] = [];
  try {
    for (const path of inputs) readers.push(openCapture(path, { bufferSize: opts.bufferSize ?? 2 * 1024 * 1024 }));
    const format = chooseFormat(readers, opts.format);
    const linkType = readers[0]?.linkTypes[0] ?? 1;
    const writer: PacketWriter =
      format === 'pcapng'
        ? PcapngWriter.toFile(output, { nanosecond: readers.some((r) => r.nanosecond) })
        : PcapWriter.toFile(output, { linkType, nanosecond: format === 'nsecpcap' });
    try {
      return { ...mergeReaders(readers, writer, opts), format };
    } finally {
      writer.close();
    }
  } finally {
    for (const r of readers) r.close();
  }
}

/** Writing the output over one of the inputs would destroy it before it is read. */
function refuseOverwritingAnInput(inputs: string[], output: string): void {
  let out: Stats;
  try {
    out = statSync(output);
  } catch {
    return; // does not exist yet
  }
  for (const input of inputs) {
    const s = statSync(input, { throwIfNoEntry: false });
    if (s && s.ino === out.ino && s.dev === out.dev) {
      throw new Error(`output ${output} is the input ${input}: refusing to overwrite it`);
    }
  }
}

/**
 * Binary min-heap of input indices keyed by their head packet's (sec, nsec, -index): on equal
 * times the higher input index comes first (mergecap's order). Inputs whose head is null
 * (exhausted) leave the heap.
 */
class InputHeap {
  private readonly items: number[] = [];

  constructor(private readonly heads: (PacketView | null)[]) {
    heads.forEach((h, i) => {
      if (h) this.items.push(i);
    });
    for (let i = (this.items.length >> 1) - 1; i >= 0; i--) this.down(i);
  }

  /** Input with the earliest head, or -1 when all are exhausted. */
  min(): number {
    return this.items.length > 0 ? (this.items[0] as number) : -1;
  }

  /** Call after the min input's head changed (advanced or became null). */
  replaceMin(): void {
    const items = this.items;
    if (this.heads[items[0] as number] === null) {
      const last = items.pop() as number;
      if (items.length === 0) return;
      items[0] = last;
    }
    this.down(0);
  }

  private less(a: number, b: number): boolean {
    const pa = this.heads[a] as PacketView;
    const pb = this.heads[b] as PacketView;
    if (pa.sec !== pb.sec) return pa.sec < pb.sec;
    if (pa.nsec !== pb.nsec) return pa.nsec < pb.nsec;
    return a > b;
  }

  private down(i: number): void {
    const items = this.items;
    const n = items.length;
    const item = items[i] as number;
    for (;;) {
      const l = 2 * i + 1;
      if (l >= n) break;
      const r = l + 1;
      const c = r < n && this.less(items[r] as number, items[l] as number) ? r : l;
      if (!this.less(items[c] as number, item)) break;
      items[i] = items[c] as number;
      i = c;
    }
    items[i] = item;
  }
}
