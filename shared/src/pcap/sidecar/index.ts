/**
 * The sidecar index of a closed capture file: `<capture>.pmidx` beside it. It lets extract skip
 * files and blocks (~1 MiB runs of packets) that cannot match by time, address, port or protocol.
 *
 * Query API (what extract uses):
 * @example
 * import { openIndex } from '@pcapmesh/shared/pcap/sidecar/index';
 * const { index } = openIndex(path);               // loads, or (re)builds when missing/stale/corrupt
 * if (!index.mayOverlap(from, to)) return;          // whole file out of the window
 * const mayMatch = filterSummary(parseFilter(expr)); // filter/summary.ts
 * const reader = openCapture(path);
 * for (const block of index.blocks) {
 *   if (!block.mustRead && (!block.mayOverlap(from, to) || !mayMatch(block))) continue;
 *   reader.seek(block.offset);
 *   for (let p = reader.next(); p && p.offset < block.end; p = reader.next()) ...
 * }
 *
 * Finer than blocks (format 3): posting lists give each address's packets in a block, so extract
 * reads only those records and estimate counts them (see candidates.ts, plan.ts):
 * @example
 * const select = compileCandidates(parseFilter('host 10.0.0.1 and port 53'));
 * const plan = planReads(index, select, from, to);   // byte ranges to read, or scan: true
 * const { packets, bytes, exact } = estimateIndex(index, select, from, to);
 *
 * Blocks tile the packet records: block[i].end === block[i+1].offset; the first block starts at
 * the first packet, the last ends at end of file. A block with `mustRead` holds the first packet
 * of a pcapng interface (its IDB precedes it inside the block): never skip it.
 *
 * A stale sidecar (capture size, mtime or first-64-KiB CRC changed) or a corrupt one (magic,
 * CRC-32, shape) is never trusted: `openIndex` rebuilds it and says why.
 */
import { closeSync, openSync, readFileSync, readSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import type { CaptureProblem, Timestamp } from '../types.js';
import { IndexBlock } from './block-summary.js';
import { DEFAULT_BLOCK_BYTES, buildIndexData, captureIdentity, type PacketObserver } from './build.js';
import {
  SIDECAR_HEADER_PROBE,
  decodeSidecar,
  decodeSidecarHeader,
  encodeSidecar,
  sidecarHeaderBytes,
  type CaptureIdentity,
  type SidecarData,
  type SidecarHeader,
} from './file-format.js';

export { IndexBlock, type BlockRecord } from './block-summary.js';
export { compileCandidates, type Candidates, type CandidateSelector } from './candidates.js';
export { estimateIndex, planReads, type IndexEstimate, type ReadPlan } from './plan.js';
export { POSTING_BUDGET, type BlockPostings, type PostingList } from './postings.js';
export { DEFAULT_BLOCK_BYTES, buildIndexData, captureIdentity, type PacketObserver } from './build.js';
export { CorruptSidecarError, decodeSidecar, decodeSidecarHeader, encodeSidecar, type SidecarData, type SidecarHeader } from './file-format.js';
export { isStillBeingWritten, DEFAULT_SETTLE_MS } from './settle.js';

export const SIDECAR_SUFFIX = '.pmidx';
/**
 * Captures smaller than this are not worth a sidecar (reading them whole takes about a
 * millisecond) and would break the "index ≤ 3 % of the capture" budget with its fixed header;
 * the `index` command skips them and extract reads them whole.
 */
export const MIN_INDEXED_BYTES = 1024 * 1024;

export function sidecarPath(capturePath: string): string {
  return capturePath + SIDECAR_SUFFIX;
}

/** Where `buildIndex` in process `pid` writes the sidecar before renaming it into place. */
export function sidecarTempPath(capturePath: string, pid: number = process.pid): string {
  return `${sidecarPath(capturePath)}.tmp-${pid}`;
}

/** The writing process's id when `path` is a temporary sidecar (see sidecarTempPath), else null. */
export function sidecarTempPid(path: string): number | null {
  const m = /\.pmidx\.tmp-(\d+)$/.exec(path);
  return m ? Number(m[1]) : null;
}

/** A loaded index with the query API. */
export class CaptureIndex {
  readonly blocks: IndexBlock[];

  constructor(
    readonly capturePath: string,
    readonly data: SidecarData,
  ) {
    this.blocks = data.blocks.map((b) => new IndexBlock(b));
  }

  get format(): 'pcap' | 'pcapng' {
    return this.data.format;
  }
  get packets(): number {
    return this.data.packets;
  }
  get first(): Timestamp | null {
    return this.data.first;
  }
  get last(): Timestamp | null {
    return this.data.last;
  }
  get linkTypes(): number[] {
    return this.data.linkTypes;
  }
  get problems(): CaptureProblem[] {
    return this.data.problems;
  }

  /** May the file hold a packet with time in [from, to] (null = unbounded)? */
  mayOverlap(from: Timestamp | null, to: Timestamp | null): boolean {
    return this.blocks.some((b) => b.mayOverlap(from, to));
  }
}

type NotFresh = { status: 'missing' | 'stale' | 'corrupt'; reason: string };
export type LoadResult = { status: 'fresh'; index: CaptureIndex } | NotFresh;

/** Loads the sidecar if it exists and describes the capture as it is now. Never throws for a bad sidecar. */
export function loadIndex(capturePath: string): LoadResult {
  const loaded = loadChecked(capturePath, (sidecar) => readFileSync(sidecar), decodeSidecar);
  return loaded.status === 'fresh' ? { status: 'fresh', index: new CaptureIndex(capturePath, loaded.value) } : loaded;
}

/**
 * Only the sidecar's header (its own CRC checked), if the capture is unchanged: the file's time
 * span, packets and link types without reading the blocks — what extract needs to leave a file
 * out of a window. Never throws for a bad sidecar.
 */
export function loadIndexHeader(capturePath: string): { status: 'fresh'; header: SidecarHeader } | NotFresh {
  const loaded = loadChecked(capturePath, readHeader, decodeSidecarHeader);
  return loaded.status === 'fresh' ? { status: 'fresh', header: loaded.value } : loaded;
}

/** Reads (`read`) and decodes the capture's sidecar, then checks that it describes the capture as it is now. */
function loadChecked<T extends { capture: CaptureIdentity }>(
  capturePath: string,
  read: (sidecar: string) => Uint8Array,
  decode: (bytes: Uint8Array) => T,
): { status: 'fresh'; value: T } | NotFresh {
  let bytes: Uint8Array;
  try {
    bytes = read(sidecarPath(capturePath));
  } catch (error) {
    return { status: 'missing', reason: `no sidecar (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})` };
  }
  let value: T;
  try {
    value = decode(bytes);
  } catch (error) {
    return { status: 'corrupt', reason: (error as Error).message };
  }
  return staleness(capturePath, value.capture) ?? { status: 'fresh', value };
}

/** The header bytes of a sidecar: the first SIDECAR_HEADER_PROBE, or as many as the header declares. */
function readHeader(sidecar: string): Uint8Array {
  const fd = openSync(sidecar, 'r');
  try {
    const head = readAt(fd, SIDECAR_HEADER_PROBE);
    const declared = sidecarHeaderBytes(head);
    return declared > head.length && head.length === SIDECAR_HEADER_PROBE ? readAt(fd, declared) : head;
  } finally {
    closeSync(fd);
  }
}

/** Up to `length` bytes from the start of `fd` (fewer at end of file). */
function readAt(fd: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  let got = 0;
  for (let n; got < length && (n = readSync(fd, out, got, length - got, got)) > 0;) got += n;
  return out.subarray(0, got);
}

/**
 * Why an index built from `then` no longer describes the capture, or null when it still does.
 * A capture that cannot be read (deleted by retention since the directory was listed) makes the
 * index stale: the caller then meets, and reports, the unreadable capture itself.
 */
function staleness(capturePath: string, then: CaptureIdentity): NotFresh | null {
  let now: CaptureIdentity;
  try {
    now = captureIdentity(capturePath);
  } catch (error) {
    return { status: 'stale', reason: `capture cannot be read: ${(error as Error).message}` };
  }
  if (now.size !== then.size) return { status: 'stale', reason: `capture size changed (${then.size} → ${now.size})` };
  if (now.mtimeMs !== then.mtimeMs) return { status: 'stale', reason: 'capture modification time changed' };
  if (now.headCrc !== then.headCrc) return { status: 'stale', reason: 'capture head changed (CRC of first 64 KiB)' };
  return null;
}

/** Builds the index and writes the sidecar atomically (temp file + rename); `observe` sees every packet of the build's read. */
export function buildIndex(
  capturePath: string,
  opts: { blockBytes?: number; persist?: boolean; observe?: PacketObserver; postingBudget?: number } = {},
): { index: CaptureIndex; persistError?: string } {
  const data = buildIndexData(capturePath, opts.blockBytes ?? DEFAULT_BLOCK_BYTES, opts.observe, opts.postingBudget);
  const index = new CaptureIndex(capturePath, data);
  if (opts.persist === false) return { index };
  const target = sidecarPath(capturePath);
  const temp = sidecarTempPath(capturePath);
  try {
    writeFileSync(temp, encodeSidecar(data));
    renameSync(temp, target);
    return { index };
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      /* never created */
    }
    return { index, persistError: `${target}: cannot write index: ${(error as Error).message}` };
  }
}

export interface OpenIndexResult {
  index: CaptureIndex;
  /** fresh: loaded as is; built: there was none; rebuilt: it was stale or corrupt (see reason). */
  status: 'fresh' | 'built' | 'rebuilt';
  reason?: string;
  /** Set when the rebuilt index could not be written (read-only directory); the index is still usable. */
  persistError?: string;
}

/**
 * The index of a capture: loaded when fresh, else built (and written unless `persist: false`).
 * `observe` sees every packet only when the capture is read (status built / rebuilt), never for
 * a fresh sidecar.
 * @throws CaptureFormatError / fs errors when the capture itself cannot be read.
 */
export function openIndex(
  capturePath: string,
  opts: { blockBytes?: number; persist?: boolean; force?: boolean; observe?: PacketObserver } = {},
): OpenIndexResult {
  const loaded: LoadResult = opts.force ? { status: 'stale', reason: 'rebuild forced' } : loadIndex(capturePath);
  if (loaded.status === 'fresh') return { index: loaded.index, status: 'fresh' };
  const { index, persistError } = buildIndex(capturePath, opts);
  const status = loaded.status === 'missing' ? 'built' : 'rebuilt';
  return { index, status, ...(status === 'rebuilt' ? { reason: loaded.reason } : {}), ...(persistError ? { persistError } : {}) };
}
