/**
 * The `.pmidx` sidecar file: 8-byte magic, a CBOR payload, and a CRC-32 of everything before
 * it (little-endian u32). The payload identifies the capture it describes (size, mtime, CRC-32
 * of its first 64 KiB) so a stale sidecar is recognised; the trailing CRC catches corruption.
 */
import { crc32 } from 'node:zlib';
import { decode, encode } from 'cbor-x';
import type { CaptureProblem, Timestamp } from '../types.js';
import type { BlockRecord } from './block-summary.js';

export const SIDECAR_MAGIC = Uint8Array.from([0x50, 0x4d, 0x49, 0x44, 0x58, 0x00, 0x01, 0x0a]); // "PMIDX\0\1\n"
export const SIDECAR_VERSION = 1;
/** Bytes of the capture's head covered by `headCrc`. */
export const HEAD_BYTES = 64 * 1024;

/** Identity of the capture file an index was built from. */
export interface CaptureIdentity {
  size: number;
  mtimeMs: number;
  headCrc: number;
}

export interface SidecarData {
  version: number;
  capture: CaptureIdentity;
  format: 'pcap' | 'pcapng';
  linkTypes: number[];
  packets: number;
  first: Timestamp | null;
  last: Timestamp | null;
  /** Damage met while building (the blocks cover the valid packets before it). */
  problems: CaptureProblem[];
  /** Target capture bytes per block. */
  blockBytes: number;
  blocks: BlockRecord[];
}

export function encodeSidecar(data: SidecarData): Uint8Array {
  const payload = encode(data) as Uint8Array;
  const out = new Uint8Array(SIDECAR_MAGIC.length + payload.length + 4);
  out.set(SIDECAR_MAGIC, 0);
  out.set(payload, SIDECAR_MAGIC.length);
  new DataView(out.buffer).setUint32(out.length - 4, crc32(out.subarray(0, out.length - 4)), true);
  return out;
}

/** Why bytes are not a usable sidecar; thrown by decodeSidecar. */
export class CorruptSidecarError extends Error {
  constructor(reason: string, options?: ErrorOptions) {
    super(reason, options);
    this.name = 'CorruptSidecarError';
  }
}

/** @throws CorruptSidecarError naming what is wrong (magic, checksum, payload shape). */
export function decodeSidecar(bytes: Uint8Array): SidecarData {
  if (bytes.length < SIDECAR_MAGIC.length + 4 || !SIDECAR_MAGIC.every((b, i) => bytes[i] === b)) {
    throw new CorruptSidecarError('not a pcapmesh index (bad magic)');
  }
  const stored = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(bytes.length - 4, true);
  const actual = crc32(bytes.subarray(0, bytes.length - 4));
  if (stored !== actual) throw new CorruptSidecarError(`checksum mismatch (stored ${stored}, computed ${actual})`);
  let data: SidecarData;
  try {
    data = decode(bytes.subarray(SIDECAR_MAGIC.length, bytes.length - 4)) as SidecarData;
  } catch (cause) {
    throw new CorruptSidecarError(`undecodable payload: ${(cause as Error).message}`, { cause });
  }
  const problem = shapeProblem(data);
  if (problem) throw new CorruptSidecarError(problem);
  return data;
}

function isTime(t: unknown): boolean {
  return typeof t === 'object' && t !== null && Number.isFinite((t as Timestamp).sec) && Number.isInteger((t as Timestamp).nsec);
}

/** What is wrong with a decoded payload's shape, or null. */
function shapeProblem(d: SidecarData): string | null {
  if (typeof d !== 'object' || d === null) return 'payload is not a map';
  if (d.version !== SIDECAR_VERSION) return `version ${String(d.version)}, expected ${SIDECAR_VERSION}`;
  if (!d.capture || !Number.isInteger(d.capture.size) || typeof d.capture.mtimeMs !== 'number' || !Number.isInteger(d.capture.headCrc)) {
    return 'capture identity missing';
  }
  if (d.format !== 'pcap' && d.format !== 'pcapng') return `unknown format ${String(d.format)}`;
  if (!Array.isArray(d.blocks) || !Array.isArray(d.linkTypes) || !Array.isArray(d.problems)) return 'blocks/linkTypes/problems missing';
  let previousEnd = 0;
  for (const [i, b] of d.blocks.entries()) {
    if (!Number.isInteger(b.offset) || !Number.isInteger(b.end) || b.offset < previousEnd || b.end < b.offset || b.end > d.capture.size) {
      return `block ${i}: bad offsets`;
    }
    if (!isTime(b.first) || !isTime(b.last) || !(b.ipProtos instanceof Uint8Array)) return `block ${i}: bad fields`;
    if (!(b.ipv4 instanceof Uint32Array || b.ipv4Bloom instanceof Uint8Array)) return `block ${i}: no IPv4 summary`;
    if (!(b.ipv6 instanceof Float64Array || b.ipv6Bloom instanceof Uint8Array)) return `block ${i}: no IPv6 summary`;
    if (!(b.ports instanceof Uint16Array || b.portBitmap instanceof Uint8Array)) return `block ${i}: no port summary`;
    previousEnd = b.end;
  }
  return null;
}
