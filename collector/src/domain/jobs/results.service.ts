/**
 * A job's results (docs/jobs.md "Results directory", "Evidence manifest", "Restart safety"): the
 * sensors' verified uploads, the merge of them into one capture, its analysis and signed manifest,
 * the files served for download, and their removal (by a user, or by expiry).
 *
 * Contract:
 * - `merge(jobId, finalStatus)` merges every task with a verified upload, in a worker thread kept
 *   between merges (one per merge running at once, unref'd while idle; one that failed to answer is
 *   not kept) (collector/src/jobs/merge-worker.ts: mergeCaptures with dedup across sensors, temporary name,
 *   rename, SHA-256, analyzeFiles), then builds and signs the manifest and stores result_*,
 *   duplicates_removed, analysis, manifest and expires_at (completion + results.expiryDays) on the
 *   job row. It is idempotent: a job whose stored result still lies on disk is answered from the row;
 *   one killed half-way (its row has no result yet) is merged again from the task files. Concurrent
 *   calls for one job share one merge. A job without any verified upload → DomainError('conflict');
 *   so is a job cancelled (or deleted) while the worker ran: its merged file is removed and nothing
 *   is stored (no result, analysis or manifest for a job that did not complete).
 * - `mergedFile` / `taskResultFile` serve only what the row records as complete and what exists on
 *   disk: a temporary merge file is never served. Null when there is nothing (yet, or any more).
 * - `removeJobFiles` deletes the job's directory; `sweepExpired(now)` deletes the results of jobs
 *   whose expires_at passed, marks them expired (metadata kept) and returns what it removed, for the
 *   caller to log and audit.
 */
import { open, rm, stat, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import type { JSONWebKeySet } from 'jose';
import { startModuleWorker } from '@pcapmesh/shared/util/worker';
import type { Logger } from '../../log.js';
import type { Queryable } from '../../storage/db.js';
import { expiredJobIds, findResultJob, listResultTasks, markExpired, storeMergeResult, type ResultJobRow } from '../../storage/uploads.repo.js';
import type { MergeWorkerInput, MergeWorkerMessage, MergeWorkerResult } from '../../jobs/merge-worker.js';
import { conflict, notFound } from '../errors.js';
import type { JobStatus, ResultFile, TaskStatus } from './jobs.types.js';
import { buildManifest, type ManifestSigner } from './manifest.js';
import { jobDir, mergedFile } from './result-files.js';

/** What a merge produced (also stored on the job row). */
export interface MergeOutcome {
  packets: number;
  bytes: number;
  fileBytes: number;
  sha256: string;
  duplicatesRemoved: number;
}

/** A job whose results the expiry sweep deleted. */
export interface ExpiredResult {
  jobId: string;
  owner: string;
  expiresAt: Date;
  /** Bytes of files deleted. */
  bytes: number;
}

export interface ResultsServiceOptions {
  db: Queryable;
  /** results.directory (absolute). */
  directory: string;
  /** results.expiryDays. */
  expiryDays: number;
  signer: ManifestSigner;
  log: Logger;
  /** The collector's version, written into manifests. */
  version: string;
  now?: () => Date;
}

const PCAPNG_MAGIC = 0x0a0d0d0a;

/** `pcapmesh-{job8}-{from}-{to}.pcap[ng]` with compact UTC times (20260102T030405Z); with a sensor, its result's name. */
export function resultFileName(job: { id: string; windowFrom: Date; windowTo: Date }, ext: 'pcap' | 'pcapng', sensor?: string): string {
  const compact = (d: Date) =>
    d
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d+Z$/, 'Z');
  return `pcapmesh-${job.id.slice(0, 8)}${sensor ? `-${sensor}` : ''}-${compact(job.windowFrom)}-${compact(job.windowTo)}.${ext}`;
}

export class ResultsService {
  readonly counters = { merges: 0, mergesReused: 0, mergeFailures: 0, expired: 0, mergeThreadsStarted: 0 };
  private readonly running = new Map<string, Promise<MergeOutcome>>();
  private readonly workers = new Set<Worker>();
  /** Merge threads waiting for the next merge (also in `workers`). */
  private readonly idle: Worker[] = [];
  private readonly now: () => Date;
  private readonly log: Logger;

  constructor(private readonly opts: ResultsServiceOptions) {
    this.now = opts.now ?? (() => new Date());
    this.log = opts.log.child({ component: 'results' });
  }

  /** The manifest signing key's public half (GET /api/v1/jobs/manifest-key). */
  publicJwks(): JSONWebKeySet {
    return this.opts.signer.publicJwks();
  }

  /**
   * Merges, analyses and signs the job's results (see the contract above). With `holder` (the
   * job's merge lease holder) the result is stored only while that holder still holds the lease.
   */
  merge(jobId: string, finalStatus: JobStatus, holder?: string): Promise<MergeOutcome> {
    const running = this.running.get(jobId);
    if (running) return running;
    const merging = this.mergeOnce(jobId, finalStatus, holder).finally(() => this.running.delete(jobId));
    this.running.set(jobId, merging);
    return merging;
  }

  /** The merged capture, once merged and not expired. */
  async mergedFile(jobId: string): Promise<ResultFile | null> {
    const job = await findResultJob(this.opts.db, jobId);
    if (!job?.resultPath || job.expiredAt) return null;
    const size = await sizeOf(join(this.opts.directory, job.resultPath));
    if (size === null) return null;
    const ext = job.resultPath.endsWith('.pcapng') ? 'pcapng' : 'pcap';
    return { path: join(this.opts.directory, job.resultPath), size, fileName: resultFileName(job, ext), contentType: contentTypeOf(ext) };
  }

  /** One sensor's verified result, or null. */
  async taskResultFile(jobId: string, taskId: string): Promise<ResultFile | null> {
    const job = await findResultJob(this.opts.db, jobId);
    if (!job || job.expiredAt) return null;
    const task = (await listResultTasks(this.opts.db, jobId)).find((t) => t.id === taskId);
    if (!task?.complete || !task.resultPath) return null;
    const path = join(this.opts.directory, task.resultPath);
    const size = await sizeOf(path);
    if (size === null) return null;
    const ext = (await isPcapng(path)) ? 'pcapng' : 'pcap';
    return { path, size, fileName: resultFileName(job, ext, task.sensor), contentType: contentTypeOf(ext) };
  }

  /** Deletes every file of the job (its uploads, partial ones, the merge). */
  async removeJobFiles(jobId: string): Promise<void> {
    await rm(join(this.opts.directory, jobDir(jobId)), { recursive: true, force: true });
  }

  /** Deletes the results of jobs whose expiry passed at `now`; the rows stay, marked expired. */
  async sweepExpired(now: Date): Promise<ExpiredResult[]> {
    const removed: ExpiredResult[] = [];
    for (const job of await expiredJobIds(this.opts.db, now)) {
      if (this.running.has(job.id)) continue;
      const bytes = await treeSize(join(this.opts.directory, jobDir(job.id)));
      await this.removeJobFiles(job.id);
      await markExpired(this.opts.db, job.id, now);
      this.counters.expired += 1;
      this.log.info({ job: job.id, owner: job.owner, bytes }, 'job results expired and deleted');
      removed.push({ jobId: job.id, owner: job.owner, expiresAt: job.expiresAt, bytes });
    }
    return removed;
  }

  /** Stops merges in flight (their jobs stay `merging` and are merged again on the next start). */
  async close(): Promise<void> {
    await Promise.all([...this.workers].map((w) => w.terminate()));
  }

  // ─── internals ───────────────────────────────────────────────────────────────────────────────

  private async mergeOnce(jobId: string, finalStatus: JobStatus, holder: string | undefined): Promise<MergeOutcome> {
    const { db, directory } = this.opts;
    // Both reads at once (separate connections on PostgreSQL): this is on the way to the job's result.
    const [job, tasks] = await Promise.all([findResultJob(db, jobId), listResultTasks(db, jobId)]);
    if (!job) throw notFound(`job ${jobId}`);
    const stored = await this.storedOutcome(job);
    if (stored) {
      this.counters.mergesReused += 1;
      return stored;
    }
    const results = tasks.filter((t) => t.complete && t.resultPath !== null && t.status === 'done');
    if (results.length === 0) throw conflict(`job ${jobId} has no verified task result to merge`);
    const started = performance.now();
    const input: MergeWorkerInput = {
      inputs: results.map((t) => join(directory, t.resultPath as string)),
      jobDir: join(directory, jobDir(jobId)),
      fileNames: { pcap: resultFileName(job, 'pcap'), pcapng: resultFileName(job, 'pcapng') },
    };
    let merged: MergeWorkerResult;
    try {
      merged = await this.runWorker(input);
    } catch (err) {
      this.counters.mergeFailures += 1;
      // Nothing of a failed merge stays: a full disk leaves merged.tmp half-written, a failure after
      // the rename a merged file the row does not know (the row has no result, so none is served).
      await this.removeMergeFiles(jobId);
      throw err;
    }
    const completedAt = this.now();
    const ext = merged.file === 'merged.pcapng' ? 'pcapng' : 'pcap';
    const outcome: MergeOutcome = {
      packets: merged.packets,
      bytes: merged.bytes,
      fileBytes: merged.fileBytes,
      sha256: merged.sha256,
      duplicatesRemoved: merged.duplicates,
    };
    const manifest = buildManifest({
      job,
      status: finalStatus,
      completedAt,
      tasks: tasks.map((t) => ({ ...t, status: t.status as TaskStatus })),
      merged: {
        fileName: resultFileName(job, ext),
        fileBytes: merged.fileBytes,
        sha256: merged.sha256,
        packets: merged.packets,
        duplicatesRemoved: merged.duplicates,
      },
      version: this.opts.version,
    });
    const kept = await this.storeOrRemove(jobId, async () =>
      storeMergeResult(
        db,
        jobId,
        {
          resultPath: mergedFile(jobId, ext),
          fileBytes: merged.fileBytes,
          sha256: merged.sha256,
          packets: merged.packets,
          bytes: merged.bytes,
          duplicatesRemoved: merged.duplicates,
          analysis: merged.analysis,
          manifest: await this.opts.signer.sign(manifest),
          expiresAt: new Date(completedAt.getTime() + this.opts.expiryDays * 86_400_000),
        },
        holder,
      ),
    );
    if (!kept) {
      const current = await findResultJob(db, jobId);
      if (current !== null && ['pending', 'running', 'merging'].includes(current.status)) {
        // Still open: `holder`'s lease expired and another collector took the merge over; its files are that one's now.
        this.log.warn({ job: jobId, holder }, 'merge not kept: the merge lease passed to another collector');
        throw conflict(`job ${jobId}: the merge lease passed to another collector; this merge is not kept`);
      }
      // Cancelled (or deleted) while the worker ran: its merge must not be served nor signed as the job's result.
      await rm(join(directory, mergedFile(jobId, ext)), { force: true });
      this.log.info({ job: jobId, status: current?.status ?? 'deleted' }, 'merge not kept: the job ended while it merged');
      throw conflict(`job ${jobId} was ${current?.status ?? 'deleted'} while it merged; its merge is not kept`);
    }
    this.counters.merges += 1;
    this.log.info(
      {
        job: jobId,
        sensors: results.length,
        packets: merged.packets,
        duplicates: merged.duplicates,
        fileBytes: merged.fileBytes,
        format: merged.format,
        problems: merged.problems.length,
        ms: Math.round(performance.now() - started),
      },
      'job results merged, analysed and signed',
    );
    if (merged.problems.length > 0) this.log.warn({ job: jobId, problems: merged.problems.slice(0, 10) }, 'damaged task results: merged up to the damage');
    return outcome;
  }

  /** Runs `store` (signing and storing the merge's result); when it throws, the merge's files are removed first. */
  private async storeOrRemove(jobId: string, store: () => Promise<boolean>): Promise<boolean> {
    try {
      return await store();
    } catch (err) {
      await this.removeMergeFiles(jobId);
      throw err;
    }
  }

  /** Removes the merge's temporary and merged files of a job whose row records no merged result. */
  private async removeMergeFiles(jobId: string): Promise<void> {
    const dir = this.opts.directory;
    for (const ext of ['tmp', 'pcap', 'pcapng'] as const) {
      await rm(join(dir, mergedFile(jobId, ext)), { force: true }).catch((err: unknown) =>
        this.log.warn({ job: jobId, err, file: mergedFile(jobId, ext) }, 'could not remove a failed merge file'),
      );
    }
  }

  /** The stored outcome when the row has a complete result whose file is still there (a merge already done). */
  private async storedOutcome(job: ResultJobRow): Promise<MergeOutcome | null> {
    if (!job.resultPath || !job.resultSha256 || !job.manifest || job.resultFileBytes === null) return null;
    if ((await sizeOf(join(this.opts.directory, job.resultPath))) !== job.resultFileBytes) return null;
    return {
      packets: job.resultPackets ?? 0,
      bytes: job.resultBytes ?? 0,
      fileBytes: job.resultFileBytes,
      sha256: job.resultSha256,
      duplicatesRemoved: job.duplicatesRemoved ?? 0,
    };
  }

  private runWorker(input: MergeWorkerInput): Promise<MergeWorkerResult> {
    const worker = this.idle.pop() ?? this.startWorker();
    worker.ref();
    return new Promise((resolve, reject) => {
      const done = (settle: () => void, keep: boolean): void => {
        worker.off('message', onMessage);
        worker.off('error', onError);
        worker.off('exit', onExit);
        if (keep) {
          worker.unref();
          this.idle.push(worker);
        } else {
          void worker.terminate();
        }
        settle();
      };
      const onMessage = (message: MergeWorkerMessage): void => done(() => ('ok' in message ? resolve(message.ok) : reject(new Error(message.error))), true);
      const onError = (err: Error): void => done(() => reject(err), false);
      const onExit = (code: number): void => done(() => reject(new Error(`merge worker stopped (exit code ${code}) before it finished`)), false);
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.on('exit', onExit);
      worker.postMessage(input);
    });
  }

  private startWorker(): Worker {
    const worker = startModuleWorker(new URL('../../jobs/merge-worker.js', import.meta.url));
    this.workers.add(worker);
    this.counters.mergeThreadsStarted += 1;
    worker.on('exit', () => {
      this.workers.delete(worker);
      const at = this.idle.indexOf(worker);
      if (at >= 0) this.idle.splice(at, 1);
    });
    return worker;
  }
}

function contentTypeOf(ext: 'pcap' | 'pcapng'): ResultFile['contentType'] {
  return ext === 'pcapng' ? 'application/x-pcapng' : 'application/vnd.tcpdump.pcap';
}

async function sizeOf(path: string): Promise<number | null> {
  const s = await stat(path).catch(() => null);
  return s?.isFile() ? s.size : null;
}

async function isPcapng(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const { bytesRead, buffer } = await fh.read(Buffer.alloc(4), 0, 4, 0);
    return bytesRead === 4 && buffer.readUInt32BE(0) === PCAPNG_MAGIC;
  } finally {
    await fh.close();
  }
}

async function treeSize(dir: string): Promise<number> {
  let total = 0;
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true }).catch(() => [])) {
    if (entry.isFile()) total += (await sizeOf(join(entry.parentPath, entry.name))) ?? 0;
  }
  return total;
}
