/**
 * The indexer: gives every closed capture file its sidecar index (`<capture>.pmidx`, see
 * shared/src/pcap/sidecar), so a task's extract skips files and ~1 MiB blocks that cannot match.
 *
 * When: it observes the availability scan (`review`, called by AvailabilityScanner for each
 * source, every `intervals.scanSeconds`), so directories are walked once and a file is indexed
 * about `index.settleSeconds` + one scan after its last write.
 *
 * Contract:
 * - A capture file (as the scan recognised it) is indexed when it is at least MIN_INDEXED_BYTES,
 *   has not been modified for `settleSeconds`, is not the newest file of a managed ring (tcpdump
 *   keeps it open however quiet the link), and has no fresh sidecar (a stale or corrupt one is
 *   rebuilt). Whether a sidecar is fresh is checked with `loadIndexHeader` once per (capture,
 *   sidecar) identity — inode, size, mtime of both — not at every scan.
 * - Building is synchronous and CPU-bound (~1 GB/s), so it runs in ONE worker thread
 *   (index-worker.ts), one file at a time, the oldest (by mtime) first, never on the event loop.
 * - Nothing is lost or damaged: a capture that vanished or changed meanwhile is skipped; a build
 *   that cannot be written (read-only directory: `persistError`) or cannot read its capture is
 *   logged once and reported in the source's problems, and not retried while the file keeps the
 *   same path, size and mtime.
 * - Sidecars follow their captures: a `*.pmidx` file whose capture (its name without the suffix)
 *   does not exist is removed (ring retention deletes a ring file's sidecar itself).
 * - `stop()` terminates the worker; a build in progress is abandoned and its temporary file
 *   (`<sidecar>.tmp-<pid>`, written by buildIndex before its rename) removed.
 * - Traffic (option `traffic`, traffic/publisher.ts): a closed capture whose summary `wants`
 *   says is still due has it read by the worker — in the index build's own read when the file
 *   needs an index, else in a read of its own (files under MIN_INDEXED_BYTES, files whose sidecar
 *   is already fresh) — and handed to `summarised` before the next job starts.
 *
 * @example
 * const indexer = new CaptureIndexer({ settleSeconds: 60, logger });
 * const scanner = new AvailabilityScanner(specs, Date.now, (listing) => indexer.review(listing));
 * scanner.scan(); // sources carry indexedFiles / unindexedFiles; closed files get queued
 * await indexer.stop();
 */
import { existsSync, rmSync, unlinkSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import type { Logger } from 'pino';
import { MIN_INDEXED_BYTES, SIDECAR_SUFFIX, loadIndexHeader, sidecarPath, sidecarTempPath, sidecarTempPid } from '@pcapmesh/shared/pcap/sidecar/index';
import type { CaptureProblem } from '@pcapmesh/shared/pcap';
import { startModuleWorker } from '@pcapmesh/shared/util/worker';
import type { ListedCapture, SourceAddition, SourceListing } from './availability.js';
import type { FileTraffic, TrafficSettings } from '../traffic/summary.js';
import type { IndexJob, IndexReply, WorkerOutcome } from './index-worker.js';

/** A capture file as the indexer queued it. */
export interface IndexedFile {
  source: string;
  path: string;
  size: number;
  mtimeMs: number;
}

/** How the indexer gets traffic summaries read (traffic/publisher.ts implements it). */
export interface IndexTraffic {
  settings: TrafficSettings;
  /** Called once per source and scan with every capture it lists (before `wants`). */
  listed(source: string, captures: readonly ListedCapture[]): void;
  /** Whether this closed capture's summary is still to be read and published. */
  wants(source: string, capture: ListedCapture): boolean;
  /** A file's summary, read to its end by the worker. Must not throw. */
  summarised(file: IndexedFile, traffic: FileTraffic): void;
}

export interface IndexerOptions {
  /** A capture not modified for this long is closed. */
  settleSeconds: number;
  logger: Logger;
  now?: () => number;
  /** Called when the worker starts building a file (after checking it is unchanged). */
  onStart?: (path: string) => void;
  /** Called after each file the worker handled, whatever the outcome. */
  onResult?: (path: string, outcome: WorkerOutcome) => void;
  /** Read closed files' traffic summaries in the index read (or a read of their own). */
  traffic?: IndexTraffic;
}

interface QueuedJob extends IndexedFile {
  /** index: build the sidecar (and the traffic when `traffic`); traffic: only read the traffic. */
  mode: 'index' | 'traffic';
  traffic: boolean;
}

/** What the indexer remembers of one source between scans (only for files still listed). */
interface SourceState {
  /** path → (capture + sidecar identity, whether the sidecar was fresh for it). */
  checked: Map<string, { key: string; fresh: boolean }>;
  /** path → the file's size:mtime when indexing it failed, and why. */
  failures: Map<string, { key: string; reason: string }>;
}

export class CaptureIndexer {
  private readonly settleMs: number;
  private readonly now: () => number;
  private readonly state = new Map<string, SourceState>();
  private readonly queue = new Map<string, QueuedJob>();
  private current: (QueuedJob & { id: number }) | null = null;
  private worker: Worker | null = null;
  private nextId = 1;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(private readonly opts: IndexerOptions) {
    this.settleMs = opts.settleSeconds * 1000;
    this.now = opts.now ?? Date.now;
  }

  /**
   * Called with each source's listing during a scan: counts what is indexed, queues what should
   * be, removes orphan sidecars. Synchronous and cheap (no capture is read here but the first
   * 64 KiB of one whose sidecar changed); never throws.
   */
  review(listing: SourceListing): SourceAddition {
    const { spec, captures, files } = listing;
    const prev = this.state.get(spec.name) ?? { checked: new Map(), failures: new Map() };
    const next: SourceState = { checked: new Map(), failures: new Map() };
    this.state.set(spec.name, next);
    const newest = spec.managed ? newestOf(captures) : null;
    const settledBefore = this.now() - this.settleMs;
    const wanted = new Map<string, QueuedJob>();
    const problems: CaptureProblem[] = [];
    let indexed = 0;
    let unindexed = 0;
    const traffic = this.opts.traffic;
    traffic?.listed(spec.name, captures);
    for (const c of captures) {
      const closed = c !== newest && c.mtimeMs <= settledBefore;
      const wantsTraffic = traffic !== undefined && closed && traffic.wants(spec.name, c);
      const job = (mode: QueuedJob['mode']): QueuedJob => ({ source: spec.name, path: c.path, size: c.bytes, mtimeMs: c.mtimeMs, mode, traffic: wantsTraffic });
      // A failed read of this file as it is now: reported at every scan, never retried.
      const known = prev.failures.get(c.path);
      const failure = known && known.key === fileKey(c) ? known : undefined;
      if (failure) next.failures.set(c.path, failure);
      const trafficOnly = (): void => {
        if (failure) problems.push({ file: c.path, offset: 0, reason: failure.reason });
        else if (wantsTraffic) wanted.set(c.path, job('traffic'));
      };
      if (c.bytes < MIN_INDEXED_BYTES) {
        // Read whole by extract: no index needed. Its traffic still is.
        trafficOnly();
        continue;
      }
      if (this.isFresh(c, files.get(sidecarPath(c.path)), prev, next)) {
        indexed++;
        trafficOnly();
        continue;
      }
      unindexed++;
      if (failure) {
        problems.push({ file: c.path, offset: 0, reason: failure.reason });
        continue;
      }
      if (!closed) continue; // still being written
      wanted.set(c.path, job('index'));
    }
    this.removeOrphans(files);
    this.schedule(spec.name, wanted);
    return { indexedFiles: indexed, unindexedFiles: unindexed, problems };
  }

  /** Resolves once nothing is queued or being built (at once after stop). */
  idle(): Promise<void> {
    if (this.stopped || (this.current === null && this.queue.size === 0)) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Paths waiting for the worker, in the order they will be built. */
  get queued(): string[] {
    return [...this.queue.values()].sort(oldestFirst).map((j) => j.path);
  }

  /** Terminates the worker; a build in progress is abandoned and its temporary file removed. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.queue.clear();
    const worker = this.worker;
    const current = this.current;
    this.worker = null;
    this.current = null;
    if (worker) await worker.terminate();
    // buildIndex writes `<sidecar>.tmp-<pid>` (the worker shares the process id), then renames it.
    if (current) rmSync(sidecarTempPath(current.path), { force: true });
    this.settleIdle();
  }

  private isFresh(c: ListedCapture, sidecar: { ino: number; size: number; mtimeMs: number } | undefined, prev: SourceState, next: SourceState): boolean {
    if (!sidecar) return false;
    const key = `${c.ino}:${c.bytes}:${c.mtimeMs}|${sidecar.ino}:${sidecar.size}:${sidecar.mtimeMs}`;
    const known = prev.checked.get(c.path);
    const fresh = known?.key === key ? known.fresh : loadIndexHeader(c.path).status === 'fresh';
    next.checked.set(c.path, { key, fresh });
    return fresh;
  }

  /**
   * Deletes `*.pmidx` files whose capture does not exist, and the `*.pmidx.tmp-<pid>` files of
   * builds that no running process will finish (an agent or `pcapmesh-pcap index` that crashed).
   */
  private removeOrphans(files: ReadonlyMap<string, unknown>): void {
    for (const path of files.keys()) {
      const pid = sidecarTempPid(path);
      if (pid !== null) {
        const building = this.current !== null && path === sidecarTempPath(this.current.path);
        if (pid === process.pid ? !building : !isRunning(pid)) this.removeQuietly(path, 'the temporary file of an abandoned index build');
        continue;
      }
      if (!path.endsWith(SIDECAR_SUFFIX)) continue;
      const capture = path.slice(0, -SIDECAR_SUFFIX.length);
      if (files.has(capture) || existsSync(capture)) continue;
      this.removeQuietly(path, 'the sidecar of a deleted capture');
    }
  }

  private removeQuietly(path: string, what: string): void {
    try {
      unlinkSync(path);
      this.opts.logger.debug({ path }, `index: removed ${what}`);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.opts.logger.debug({ err, path }, `index: cannot remove ${what}`);
    }
  }

  /** Replaces the source's queued jobs by `wanted` (a file no longer wanted leaves the queue). */
  private schedule(source: string, wanted: Map<string, QueuedJob>): void {
    if (this.stopped) return;
    for (const [path, job] of this.queue) if (job.source === source && !wanted.has(path)) this.queue.delete(path);
    for (const [path, job] of wanted) if (this.current?.path !== path) this.queue.set(path, job);
    this.pump();
  }

  private pump(): void {
    if (this.stopped || this.current !== null) return;
    // The oldest queued file: one pass, not a sort per built file (a large ring queues thousands at first start).
    const job = [...this.queue.values()].reduce<QueuedJob | undefined>((min, j) => (!min || oldestFirst(j, min) < 0 ? j : min), undefined);
    if (!job) {
      this.settleIdle();
      return;
    }
    this.queue.delete(job.path);
    let worker: Worker;
    try {
      worker = this.ensureWorker();
    } catch (err) {
      this.opts.logger.error({ err }, 'index: cannot start the index worker; indexing stops');
      this.stopped = true;
      this.queue.clear();
      this.settleIdle();
      return;
    }
    this.current = { ...job, id: this.nextId++ };
    const settings = job.traffic ? this.opts.traffic?.settings : undefined;
    worker.postMessage({
      id: this.current.id,
      path: job.path,
      size: job.size,
      mtimeMs: job.mtimeMs,
      mode: job.mode,
      ...(settings ? { traffic: settings } : {}),
    } satisfies IndexJob);
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = startModuleWorker(new URL('./index-worker.js', import.meta.url));
    let crash: Error | null = null;
    worker.on('message', (msg: IndexReply) => this.onReply(msg));
    worker.on('error', (err) => {
      crash = err;
    });
    worker.on('exit', (code) => {
      if (this.worker !== worker) return; // terminated by stop()
      this.worker = null;
      const current = this.current;
      if (!current) return;
      // The thread died under a build (out of memory, a bug): that file fails, the next gets a new thread.
      this.finish(current, { status: 'failed', error: `index worker died (${crash?.message ?? `exit code ${code}`})` });
    });
    this.worker = worker;
    return worker;
  }

  private onReply(msg: IndexReply): void {
    const current = this.current;
    if (!current || msg.id !== current.id) return;
    if (msg.type === 'started') this.opts.onStart?.(current.path);
    else this.finish(current, msg.outcome);
  }

  private finish(job: QueuedJob, outcome: WorkerOutcome): void {
    this.current = null;
    const log = this.opts.logger;
    const problem =
      outcome.persistError !== undefined
        ? `index not saved: ${outcome.persistError}`
        : outcome.status === 'failed'
          ? `${job.mode === 'traffic' ? 'cannot read traffic' : 'cannot index'}: ${outcome.error ?? 'unknown error'}`
          : null;
    if (problem !== null) {
      // Remembered per path, size and mtime: logged once, reported at every scan, not rebuilt.
      this.state.get(job.source)?.failures.set(job.path, { key: fileKey({ bytes: job.size, mtimeMs: job.mtimeMs }), reason: problem });
      log.warn({ source: job.source, file: job.path }, `index: ${problem}`);
    } else if (outcome.status === 'vanished' || outcome.status === 'changed' || outcome.status === 'fresh') {
      log.debug({ source: job.source, file: job.path, reason: outcome.reason }, 'index: file skipped');
    } else if (outcome.status === 'summarised') {
      log.debug({ source: job.source, file: job.path, minutes: outcome.traffic?.minutes.length }, 'index: traffic read');
    } else if (outcome.status === 'rebuilt') {
      // Stale, damaged, or of an older format (after an upgrade: "index format version 2 is older than …").
      log.info({ source: job.source, file: job.path, reason: outcome.reason }, 'index: sidecar rebuilt');
    } else {
      log.debug({ source: job.source, file: job.path, status: outcome.status, reason: outcome.reason }, 'index: sidecar written');
    }
    if (outcome.traffic && this.opts.traffic) {
      const { source, path, size, mtimeMs } = job;
      this.opts.traffic.summarised({ source, path, size, mtimeMs }, outcome.traffic);
    }
    this.opts.onResult?.(job.path, outcome);
    this.pump();
  }

  private settleIdle(): void {
    if (!this.stopped && (this.current !== null || this.queue.size > 0)) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}

function fileKey(f: { bytes: number; mtimeMs: number }): string {
  return `${f.bytes}:${f.mtimeMs}`;
}

function newestOf(captures: ListedCapture[]): ListedCapture | null {
  return captures.reduce<ListedCapture | null>((m, c) => (!m || c.mtimeMs > m.mtimeMs ? c : m), null);
}

function oldestFirst(a: QueuedJob, b: QueuedJob): number {
  return a.mtimeMs - b.mtimeMs || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0);
}

/** Is there a process with this id (ours or another user's)? */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
