/**
 * The jobs' clock (docs/jobs.md "Restart safety"). `tick()` runs every ~2 s; `resume()` once at
 * start; `sensorOnline()` when a sensor comes (back) online.
 *
 * Nothing is re-sent before `resume()` (app.ts calls it once the HTTP server listens, so upload
 * URLs carry the real port); resume() itself re-sends what births before it would have.
 *
 * What a tick does, in order:
 * 1. pending jobs (a restart between insert and dispatch) are dispatched;
 * 2. a task of an online sensor with no progress for jobs.taskNoProgressSeconds fails with
 *    "no progress for N s" and is re-sent as a new attempt while attempts remain (a `waiting`
 *    task counts from its waitUntil instead);
 * 3. a job past its deadline ends with what it has: open tasks are cancelled with the reason;
 * 4. running jobs whose tasks are all final are merged and end complete, partial or failed.
 *
 * Several collectors on one database (docs/jobs.md "Job lease"): a tick first renews this
 * collector's job leases and takes the free and expired ones (job-lease.ts), and steps 1–4 look
 * only at the jobs it holds, so each job is dispatched, retried, timed out and merged by one
 * collector. A job taken over from a dead holder has its open tasks of online sensors re-sent
 * (the holder may have recorded a dispatch it never published), as resume() does at start.
 *
 * Agents run clean MQTT sessions, so a command sent while a sensor is offline is lost:
 * `sensorOnline(name)` re-sends that sensor's unfinished tasks at their current attempt (the agent
 * re-reports a task it already holds instead of starting it again). The collector that ingested
 * the birth does it, whoever holds the job's lease: it is the one that saw the sensor return, and
 * a re-send of an attempt already dispatched changes nothing at the agent.
 */
import type { Logger } from 'pino';
import type { Db } from '../../storage/db.js';
import { closeOpenTasks, openTasksOfOnlineSensors, openTasksOfSensor, type TaskRow } from '../../storage/job-tasks.repo.js';
import { findJob, openJobs, type JobRow } from '../../storage/jobs.repo.js';
import type { DomainEvents } from '../events.js';
import type { TaskDispatcher } from './dispatcher.js';
import type { JobResults } from './jobs.ports.js';
import type { JobsService } from './jobs.service.js';
import type { JobLeases } from './job-lease.js';
import type { JobLifecycle } from './lifecycle.js';

export interface SchedulerDeps {
  db: Db;
  service: Pick<JobsService, 'dispatchJob'>;
  dispatcher: TaskDispatcher;
  lifecycle: JobLifecycle;
  /** This collector's job leases: a tick works only on the jobs it holds. */
  leases: Pick<JobLeases, 'claimOpen' | 'releaseStale'>;
  results: Pick<JobResults, 'sweepExpired'>;
  log: Logger;
  now: () => Date;
  settings: { taskNoProgressSeconds: number };
}

/** Re-sends of one sensor's tasks closer together than this are one (a birth seen by two paths). */
export const RESEND_DEBOUNCE_MS = 1000;

export interface TickReport {
  dispatched: number;
  stalled: number;
  timedOut: number;
  /** Open jobs whose finish check started in the background (it merges those whose tasks all ended). */
  finishing: number;
  /** Jobs whose lease this tick took over from another (expired) holder. */
  takenOver: number;
}

export class JobScheduler {
  /** Re-sends (started by `watch`) and job finishes in progress, awaited by `settled()`. */
  private readonly background = new Set<Promise<unknown>>();
  /** Jobs whose finish this scheduler has started and not yet seen end. */
  private readonly finishing = new Set<string>();
  /** Set by resume(): re-sends wait for it. */
  private resumed = false;
  /** When each sensor's tasks were last re-sent (ms), for the debounce. */
  private readonly lastResend = new Map<string, number>();

  constructor(private readonly deps: SchedulerDeps) {}

  /**
   * Re-sends a sensor's unfinished tasks whenever it is born or comes back (a 'sensor.status'
   * event to online from offline or unknown, or any birth). Returns the function that stops it.
   */
  watch(events: DomainEvents): () => void {
    return events.on('sensor.status', (e) => {
      // Gone: its next birth is a new one and re-sends, however soon it comes (a quick restart).
      if (e.status === 'offline') this.lastResend.delete(e.sensor);
      if (e.status === 'offline' || (e.reason !== 'birth' && e.previous !== 'offline' && e.previous !== 'unknown')) return;
      const work = this.sensorOnline(e.sensor).catch((err: unknown) => this.deps.log.error({ sensor: e.sensor, err }, 're-sending tasks failed'));
      this.background.add(work);
      void work.finally(() => this.background.delete(work));
    });
  }

  /** Resolves when the re-sends started so far have ended. */
  async settled(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  /**
   * At start: jobs found merging are merged again; the unfinished tasks of sensors the database
   * holds online are re-sent (a dispatch recorded just before a crash may never have been
   * published, and with an external broker a connected agent sends no new birth); then a tick
   * dispatches pending jobs and checks the rest.
   */
  async resume(): Promise<TickReport> {
    this.resumed = true;
    const released = await this.deps.leases.releaseStale();
    if (released > 0) this.deps.log.info({ jobs: released }, "a previous run's job leases released");
    const { held } = await this.deps.leases.claimOpen();
    const merging = (await openJobs(this.deps.db)).filter((j) => j.status === 'merging' && held.has(j.id));
    for (const job of merging) {
      this.deps.log.info({ job: job.id }, 'merging again after a restart');
      this.finishInBackground(job.id);
    }
    const online = new Set((await openTasksOfOnlineSensors(this.deps.db)).filter((t) => held.has(t.jobId)).map((t) => t.sensorName));
    for (const sensor of online) await this.sensorOnline(sensor, held);
    return this.tick();
  }

  async tick(): Promise<TickReport> {
    const { db, log } = this.deps;
    const report: TickReport = { dispatched: 0, stalled: 0, timedOut: 0, finishing: 0, takenOver: 0 };
    const { held, takenOver } = await this.deps.leases.claimOpen();
    for (const jobId of takenOver) {
      log.info({ job: jobId }, 'job lease taken over from an expired holder: its open tasks of online sensors are re-sent');
      await this.resendJob(jobId);
      report.takenOver += 1;
    }
    const open = (await openJobs(db)).filter((j) => held.has(j.id));
    for (const job of open) {
      if (job.status !== 'pending') continue;
      await this.deps.service.dispatchJob(job.id);
      report.dispatched += 1;
    }
    report.stalled = await this.checkProgress(held);
    const now = this.deps.now();
    for (const job of open.length > 0 ? (await openJobs(db)).filter((j) => held.has(j.id)) : []) {
      if (job.status === 'running' && job.deadlineAt.getTime() <= now.getTime()) {
        await this.timeOut(job, now);
        report.timedOut += 1;
      }
      // A job left merging (an error after its merge, or a restart) is finished again: the merge is
      // idempotent and lifecycle.finishIfDone never runs two merges of one job in this process.
      if (this.finishInBackground(job.id)) report.finishing += 1;
    }
    return report;
  }

  /** Re-sends a job's open tasks of online sensors at their current attempt (its lease was taken over). */
  private async resendJob(jobId: string): Promise<number> {
    const job = await findJob(this.deps.db, jobId);
    if (job === null || job.status !== 'running') return 0;
    let sent = 0;
    for (const task of (await openTasksOfOnlineSensors(this.deps.db)).filter((t) => t.jobId === jobId)) {
      if (task.dispatchedAt !== null && (await this.deps.dispatcher.send(job, task, task.attempt))) sent += 1;
    }
    return sent;
  }

  /**
   * Finishes a job whose tasks are all final (merge, analysis, manifest, final state) without
   * holding up the caller: a long merge must not stop dispatch, retries and deadlines of the other
   * jobs. Returns false when that job is already being finished here. `settled()` awaits it.
   */
  private finishInBackground(jobId: string): boolean {
    if (this.finishing.has(jobId)) return false;
    this.finishing.add(jobId);
    const work = this.deps.lifecycle
      .finishIfDone(jobId)
      .catch((err: unknown) => this.deps.log.error({ job: jobId, err }, 'finishing a job failed'))
      .finally(() => this.finishing.delete(jobId));
    this.background.add(work);
    void work.finally(() => this.background.delete(work));
    return true;
  }

  /**
   * Re-sends a sensor's unfinished tasks (it was born or came back; commands sent meanwhile were
   * lost). Called from the 'sensor.status' event and from ingest on every birth (a birth while the
   * collector still held the sensor online changes no status); calls for one sensor within
   * RESEND_DEBOUNCE_MS of the last re-send are skipped, so one birth re-sends once. `onlyJobs`:
   * re-send only the tasks of these jobs (resume(): the jobs this collector holds the lease of).
   */
  async sensorOnline(sensor: string, onlyJobs?: ReadonlySet<string>): Promise<number> {
    // Before resume() the upload URL may not be known yet (the HTTP server binds later); resume() re-sends then.
    if (!this.resumed) return 0;
    const now = this.deps.now().getTime();
    const last = this.lastResend.get(sensor);
    if (last !== undefined && now - last >= 0 && now - last < RESEND_DEBOUNCE_MS) return 0;
    this.lastResend.set(sensor, now);
    const tasks = await openTasksOfSensor(this.deps.db, sensor);
    let sent = 0;
    for (const task of tasks) {
      if (onlyJobs !== undefined && !onlyJobs.has(task.jobId)) continue;
      const job = await findJob(this.deps.db, task.jobId);
      if (job === null || job.status !== 'running') continue;
      if (await this.deps.dispatcher.send(job, task, task.attempt)) sent += 1;
    }
    if (sent > 0) this.deps.log.info({ sensor, tasks: sent }, 'sensor online: unfinished tasks re-sent');
    return sent;
  }

  /** Deletes results past their expiry (results.sweepExpired); hourly. */
  async sweepExpired(): Promise<unknown> {
    return this.deps.results.sweepExpired(this.deps.now());
  }

  /** Fails or retries the stalled tasks of the jobs this collector holds. */
  private async checkProgress(held: ReadonlySet<string>): Promise<number> {
    const { db, lifecycle } = this.deps;
    const now = this.deps.now().getTime();
    const limitMs = this.deps.settings.taskNoProgressSeconds * 1000;
    let stalled = 0;
    for (const task of await openTasksOfOnlineSensors(db)) {
      if (!held.has(task.jobId) || now - since(task) < limitMs) continue;
      const job = await findJob(db, task.jobId);
      if (job === null || job.status !== 'running') continue;
      const outcome = await lifecycle.failOrRetry(job, task, `no progress for ${this.deps.settings.taskNoProgressSeconds} s`, true);
      if (outcome !== 'unchanged') stalled += 1;
    }
    return stalled;
  }

  private async timeOut(job: JobRow, now: Date): Promise<void> {
    const reason = `job deadline passed (limits.timeoutSeconds ${job.limits.timeoutSeconds} s)`;
    const closed = await closeOpenTasks(this.deps.db, job.id, { to: 'cancelled', reason, at: now });
    this.deps.log.warn({ job: job.id, tasks: closed.length }, 'job deadline passed: ending with what it has');
    for (const task of closed) {
      if (task.dispatchedAt !== null) await this.deps.dispatcher.cancel(task, reason);
      await this.deps.lifecycle.taskMoved(task, true);
    }
  }
}

/** When the no-progress clock of a task started: its last progress, or its waitUntil while waiting. */
function since(task: TaskRow): number {
  const last = (task.lastProgressAt ?? task.dispatchedAt ?? new Date(0)).getTime();
  if (task.status === 'waiting' && task.waitUntil !== null) return Math.max(last, task.waitUntil.getTime());
  return last;
}
