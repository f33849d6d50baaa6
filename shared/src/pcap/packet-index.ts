/**
 * A packet offset index: the file offset of every packet record of a capture, kept in a file
 * beside it, so that packet N (or a page of packets from N) is read with one seek instead of a
 * scan from the start. Built once by a sequential read; reused while the capture keeps the size
 * and modification time the index recorded (a capture replaced or changed → rebuilt).
 *
 * File layout (little-endian): "PMPKTIX1", then float64 capture size, capture mtime (ms), packet
 * count, first packet sec, first packet nsec; uint32 checkpoint count, 4 bytes padding; the
 * checkpoints (float64 each); then one float64 record offset per packet.
 *
 * pcapng: an interface declared after the first packet (our writer adds an IDB when a new link
 * type appears) must be parsed before its packets. Each packet number whose interface is seen for
 * the first time is a checkpoint: a read replays the packet before each checkpoint at or before
 * what it reads, so the reader passes over the interface block. One section per file is assumed (a
 * second section would renumber interfaces: such files read correctly only from their start).
 *
 * @example
 * const index = await openPacketIndex('/results/j/merged.pcapng', '/results/j/merged.pcapng.pktidx');
 * await index.read(100, 50, (view, n) => rows.push(summarize(view, n)));   // packets 100..149
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { openCapture } from './reader.js';
import type { CaptureReader } from './reader.js';
import type { CaptureProblem, PacketView, Timestamp } from './types.js';

const MAGIC = 'PMPKTIX1';
const HEADER = 56;
/** Packets read between two yields to the event loop while building. */
const YIELD_EVERY = 20_000;
/** Buffer of the readers that serve a page: a page is small; the index says where it starts. */
const PAGE_BUFFER = 256 * 1024;

/** Thrown when the capture no longer matches its index or a read lands off a record boundary. */
export class PacketIndexError extends Error {
  override name = 'PacketIndexError';
}

export interface PacketIndex {
  readonly capturePath: string;
  readonly count: number;
  /** Time of the first packet (zero when the capture has none). */
  readonly first: Timestamp;
  /** Problems met while building (a damaged tail: the index covers the packets before it). */
  readonly problems: CaptureProblem[];
  /**
   * Calls `visit` for packets `start` .. `start + count - 1` (0-based; clamped to the capture), in
   * order. The view is the reader's flyweight: valid only during the call.
   * @throws PacketIndexError when the capture changed since the index was built.
   */
  read(start: number, count: number, visit: (view: PacketView, index: number) => void): Promise<void>;
}

interface IndexData {
  size: number;
  mtimeMs: number;
  count: number;
  first: Timestamp;
  checkpoints: number[];
}

/**
 * The index of `capturePath`, loaded from `indexPath` when it matches the capture, else built by a
 * sequential read (yielding to the event loop every 20,000 packets) and written there (temporary
 * name, then rename).
 * @throws the reader's errors (CaptureFormatError, ENOENT) for a capture it cannot read.
 */
export async function openPacketIndex(capturePath: string, indexPath: string): Promise<PacketIndex> {
  const st = await stat(capturePath);
  const loaded = await loadHeader(indexPath, st.size, st.mtimeMs);
  if (loaded) return new FilePacketIndex(capturePath, indexPath, loaded, []);
  const built = await buildPacketIndex(capturePath, indexPath, st.size, st.mtimeMs);
  return new FilePacketIndex(capturePath, indexPath, built.data, built.problems);
}

async function loadHeader(indexPath: string, size: number, mtimeMs: number): Promise<IndexData | null> {
  const fh = await open(indexPath, 'r').catch(() => null);
  if (!fh) return null;
  try {
    const head = Buffer.alloc(HEADER);
    const { bytesRead } = await fh.read(head, 0, HEADER, 0);
    if (bytesRead < HEADER || head.toString('latin1', 0, 8) !== MAGIC) return null;
    if (head.readDoubleLE(8) !== size || head.readDoubleLE(16) !== mtimeMs) return null;
    const count = head.readDoubleLE(24);
    const nCheck = head.readUInt32LE(48);
    const fileSize = (await fh.stat()).size;
    if (fileSize !== HEADER + 8 * (nCheck + count)) return null;
    const checks = Buffer.alloc(8 * nCheck);
    if (nCheck > 0) await fh.read(checks, 0, checks.length, HEADER);
    const checkpoints = Array.from({ length: nCheck }, (_, i) => checks.readDoubleLE(i * 8));
    return { size, mtimeMs, count, first: { sec: head.readDoubleLE(32), nsec: head.readDoubleLE(40) }, checkpoints };
  } finally {
    await fh.close();
  }
}

async function buildPacketIndex(
  capturePath: string,
  indexPath: string,
  size: number,
  mtimeMs: number,
): Promise<{ data: IndexData; problems: CaptureProblem[] }> {
  const reader = openCapture(capturePath);
  let offsets = new Float64Array(1024);
  let count = 0;
  const checkpoints: number[] = [];
  const seen = new Set<number>();
  const first: Timestamp = { sec: 0, nsec: 0 };
  try {
    for (let p = reader.next(); p; p = reader.next()) {
      if (count === offsets.length) {
        const bigger = new Float64Array(offsets.length * 2);
        bigger.set(offsets);
        offsets = bigger;
      }
      if (count === 0) {
        first.sec = p.sec;
        first.nsec = p.nsec;
      }
      if (!seen.has(p.interfaceId)) {
        seen.add(p.interfaceId);
        if (count > 0) checkpoints.push(count);
      }
      offsets[count++] = p.offset;
      if (count % YIELD_EVERY === 0) await yieldToLoop();
    }
  } finally {
    reader.close();
  }
  const head = Buffer.alloc(HEADER + 8 * checkpoints.length);
  head.write(MAGIC, 0, 'latin1');
  head.writeDoubleLE(size, 8);
  head.writeDoubleLE(mtimeMs, 16);
  head.writeDoubleLE(count, 24);
  head.writeDoubleLE(first.sec, 32);
  head.writeDoubleLE(first.nsec, 40);
  head.writeUInt32LE(checkpoints.length, 48);
  checkpoints.forEach((c, i) => head.writeDoubleLE(c, HEADER + i * 8));
  const temp = `${indexPath}.${process.pid}.tmp`;
  const fh = await open(temp, 'w');
  try {
    await fh.write(head);
    await fh.write(new Uint8Array(offsets.buffer, 0, count * 8));
    await fh.close();
    await rename(temp, indexPath);
  } catch (err) {
    await fh.close().catch(() => undefined);
    await rm(temp, { force: true });
    throw err;
  }
  return { data: { size, mtimeMs, count, first, checkpoints }, problems: reader.problems };
}

class FilePacketIndex implements PacketIndex {
  readonly count: number;
  readonly first: Timestamp;

  constructor(
    readonly capturePath: string,
    private readonly indexPath: string,
    private readonly data: IndexData,
    readonly problems: CaptureProblem[],
  ) {
    this.count = data.count;
    this.first = data.first;
  }

  async read(start: number, count: number, visit: (view: PacketView, index: number) => void): Promise<void> {
    const from = Math.max(0, Math.floor(start));
    const to = Math.min(this.count, from + Math.max(0, Math.floor(count)));
    if (from >= to) return;
    const st = await stat(this.capturePath);
    if (st.size !== this.data.size || st.mtimeMs !== this.data.mtimeMs)
      throw new PacketIndexError(`${this.capturePath} changed since its packet index was built`);
    const replay = this.data.checkpoints.filter((k) => k < to);
    const offsets = this.offsets([...replay.map((k) => k - 1), from]);
    const reader = openCapture(this.capturePath, { bufferSize: PAGE_BUFFER });
    try {
      replay.forEach((_, i) => {
        reader.seek(offsets[i]!);
        reader.next();
        reader.next();
      });
      reader.seek(offsets[offsets.length - 1]!);
      for (let n = from; n < to; n++) {
        const view = nextOrFail(reader, n);
        if (n === from && view.offset !== offsets[offsets.length - 1])
          throw new PacketIndexError(`${this.capturePath}: packet ${n} is not where its index says`);
        visit(view, n);
      }
    } finally {
      reader.close();
    }
  }

  /** The record offsets of the given packet numbers (one positioned read each). */
  private offsets(packets: number[]): number[] {
    const fd = openSync(this.indexPath, 'r');
    try {
      const base = HEADER + 8 * this.data.checkpoints.length;
      const one = Buffer.alloc(8);
      return packets.map((n) => {
        if (readSync(fd, one, 0, 8, base + n * 8) !== 8) throw new PacketIndexError(`${this.indexPath}: no offset for packet ${n}`);
        return one.readDoubleLE(0);
      });
    } finally {
      closeSync(fd);
    }
  }
}

function nextOrFail(reader: CaptureReader, n: number): PacketView {
  const view = reader.next();
  if (!view) throw new PacketIndexError(`${reader.path}: packet ${n} could not be read (${reader.problems[0]?.reason ?? 'end of file'})`);
  return view;
}
