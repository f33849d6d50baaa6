/**
 * Builds a capture's index: one pass of the reader, each packet decoded (decode.ts) into the
 * current block's address / port / protocol sets, a new block every ~`blockBytes` of capture.
 * An optional observer sees every packet with its decode in the same pass (the agent's traffic
 * summaries), so a caller that wants more than the index does not read the bytes twice.
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import { decodePacket, newDecodedPacket } from '../decode.js';
import { openCapture } from '../reader.js';
import { compareTimestamps } from '../timestamp.js';
import { L3, type DecodedPacket, type PacketView, type Timestamp } from '../types.js';
import { BlockAccumulator, ipv6Key, type BlockRecord } from './block-summary.js';
import { HEAD_BYTES, SIDECAR_VERSION, type CaptureIdentity, type SidecarData } from './file-format.js';

/** Default capture bytes per index block. */
export const DEFAULT_BLOCK_BYTES = 1024 * 1024;

/**
 * Sees each packet of an index build right after it was decoded, in file order. `packet` and
 * `decoded` are reused for the next packet: copy what you keep. Must not throw (a throw aborts
 * the build like a read error).
 */
export type PacketObserver = (packet: PacketView, decoded: DecodedPacket) => void;

/** Size, mtime and CRC-32 of the first 64 KiB of a capture file. */
export function captureIdentity(path: string): CaptureIdentity {
  const fd = openSync(path, 'r');
  try {
    const stat = fstatSync(fd);
    const head = new Uint8Array(Math.min(HEAD_BYTES, stat.size));
    let got = 0;
    while (got < head.length) {
      const n = readSync(fd, head, got, head.length - got, got);
      if (n === 0) break;
      got += n;
    }
    return { size: stat.size, mtimeMs: stat.mtimeMs, headCrc: crc32(head.subarray(0, got)) };
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads the whole capture and returns its index data (does not write the sidecar); `observe`,
 * when given, is called for every packet after its decode.
 * @throws CaptureFormatError / fs errors like openCapture.
 * @example
 * const data = buildIndexData('/captures/eth0.pcap');
 * console.log(data.blocks.length, data.packets);
 */
export function buildIndexData(path: string, blockBytes = DEFAULT_BLOCK_BYTES, observe?: PacketObserver): SidecarData {
  const identity = captureIdentity(path);
  const reader = openCapture(path);
  const decoded = newDecodedPacket();
  const blocks: BlockRecord[] = [];
  const seenInterfaces = new Set<number>([0]);
  let packets = 0;
  let block: BlockAccumulator | null = null;
  try {
    for (let p = reader.next(); p; p = reader.next()) {
      if (block === null) {
        block = new BlockAccumulator(p.offset);
      } else if (p.offset - block.offset >= blockBytes) {
        blocks.push(block.finish(p.offset));
        block = new BlockAccumulator(p.offset);
      }
      if (!seenInterfaces.has(p.interfaceId)) {
        // The interface's IDB (or a new section) sits before this packet: never skip past it.
        seenInterfaces.add(p.interfaceId);
        block.mustRead = true;
      }
      block.time(p.sec, p.nsec);
      packets++;
      decodePacket(p, decoded);
      if (decoded.src4 >= 0) block.ipv4.add(decoded.src4);
      if (decoded.dst4 >= 0) block.ipv4.add(decoded.dst4);
      if (decoded.l3 === L3.IPV6) {
        if (decoded.src6Offset >= 0) block.ipv6.add(ipv6Key(p.data, decoded.src6Offset));
        if (decoded.dst6Offset >= 0) block.ipv6.add(ipv6Key(p.data, decoded.dst6Offset));
      }
      if (decoded.ipProto >= 0) block.protos.add(decoded.ipProto);
      if (decoded.sport >= 0) block.ports.add(decoded.sport);
      if (decoded.dport >= 0) block.ports.add(decoded.dport);
      if (observe !== undefined) observe(p, decoded);
    }
    if (block !== null) blocks.push(block.finish(identity.size));
    const { first, last } = timeSpan(blocks);
    return {
      version: SIDECAR_VERSION,
      capture: identity,
      format: reader.format,
      linkTypes: [...reader.linkTypes],
      packets,
      first,
      last,
      problems: [...reader.problems],
      blockBytes,
      blocks,
    };
  } finally {
    reader.close();
  }
}

/** Earliest and latest packet time over all blocks. */
function timeSpan(blocks: BlockRecord[]): { first: Timestamp | null; last: Timestamp | null } {
  let first: Timestamp | null = null;
  let last: Timestamp | null = null;
  for (const b of blocks) {
    if (first === null || compareTimestamps(b.first, first) < 0) first = b.first;
    if (last === null || compareTimestamps(b.last, last) > 0) last = b.last;
  }
  return { first: first && { ...first }, last: last && { ...last } };
}
