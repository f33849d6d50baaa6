/**
 * Task uploads (docs/jobs.md "Upload"): an agent declares its result file, sends it in chunks
 * each with its SHA-256, and may resume from `received` after any cut or restart of either side.
 *
 * Contract:
 * - `declare` records {size, sha256, packets, bytes, truncated}; the same size and SHA-256 again
 *   resumes (received stays), a different declaration starts over from 0. A new declaration
 *   reserves its size against results.maxBytes in one step with the check (uploads.repo
 *   reserveUpload: two declarations at once never both pass a quota only one fits in); over quota
 *   the task fails (`onTaskFailed`) with the quota named. The reservation is released when the
 *   upload is dropped (quota, full disk), when its task ends without it (only the bytes received
 *   still count until the job's files go), and by the job's expiry or deletion.
 * - `chunk` appends one chunk at `received`: a chunk starting elsewhere → UploadRejected
 *   'out-of-order' (carrying `received`); one longer than `chunkMaxBytes` → 'chunk-too-large'; one
 *   whose body differs from its range or its SHA-256, or reaching past the declared size →
 *   DomainError('invalid') and nothing of it is kept. `received` advances in the database once the
 *   chunk is written (not fsynced: see durability below; every 4 MiB written an fdatasync is started
 *   and not waited for, so the disk takes the bytes while the rest streams in and the one fsync at
 *   the end finds little left).
 * - a chunk that holds the whole file may carry its declaration (`declaration`: packets, bytes,
 *   truncation; size and SHA-256 are the chunk's): it is declared as by `declare`, then written and
 *   finished in the same call — one request for a small result. A declaring chunk that does not
 *   start at 0 and end at size - 1 → DomainError('invalid'); when the collector already holds part
 *   of that file it answers UploadRejected 'out-of-order' with `received`, when all of it, the
 *   complete state.
 * - when `received == size` the whole file is hashed (unless that one chunk was the whole file and
 *   its SHA-256 the declared one: then it was hashed while written): a mismatch resets the upload to
 *   0 (UploadRejected 'file-mismatch'); a match fsyncs `{task}.part`, renames it to `{task}.pcap`,
 *   fsyncs the directory, marks the upload complete and calls `onTaskUploaded` (which must be
 *   idempotent: it is called again when a restart came between the two).
 * - durability: a task is done only after its whole file is fsynced and renamed (and the rename
 *   fsynced). Chunks are not fsynced one by one: `kill -9` of the collector keeps every written
 *   chunk (the page cache survives a process), and after an OS crash or power loss the file can be
 *   shorter than `received` (a resumed declaration then starts over from 0) or damaged (the whole
 *   file's SHA-256 check fails: 'file-mismatch', the agent sends it again from 0).
 * - a full disk (ENOSPC/EDQUOT) fails the task with "results disk full" (`onTaskFailed`), drops its
 *   partial file and answers DomainError('unavailable'); the collector keeps running.
 * - a chunk whose task was closed (cancelled, failed) or deleted while it streamed is refused
 *   (DomainError 'conflict' / 'not_found') and its bytes are removed; `received` does not move.
 * - one request per task at a time: a second one while a chunk is being written gets 'out-of-order',
 *   except a re-declaration of the same file, which answers where the upload stands.
 * - callers have verified the task token (TaskTokens); the claims' job and sensor must match the task.
 */
import { createHash } from 'node:crypto';
import { constants } from 'node:fs';
import { mkdir, open, rename, rm, rmdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { TaskResult } from '@pcapmesh/shared/wire';
import type { Logger } from '../../log.js';
import type { Db } from '../../storage/db.js';
import {
  advanceUpload,
  completeUpload,
  findUpload,
  resetUpload,
  reserveUpload,
  unfinishedUploads,
  type UploadDeclaration,
  type UploadRow,
} from '../../storage/uploads.repo.js';
import { conflict, DomainError, invalid, notFound } from '../errors.js';
import { hashFile, isDiskFull, syncDir, syncFile, taskFile } from './result-files.js';
import type { TaskTokenSubject } from './task-tokens.js';

export type { UploadDeclaration };

/** Where an upload stands: what GET, POST and PUT answer. */
export interface UploadState {
  received: number;
  size: number | null;
  complete: boolean;
}

/** A chunk's place in the file: bytes start..end inclusive of a file of `size` bytes (Content-Range). */
export interface ChunkRange {
  start: number;
  end: number;
  size: number;
}

/** A chunk's bytes as they arrive: a request body stream, or (tests, in-process callers) any iterable of pieces. */
export type ChunkBody = AsyncIterable<Uint8Array> | Iterable<Uint8Array>;

export type UploadProblem = 'out-of-order' | 'chunk-too-large' | 'file-mismatch';

/** What a chunk holding the whole file declares besides its size and SHA-256 (see `chunk`). */
export type ChunkDeclaration = Omit<UploadDeclaration, 'size' | 'sha256'>;

/** An upload refused in a way the agent acts on: resume from `received`, send smaller chunks, or start over. */
export class UploadRejected extends DomainError {
  constructor(
    readonly problem: UploadProblem,
    message: string,
    /** Bytes the collector holds: where the agent resumes. */
    readonly received: number,
  ) {
    super(problem === 'out-of-order' ? 'conflict' : 'invalid', message);
    this.name = 'UploadRejected';
  }
}

export interface UploadServiceOptions {
  /** Declarations reserve results space in a transaction (uploads.repo reserveUpload). */
  db: Db;
  /** results.directory (absolute). */
  directory: string;
  /** results.maxBytes: quota over all results on disk. */
  maxBytes: number;
  /** jobs.uploadChunkMaxBytes. */
  chunkMaxBytes: number;
  log: Logger;
  /** The task's upload is complete and verified (JobsService.taskUploaded); idempotent. */
  onTaskUploaded(taskId: string, result: TaskResult): Promise<void>;
  /** The task cannot complete: quota, full disk (JobsService fails it with `reason`). */
  onTaskFailed(taskId: string, reason: string): Promise<void>;
  now?: () => Date;
}

const CLOSED = new Set(['failed', 'cancelled', 'skipped']);
const OPEN = new Set(['pending', 'accepted', 'waiting', 'scanning', 'uploading']);
export const DISK_FULL_REASON = 'results disk full';

export class UploadService {
  readonly counters = { declared: 0, resumed: 0, chunks: 0, bytes: 0, refusedChunks: 0, completed: 0, mismatches: 0, diskFull: 0, overQuota: 0 };
  private readonly busy = new Set<string>();
  private readonly now: () => Date;
  private readonly log: Logger;

  constructor(private readonly opts: UploadServiceOptions) {
    this.now = opts.now ?? (() => new Date());
    this.log = opts.log.child({ component: 'uploads' });
  }

  /** The chunk size limit (jobs.uploadChunkMaxBytes): the HTTP route refuses a larger body before reading it. */
  get chunkMaxBytes(): number {
    return this.opts.chunkMaxBytes;
  }

  /** Where the upload stands; finishes one whose last chunk arrived before a restart. */
  async status(who: TaskTokenSubject): Promise<UploadState> {
    const row = await this.load(who);
    if (row.size === null) return { received: 0, size: null, complete: false };
    if (!row.complete && row.received === row.size && !CLOSED.has(row.status)) {
      return this.exclusive(who, (fresh) => (!fresh.complete && fresh.received === fresh.size ? this.finish(fresh) : Promise.resolve(stateOf(fresh))));
    }
    if (row.complete && OPEN.has(row.status)) await this.notifyUploaded(row);
    return stateOf(row);
  }

  /** Declares (or re-declares, to resume) the task's result file. */
  async declare(who: TaskTokenSubject, d: UploadDeclaration): Promise<UploadState> {
    if (this.busy.has(who.taskId)) {
      // A resume while an older request still streams (the agent gave up on it): answer where it stands;
      // the next chunk waits its turn (409 with received) instead of failing the declaration.
      const row = await this.load(who);
      refuseClosed(row);
      if (row.size === d.size && row.sha256 === d.sha256) return stateOf(row);
    }
    return this.exclusive(who, async (row) => {
      refuseClosed(row);
      if (row.size === d.size && row.sha256 === d.sha256) {
        this.counters.resumed += 1;
        return this.resume(row);
      }
      if (row.complete) throw conflict(`task ${row.taskId} already has a verified upload of ${row.size} bytes; another file cannot replace it`);
      // The old file goes first: a refused declaration keeps nothing of the replaced one either.
      await this.removeFiles(row);
      const { reserved, used } = await reserveUpload(this.opts.db, row.taskId, d, this.opts.maxBytes, this.now());
      if (!reserved) {
        this.counters.overQuota += 1;
        const reason = `results quota exceeded: ${d.size} bytes would bring the results to ${used + d.size} of results.maxBytes ${this.opts.maxBytes}`;
        this.log.warn(
          { job: row.jobId, task: row.taskId, sensor: row.sensor, size: d.size, used, maxBytes: this.opts.maxBytes },
          'upload over the results quota; task fails',
        );
        await resetUpload(this.opts.db, row.taskId, true);
        await this.opts.onTaskFailed(row.taskId, reason);
        throw new DomainError('unavailable', reason);
      }
      this.counters.declared += 1;
      this.log.info(
        { job: row.jobId, task: row.taskId, sensor: row.sensor, size: d.size, packets: d.packets, restarted: row.size !== null },
        'upload declared',
      );
      return { received: 0, size: d.size, complete: false };
    });
  }

  /**
   * Appends one chunk (streamed from `body`) at `range.start`, which must equal `received`. With
   * `declaration` the chunk is the whole file and declares it first (see the contract above).
   */
  async chunk(who: TaskTokenSubject, range: ChunkRange, sha256: string, body: ChunkBody, declaration?: ChunkDeclaration): Promise<UploadState> {
    if (declaration !== undefined) {
      if (range.start !== 0 || range.end !== range.size - 1) {
        throw invalid(`Content-Range: a chunk that declares the upload must hold the whole file (bytes 0-${range.size - 1}/${range.size})`);
      }
      if (range.size > this.opts.chunkMaxBytes) {
        // Refused before it declares anything: the agent sends the file the long way, in smaller chunks.
        throw new UploadRejected('chunk-too-large', `chunk of ${range.size} bytes is larger than jobs.uploadChunkMaxBytes (${this.opts.chunkMaxBytes})`, 0);
      }
      const state = await this.declare(who, { size: range.size, sha256, ...declaration });
      if (state.complete) return state;
      if (state.received !== 0) {
        throw new UploadRejected('out-of-order', `the collector already holds ${state.received} bytes of this file: resume from there`, state.received);
      }
    }
    return this.exclusive(who, async (row) => {
      refuseClosed(row);
      if (row.size === null || row.sha256 === null) throw conflict(`task ${row.taskId} has no declared upload: POST the declaration first`);
      if (range.size !== row.size) throw invalid(`Content-Range: file size ${range.size} differs from the declared size ${row.size}`);
      if (row.complete || range.start !== row.received) {
        throw new UploadRejected(
          'out-of-order',
          `chunk starts at ${range.start}, but the collector holds ${row.received} bytes: resume from there`,
          row.received,
        );
      }
      if (range.end < range.start) throw invalid(`Content-Range: end ${range.end} before start ${range.start}`);
      if (range.end >= row.size) throw invalid(`Content-Range: chunk ends at byte ${range.end}, past the declared size ${row.size}`);
      const length = range.end - range.start + 1;
      if (length > this.opts.chunkMaxBytes) {
        throw new UploadRejected(
          'chunk-too-large',
          `chunk of ${length} bytes is larger than jobs.uploadChunkMaxBytes (${this.opts.chunkMaxBytes})`,
          row.received,
        );
      }
      try {
        await this.write(row, range.start, length, sha256, body);
      } catch (err) {
        // A delete removes the job's directory under a streaming chunk (ENOENT): say what happened.
        if (!(err instanceof DomainError)) await this.refuseIfClosedMeanwhile(row);
        throw err;
      }
      if (!(await advanceUpload(this.opts.db, row.taskId, range.start, range.start + length, this.now()))) {
        const fresh = await this.refuseIfClosedMeanwhile(row);
        throw new UploadRejected('out-of-order', 'another writer moved this upload meanwhile: resume from the collector’s offset', fresh?.received ?? 0);
      }
      this.counters.chunks += 1;
      this.counters.bytes += length;
      const advanced: UploadRow = { ...row, received: range.start + length };
      // One chunk that was the whole file was hashed while it was written: no second read.
      if (advanced.received === row.size) return this.finish(advanced, range.start === 0 && sha256 === row.sha256);
      return stateOf(advanced);
    });
  }

  /**
   * On start: finishes uploads whose last chunk arrived just before a stop, and re-notifies
   * complete ones whose task is not done yet. Returns how many it handled.
   */
  async recover(): Promise<number> {
    let handled = 0;
    for (const row of await unfinishedUploads(this.opts.db)) {
      try {
        if (row.complete) await this.notifyUploaded(row);
        else await this.exclusive(row, (fresh) => this.finish(fresh));
        handled += 1;
      } catch (err) {
        this.log.warn({ err, job: row.jobId, task: row.taskId, sensor: row.sensor }, 'upload recovery failed');
      }
    }
    return handled;
  }

  // ─── internals ───────────────────────────────────────────────────────────────────────────────

  private async load(who: TaskTokenSubject): Promise<UploadRow> {
    const row = await findUpload(this.opts.db, who.taskId);
    if (!row) throw notFound(`task ${who.taskId}`);
    if (row.jobId !== who.jobId || row.sensor !== who.sensor)
      throw new DomainError('forbidden', `this token is not for task ${who.taskId} of job ${row.jobId}`);
    return row;
  }

  /** Runs `fn` on the task's current row, one request per task at a time (a second one is refused as out-of-order). */
  private async exclusive<R>(who: TaskTokenSubject, fn: (row: UploadRow) => Promise<R>): Promise<R> {
    if (this.busy.has(who.taskId)) {
      const row = await this.load(who);
      throw new UploadRejected('out-of-order', `another request of task ${who.taskId}'s upload is in progress`, row.received);
    }
    this.busy.add(who.taskId);
    try {
      return await fn(await this.load(who));
    } finally {
      this.busy.delete(who.taskId);
    }
  }

  private path(row: UploadRow, kind: 'part' | 'pcap'): string {
    return join(this.opts.directory, taskFile(row.jobId, row.taskId, kind));
  }

  /** A resumed declaration: trusts `received` only when the partial file holds at least that much. */
  private async resume(row: UploadRow): Promise<UploadState> {
    if (row.complete) {
      if (OPEN.has(row.status)) await this.notifyUploaded(row);
      return stateOf(row);
    }
    if (row.received === row.size) return this.finish(row);
    if (row.received > 0) {
      const held = (await stat(this.path(row, 'part')).catch(() => null))?.size ?? 0;
      if (held < row.received) {
        this.log.warn(
          { job: row.jobId, task: row.taskId, sensor: row.sensor, received: row.received, held },
          'partial upload shorter than acknowledged; starting over',
        );
        await resetUpload(this.opts.db, row.taskId, false);
        return { received: 0, size: row.size, complete: false };
      }
    }
    return stateOf(row);
  }

  /** Writes the chunk at `start`, hashing and counting it; on any failure the file is cut back to `start`. */
  private async write(row: UploadRow, start: number, length: number, sha256: string, body: ChunkBody): Promise<void> {
    const path = this.path(row, 'part');
    let fh;
    // Early writebacks in flight: the file is cut back or closed only once they have answered.
    const writebacks: Promise<unknown>[] = [];
    try {
      await mkdir(dirname(path), { recursive: true });
      fh = await open(path, constants.O_RDWR | constants.O_CREAT, 0o640);
    } catch (err) {
      throw await this.failed(row, err);
    }
    try {
      // Bytes beyond `received` are a chunk a crash (or a cut connection) interrupted.
      if ((await fh.stat()).size !== start) await fh.truncate(start);
      const hash = createHash('sha256');
      let count = 0;
      // The body's pieces (~64 KiB each) are gathered into one buffer and written when it is full:
      // one awaited write per WRITE_BUFFER bytes instead of one per piece.
      const pending = Buffer.allocUnsafe(Math.max(1, Math.min(WRITE_BUFFER, length)));
      let held = 0;
      let written = 0;
      let nextWriteback = WRITEBACK_BYTES;
      const flush = async (): Promise<void> => {
        for (let off = 0; off < held;) off += (await fh!.write(pending, off, held - off, start + written + off)).bytesWritten;
        written += held;
        held = 0;
        if (written >= nextWriteback) {
          // Early writeback, not waited for here: the disk takes the bytes while the rest streams
          // in, and the fsync of finish() finds little left. Not a durability step (see the contract).
          nextWriteback = written + WRITEBACK_BYTES;
          writebacks.push(fh!.datasync().catch(() => undefined));
        }
      };
      for await (const piece of readBody(body, () => count)) {
        count += piece.length;
        if (count > this.opts.chunkMaxBytes) {
          throw new UploadRejected('chunk-too-large', `chunk body is larger than jobs.uploadChunkMaxBytes (${this.opts.chunkMaxBytes})`, row.received);
        }
        if (count > length) throw invalid(`chunk body is longer than its Content-Range (${length} bytes)`);
        hash.update(piece);
        for (let at = 0; at < piece.length;) {
          const n = Math.min(piece.length - at, pending.length - held);
          pending.set(piece.subarray(at, at + n), held);
          held += n;
          at += n;
          if (held === pending.length) await flush();
        }
      }
      await flush();
      if (count < length) throw invalid(`chunk body has ${count} bytes, its Content-Range says ${length}`);
      const actual = hash.digest('hex');
      if (actual !== sha256) throw invalid(`X-Chunk-SHA256 ${sha256} does not match the chunk's SHA-256 ${actual}; nothing of it was kept`);
    } catch (err) {
      this.counters.refusedChunks += 1;
      await Promise.all(writebacks);
      await fh.truncate(start).catch(() => undefined);
      await fh.close().catch(() => undefined);
      if (err instanceof DomainError) throw err;
      throw await this.failed(row, err);
    }
    await Promise.all(writebacks);
    await fh.close();
  }

  /** A write failure: a full disk fails the task; anything else passes through. */
  /**
   * After a chunk could not be written or recorded: when its task was cancelled, failed or deleted
   * while it streamed, its bytes (and a job directory the write re-created after a delete) are
   * removed and the refusal says so; otherwise the task's current row is returned.
   */
  private async refuseIfClosedMeanwhile(row: UploadRow): Promise<UploadRow | null> {
    const fresh = await findUpload(this.opts.db, row.taskId);
    if (fresh !== null && !CLOSED.has(fresh.status)) return fresh;
    await this.removeFiles(row);
    if (fresh === null) await this.removeEmptyDirs(row);
    this.log.info(
      { job: row.jobId, task: row.taskId, sensor: row.sensor, status: fresh?.status ?? 'deleted' },
      'chunk refused: the task closed while it streamed',
    );
    if (fresh === null) throw notFound(`task ${row.taskId} (its job was deleted)`);
    refuseClosed(fresh);
    return fresh;
  }

  private async failed(row: UploadRow, err: unknown): Promise<unknown> {
    if (!isDiskFull(err)) return err;
    this.counters.diskFull += 1;
    this.log.error({ err, job: row.jobId, task: row.taskId, sensor: row.sensor }, 'results disk full; task fails');
    await this.removeFiles(row).catch(() => undefined);
    await resetUpload(this.opts.db, row.taskId, true);
    await this.opts.onTaskFailed(row.taskId, DISK_FULL_REASON);
    return new DomainError('unavailable', `${DISK_FULL_REASON}: the collector cannot store this upload`, { cause: err });
  }

  /**
   * All bytes are in: verify the whole file (`hashed`: the caller hashed all of it on the way in),
   * make it durable, then complete the upload and tell the jobs service.
   */
  private async finish(row: UploadRow, hashed = false): Promise<UploadState> {
    const size = row.size as number;
    const part = this.path(row, 'part');
    const final = this.path(row, 'pcap');
    const source = (await stat(part).catch(() => null)) ? part : (await stat(final).catch(() => null)) ? final : null;
    const actual = source && hashed ? { sha256: row.sha256 as string, size: (await stat(source)).size } : source ? await hashFile(source) : null;
    if (!source || !actual || actual.sha256 !== row.sha256 || actual.size !== size) {
      this.counters.mismatches += 1;
      this.log.warn(
        { job: row.jobId, task: row.taskId, sensor: row.sensor, declared: row.sha256, actual: actual?.sha256 ?? null, size, held: actual?.size ?? 0 },
        'uploaded file does not match its declaration; starting over',
      );
      await this.removeFiles(row);
      await resetUpload(this.opts.db, row.taskId, false);
      throw new UploadRejected(
        'file-mismatch',
        `the uploaded file's SHA-256 ${actual?.sha256 ?? '(no file)'} (${actual?.size ?? 0} bytes) differs from the declared ${row.sha256} (${size} bytes); upload again from 0`,
        0,
      );
    }
    if (source === part) {
      // The only fsyncs of an upload: its bytes, then its name, before the task can be done.
      await syncFile(part);
      await rename(part, final);
      await syncDir(dirname(final));
    }
    await completeUpload(this.opts.db, row.taskId, taskFile(row.jobId, row.taskId, 'pcap'), this.now());
    this.counters.completed += 1;
    this.log.info({ job: row.jobId, task: row.taskId, sensor: row.sensor, size, sha256: row.sha256 }, 'upload complete and verified');
    const done: UploadRow = { ...row, complete: true, received: size };
    await this.notifyUploaded(done);
    return stateOf(done);
  }

  private async notifyUploaded(row: UploadRow): Promise<void> {
    const result: TaskResult = {
      packets: row.packets ?? 0,
      bytes: row.bytes ?? 0,
      fileBytes: row.size ?? 0,
      sha256: row.sha256 ?? '',
      ...(row.truncated ? { truncated: row.truncated } : {}),
    };
    await this.opts.onTaskUploaded(row.taskId, result);
  }

  /** `{job}/tasks` and `{job}` when empty (a deleted job's directory a late write re-created). */
  private async removeEmptyDirs(row: UploadRow): Promise<void> {
    const tasksDir = dirname(this.path(row, 'part'));
    for (const dir of [tasksDir, dirname(tasksDir)]) await rmdir(dir).catch(() => undefined);
  }

  private async removeFiles(row: UploadRow): Promise<void> {
    await rm(this.path(row, 'part'), { force: true });
    await rm(this.path(row, 'pcap'), { force: true });
  }
}

/** Bytes gathered from a chunk's body before one write to the part file. */
const WRITE_BUFFER = 1024 * 1024;
/** Bytes written between two early writeback requests (fdatasync, not waited for) while a chunk streams in. */
const WRITEBACK_BYTES = 4 * 1024 * 1024;

/** The body's pieces; a failure to read them (the client cut the connection) becomes DomainError('invalid'), so it is not taken for a disk fault. */
async function* readBody(body: ChunkBody, received: () => number): AsyncIterable<Uint8Array> {
  try {
    for await (const piece of body) yield piece;
  } catch (err) {
    throw new DomainError('invalid', `the chunk body broke off after ${received()} bytes (${(err as Error).message}); nothing of it was kept`, { cause: err });
  }
}

function stateOf(row: UploadRow): UploadState {
  return { received: row.received, size: row.size, complete: row.complete };
}

function refuseClosed(row: UploadRow): void {
  if (CLOSED.has(row.status)) throw conflict(`task ${row.taskId} is ${row.status}: it takes no upload`);
  if (row.jobExpired) throw conflict(`the results of job ${row.jobId} have expired`);
}
