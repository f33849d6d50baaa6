/**
 * Builds a capture's index: one pass of the reader, each packet decoded (decode.ts) into the
 * current block's address / port / protocol sets and its addresses' posting lists (postings.ts),
 * a new block every ~`blockBytes` of capture.
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

/**
 * Head CRCs computed in this process, by path, valid while the file's inode, size, mtime and
 * ctime are unchanged (any write changes ctime): an extract or estimate checks each sidecar's
 * freshness more than once, and the agent checks the same files job after job.
 */
const identityCache = new Map<string, { key: string; identity: CaptureIdentity }>();
const IDENTITY_CACHE_MAX = 4096;
/** The head being checked (one buffer for every call: an estimate checks 60 files of an hour in a row). */
const headScratch = new Uint8Array(HEAD_BYTES);

/** Size, mtime and CRC-32 of the first 64 KiB of a capture file. */
export function captureIdentity(path: string): CaptureIdentity {
  const fd = openSync(path, 'r');
  try {
    const stat = fstatSync(fd);
    const key = `${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeMs}:${stat.ctimeMs}`;
    const cached = identityCache.get(path);
    if (cached?.key === key) return { ...cached.identity };
    const head = headScratch.subarray(0, Math.min(HEAD_BYTES, stat.size));
    let got = 0;
    while (got < head.length) {
      const n = readSync(fd, head, got, head.length - got, got);
      if (n === 0) break;
      got += n;
    }
    const identity = { size: stat.size, mtimeMs: stat.mtimeMs, headCrc: crc32(head.subarray(0, got)) };
    if (identityCache.size >= IDENTITY_CACHE_MAX) identityCache.clear();
    identityCache.set(path, { key, identity });
    return { ...identity };
  } finally {
    closeSync(fd);
  }
}

/**
 * Reads the whole capture and returns its index data (does not write the sidecar); `observe`,
 * when given, is called for every packet after its decode. `postingBudget` (tests) overrides
 * the share of a block's bytes its posting lists may take (default POSTING_BUDGET).
 * @throws CaptureFormatError / fs errors like openCapture.
 * @example
 * const data = buildIndexData('/captures/eth0.pcap');
 * console.log(data.blocks.length, data.packets);
 */
export function buildIndexData(path: string, blockBytes = DEFAULT_BLOCK_BYTES, observe?: PacketObserver, postingBudget?: number): SidecarData {
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
        block = new BlockAccumulator(p.offset, postingBudget);
      } else if (p.offset - block.offset >= blockBytes) {
        blocks.push(block.finish(p.offset));
        block = new BlockAccumulator(p.offset, postingBudget);
      }
      if (!seenInterfaces.has(p.interfaceId)) {
        // The interface's IDB (or a new section) sits before this packet: never skip past it.
        seenInterfaces.add(p.interfaceId);
        block.mustRead = true;
      }
      block.time(p.sec, p.nsec);
      block.bytes += p.caplen;
      packets++;
      decodePacket(p, decoded);
      const postings = block.postings;
      if (decoded.src4 >= 0) {
        block.ipv4.add(decoded.src4);
        postings.add4(decoded.src4, p.offset, p.caplen);
      }
      if (decoded.dst4 >= 0) {
        block.ipv4.add(decoded.dst4);
        postings.add4(decoded.dst4, p.offset, p.caplen);
      }
      if (decoded.l3 === L3.IPV6) {
        if (decoded.src6Offset >= 0) {
          const key = ipv6Key(p.data, decoded.src6Offset);
          block.ipv6.add(key);
          postings.add6(key, p.offset, p.caplen);
        }
        if (decoded.dst6Offset >= 0) {
          const key = ipv6Key(p.data, decoded.dst6Offset);
          block.ipv6.add(key);
          postings.add6(key, p.offset, p.caplen);
        }
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
