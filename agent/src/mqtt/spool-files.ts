/**
 * The spool's files in its directory (spool.ts keeps the records' order and state; this module only
 * reads and writes bytes):
 *
 *   0000000001.seg, 0000000002.seg, …   segment files: records (spool-format.ts) back to back, appended
 *   meta.json                            { ackedThrough, nextSeq }: acknowledged prefix and next sequence
 *
 * Every replacement of a whole file (meta.json, a compacted segment) is durable: written to
 * `<name>.tmp`, fsynced, then renamed over the old, so after a power loss either the old or the new
 * content is there, never a truncated file.
 */
import { closeSync, fsyncSync, ftruncateSync, openSync, readdirSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { decodeRecord, type SpoolRecord } from './spool-format.js';

const SEGMENT_RE = /^(\d{10})\.seg$/;

/** The acknowledged prefix and the next message sequence number, persisted across restarts. */
export interface SpoolMeta {
  ackedThrough: number;
  nextSeq: number;
}

/** Path of segment number `no` (1, 2, …) in `dir`. */
export function segmentPath(dir: string, no: number): string {
  return join(dir, `${String(no).padStart(10, '0')}.seg`);
}

/** The segment files in `dir`, oldest first. Other files are ignored. */
export function listSegments(dir: string): { no: number; path: string }[] {
  return readdirSync(dir)
    .filter((n) => SEGMENT_RE.test(n))
    .sort()
    .map((name) => ({ no: Number(SEGMENT_RE.exec(name)![1]), path: join(dir, name) }));
}

/**
 * Reads every record of a segment in order, calling `onRecord` with the record and its byte range.
 * A torn or damaged record ends the segment: the file is truncated there (logged with the cut size).
 * Returns the segment's valid length in bytes.
 */
export function scanSegment(path: string, onRecord: (record: SpoolRecord, offset: number, size: number) => void, logger?: Logger): number {
  const buf = readFileSync(path);
  let offset = 0;
  while (offset < buf.length) {
    const r = decodeRecord(buf, offset);
    if ('damage' in r) {
      logger?.warn({ segment: path, offset, damage: r.damage, cutBytes: buf.length - offset }, 'spool: torn or damaged tail truncated');
      const fd = openSync(path, 'r+');
      try {
        ftruncateSync(fd, offset);
      } finally {
        closeSync(fd);
      }
      break;
    }
    onRecord(r.record, offset, r.size);
    offset += r.size;
  }
  return offset;
}

/**
 * Rewrites a segment with only the given records (byte ranges of the current file, in file order),
 * durably. Once the new file is in place, each range's `offset` is updated to where the record now
 * sits; returns the new length. When the write fails (a full disk) the old file and every offset
 * stay as they were.
 */
export function rewriteSegment(path: string, keep: { offset: number; size: number }[]): number {
  const old = readFileSync(path);
  const out = Buffer.allocUnsafe(keep.reduce((n, e) => n + e.size, 0));
  let o = 0;
  for (const e of keep) {
    old.copy(out, o, e.offset, e.offset + e.size);
    o += e.size;
  }
  replaceDurably(path, out);
  o = 0;
  for (const e of keep) {
    e.offset = o;
    o += e.size;
  }
  return o;
}

/** Error codes by which a filesystem refuses to store more: full, over quota, too large, read-only, failing. */
const REFUSALS = new Set(['ENOSPC', 'EDQUOT', 'EFBIG', 'EROFS', 'EIO']);

/** True when `err` says the disk would not take the bytes (the spool then holds records in memory). */
export function isDiskRefusal(err: unknown): err is NodeJS.ErrnoException {
  return REFUSALS.has((err as NodeJS.ErrnoException | undefined)?.code ?? '');
}

/**
 * Appends `bytes` to the segment open on `fd` (opened for append) whose valid length is `length`:
 * short writes are continued; when a write fails, the file is truncated back to `length`, so no
 * torn record stays behind, and the error is thrown.
 */
export function appendRecordBytes(fd: number, bytes: Uint8Array, length: number): void {
  try {
    for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done);
  } catch (err) {
    try {
      ftruncateSync(fd, length);
    } catch {
      // the truncation needs no space; if even it fails, the next open cuts the torn tail (scanSegment)
    }
    throw err;
  }
}

/** meta.json of `dir`; a missing or damaged file means "replay everything" (loses nothing; a damaged one is logged). */
export function readMeta(dir: string, logger?: Logger): SpoolMeta {
  let text: string;
  try {
    text = readFileSync(join(dir, 'meta.json'), 'utf8');
  } catch {
    return { ackedThrough: 0, nextSeq: 0 };
  }
  try {
    const m = JSON.parse(text) as Partial<SpoolMeta>;
    if (Number.isSafeInteger(m.ackedThrough) && Number.isSafeInteger(m.nextSeq)) return m as SpoolMeta;
  } catch {
    // fall through: a damaged meta file means "replay everything", which loses nothing
  }
  logger?.warn({ dir }, 'spool: meta.json unreadable, replaying every record on disk');
  return { ackedThrough: 0, nextSeq: 0 };
}

/** Replaces meta.json of `dir` durably. */
export function writeMeta(dir: string, meta: SpoolMeta): void {
  replaceDurably(join(dir, 'meta.json'), Buffer.from(JSON.stringify({ ackedThrough: meta.ackedThrough, nextSeq: meta.nextSeq })));
}

/**
 * Replaces `path` with `bytes`: written to `<path>.tmp`, synced, then renamed over it. On failure
 * (a full disk) the temporary file is removed, so it holds no space, and the old file stays.
 */
function replaceDurably(path: string, bytes: Uint8Array): void {
  const tmp = `${path}.tmp`;
  try {
    const fd = openSync(tmp, 'w');
    try {
      for (let done = 0; done < bytes.length;) done += writeSync(fd, bytes, done);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      unlinkSync(tmp);
    } catch {
      // not created
    }
    throw err;
  }
}
