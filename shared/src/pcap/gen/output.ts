/**
 * File output for the generator: one classic pcap file, or a rolling directory of files
 * (`cap-YYYYmmddHHMMSS.pcap`, one per N seconds of packet time, named after each file's first
 * packet in UTC, like `tcpdump -G N -w 'cap-%Y%m%d%H%M%S.pcap'` with TZ=UTC). Streaming through
 * one fixed buffer: memory stays constant whatever the size.
 */
import { closeSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { type GenOptions, MAX_RECORD, TrafficGenerator } from './generator.js';

/** What a run wrote. */
export interface GenSummary {
  files: string[];
  packets: number;
  /** Bytes written over all files, headers included. */
  bytes: number;
  first: { sec: number; nsec: number } | null;
  last: { sec: number; nsec: number } | null;
}

const CHUNK = 4 << 20;

/** Writes one capture file at `path` (replacing it). */
export function writeCapture(path: string, opts: GenOptions): GenSummary {
  return run(opts, () => path, Infinity);
}

/**
 * Writes a rolling directory under `dir` (created if missing): a new file whenever packet
 * time crosses the next multiple of `fileSeconds` after `start`.
 */
export function writeRollingCaptures(dir: string, opts: GenOptions, fileSeconds: number): GenSummary {
  if (!(fileSeconds >= 1)) throw new Error(`seconds per file must be ≥ 1, got ${fileSeconds}`);
  mkdirSync(dir, { recursive: true });
  return run(opts, (sec) => join(dir, `cap-${utcStamp(sec)}.pcap`), fileSeconds * 1e9);
}

/** `YYYYmmddHHMMSS` of a Unix time, in UTC. */
export function utcStamp(sec: number): string {
  return new Date(sec * 1000).toISOString().slice(0, 19).replace(/[-T:]/g, '');
}

function run(opts: GenOptions, nameFor: (firstSec: number) => string, spanNs: number): GenSummary {
  const gen = new TrafficGenerator(opts);
  const header = gen.globalHeader();
  const buf = new Uint8Array(CHUNK);
  const summary: GenSummary = { files: [], packets: 0, bytes: 0, first: null, last: null };
  let fd = -1;
  let fileIndex = -1;
  let used = 0;

  const flush = (upTo: number): void => {
    for (let off = 0; off < upTo;) off += writeSync(fd, buf, off, upTo - off);
    summary.bytes += upTo;
  };
  const open = (sec: number): void => {
    const path = nameFor(sec);
    if (summary.files.includes(path)) throw new Error(`two files would be named ${path}; use more seconds per file`);
    try {
      fd = openSync(path, 'w');
    } catch (err) {
      throw new Error(`cannot create capture file ${path}`, { cause: err });
    }
    summary.files.push(path);
    for (let off = 0; off < header.length;) off += writeSync(fd, header, off, header.length - off);
    summary.bytes += header.length;
  };

  try {
    for (;;) {
      if (buf.length - used < MAX_RECORD) {
        flush(used);
        used = 0;
      }
      const len = gen.nextRecord(buf, used);
      if (len === 0) break;
      const index = Math.floor(gen.elapsedNs / spanNs) || 0;
      if (index !== fileIndex) {
        if (fd >= 0) {
          flush(used);
          closeSync(fd);
          fd = -1;
          buf.copyWithin(0, used, used + len);
          used = 0;
        }
        open(gen.sec);
        fileIndex = index;
      }
      summary.first ??= { sec: gen.sec, nsec: gen.nsec };
      used += len;
    }
    if (fd < 0) open(gen.sec);
    flush(used);
  } finally {
    if (fd >= 0) closeSync(fd);
  }
  summary.packets = gen.packets;
  summary.last = gen.packets > 0 ? { sec: gen.sec, nsec: gen.nsec } : null;
  return summary;
}
