/**
 * Capture jobs (docs/jobs.md): what the HTTP routes call (JobsApi), what ingest calls for task
 * statuses and dry-run estimates, and what the upload route calls when a result is complete.
 *
 * Contract:
 * - submit validates (planner.ts), plans per sensor from reported availability (plus the sensors'
 *   own estimates for a dry run), then creates the job and one task per sensor in ONE transaction
 *   (the per-user concurrent-jobs quota is checked inside it) and dispatches the tasks;
 * - task statuses apply only to the task's current attempt, only from the sensor the task belongs
 *   to, only forward (pending → accepted → waiting → scanning → uploading → done; failed, cancelled,
 *   skipped from any open state) and only with a newer envelope seq;
 * - a task is `done` when its upload is complete and verified (`taskUploaded`), whichever of that
 *   and the agent's `done` comes first;
 * - rights: anyone reads; analysts submit and cancel, remove and download their own jobs, admins
 *   any (accounts/roles.ts mayTouchJob). Errors are DomainErrors naming what was wrong.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { AnalysisReport } from '@pcapmesh/shared/pcap';
import type { EstimateMessage, TaskResult, TaskStatusMessage } from '@pcapmesh/shared/wire';
import type { Db } from '../../storage/db.js';
import { applyTaskStatus, findTask, insertTasks, listTasks, OPEN_TASK_STATES, closeOpenTasks, type TaskStatusText } from '../../storage/job-tasks.repo.js';
import {
  countOpenJobs,
  deleteJob,
  findJob,
  recordDownloadWithinQuota,
  insertJob,
  isUuid,
  jobAnalysisAndManifest,
  listJobs,
  lockOwner,
  setJobExpiry,
  setJobStatus,
  type JobWithTally,
} from '../../storage/jobs.repo.js';
import { mayTouchJob, roleAllows, type Actor } from '../accounts/roles.js';
import { DomainError, invalid, notFound } from '../errors.js';
import type { SensorView } from '../sensors/sensors.types.js';
import type { TaskDispatcher } from './dispatcher.js';
import { DryRunLimit } from './dry-run-limit.js';
import type { DryRunEstimates, EstimateOutcome } from './estimates.js';
import { jobView, planOf, taskView } from './job-views.js';
import type {
  JobLimits,
  JobDetail,
  JobListQuery,
  JobPage,
  JobPlan,
  JobRequest,
  JobsApi,
  JobView,
  ResultFile,
  TaskView,
  EvidenceManifest,
} from './jobs.types.js';
import type { JobResults, SubnetLocator } from './jobs.ports.js';
import type { JobLeases } from './job-lease.js';
import type { JobLifecycle } from './lifecycle.js';
import { availabilityOf, filterLocations, filterNets, makePlan, planEntry, resolveTargets, validateRequest } from './planner.js';
import { isoOfNs, nsOfDate, nsOfTimestamp, dateOfNs } from './window.js';

export interface JobsSettings {
  defaultLimits: JobLimits;
  ceilings: JobLimits;
  maxWindowSeconds: number;
  quota: { concurrentJobs: number; bytesPerDay: number; dryRunsPerMinute: number };
  dryRunTimeoutMs: number;
}

export interface JobsServiceDeps {
  db: Db;
  sensors: { list(): Promise<SensorView[]> };
  /** The subnet map: narrows `targets: { auto: true }` to where the filter's addresses are (absent: no narrowing). */
  subnets?: SubnetLocator | undefined;
  dispatcher: TaskDispatcher;
  lifecycle: JobLifecycle;
  /** Job leases (job-lease.ts): a job is dispatched only by the collector holding its lease. */
  leases: Pick<JobLeases, 'claim'>;
  estimates: DryRunEstimates;
  results: JobResults;
  log: Logger;
  now: () => Date;
  settings: JobsSettings;
}

/** What applying a task status did: applied, or the ingest rejection reason. */
export type TaskStatusOutcome = 'applied' | 'duplicate' | 'stale' | 'not-permitted' | 'unknown-topic';

/** Forward order of the open states; a status applies only from states not after it. */
const RANK: Record<TaskStatusText, number> = { pending: 0, accepted: 1, waiting: 2, scanning: 3, uploading: 4, done: 5, failed: 5, cancelled: 5, skipped: 5 };
const upTo = (s: TaskStatusText): TaskStatusText[] => OPEN_TASK_STATES.filter((o) => RANK[o] <= RANK[s]);
const DAY_MS = 86_400_000;
const MAX_PAGE = 500;

export class JobsService implements JobsApi {
  /** Background work (finishing jobs after a status) still running: awaited by `settled()`. */
  private readonly background = new Set<Promise<unknown>>();
  /** jobs.quota.dryRunsPerMinute per user. */
  private readonly dryRuns: DryRunLimit;

  constructor(private readonly deps: JobsServiceDeps) {
    this.dryRuns = new DryRunLimit(deps.settings.quota.dryRunsPerMinute, deps.now);
  }

  async submit(actor: Actor, request: JobRequest): Promise<{ job: JobDetail | null; plan: JobPlan }> {
    if (!roleAllows(actor.role, 'analyst')) throw new DomainError('forbidden', `a ${actor.role} may not submit jobs`);
    const { db, settings, log } = this.deps;
    const v = validateRequest(request, settings);
    const now = this.deps.now();
    const nowNs = nsOfDate(now);
    const subnets = this.deps.subnets;
    const narrowTo = 'auto' in v.targets && subnets ? filterLocations(v.expression, await subnets.locate(filterNets(v.expression))) : null;
    const targets = resolveTargets(v.targets, await this.deps.sensors.list(), v.window, nowNs, narrowTo);
    let answers = new Map<string, EstimateMessage | 'no-answer'>();
    if (request.dryRun === true) {
      // Counted once the request is valid: only dry runs that reach the sensors are limited.
      this.dryRuns.take(actor.id, actor.name);
      const asked = targets.filter((s) => (s.status === 'online' || s.status === 'degraded') && availabilityOf(s, v.window, nowNs).included);
      answers = await this.deps.estimates.ask(
        asked.map((s) => s.name),
        v.window,
        v.expression,
        settings.dryRunTimeoutMs,
      );
    }
    const entries = targets.map((s) => planEntry(s, v.window, nowNs, answers.get(s.name)));
    const plan = makePlan(v, entries, nowNs);
    if (request.dryRun === true) return { job: null, plan };

    const id = randomUUID();
    const windowEnd = dateOfNs(v.window.to);
    const deadlineAt = new Date(Math.max(now.getTime(), windowEnd.getTime()) + v.limits.timeoutSeconds * 1000);
    const tasks = entries.map((e) => ({
      id: randomUUID(),
      jobId: id,
      sensorName: e.sensor,
      status: e.included ? ('pending' as const) : ('skipped' as const),
      reason: e.included ? null : (e.note ?? 'no availability overlaps the window'),
      at: now,
    }));
    await db.transaction(async (tx) => {
      await lockOwner(tx, actor.id);
      const open = await countOpenJobs(tx, actor.id);
      if (open >= settings.quota.concurrentJobs) {
        throw new DomainError('throttled', `${actor.name} has ${open} open jobs; jobs.quota.concurrentJobs allows ${settings.quota.concurrentJobs}`);
      }
      await insertJob(tx, {
        id,
        name: v.name,
        owner: actor.name,
        ownerId: actor.id,
        windowFrom: isoOfNs(v.window.from),
        windowTo: isoOfNs(v.window.to),
        windowNs: { from: v.window.from.toString(), to: v.window.to.toString() },
        filter: v.filter,
        filterExpression: v.expression,
        targets: v.targets,
        limits: v.limits,
        plan,
        createdAt: now,
        deadlineAt,
      });
      await insertTasks(tx, tasks);
    });
    log.info({ job: id, owner: actor.name, ownerId: actor.id, sensors: tasks.map((t) => t.sensorName), filter: v.expression }, 'job submitted');
    await this.deps.lifecycle.emitJob(id, 'submitted');
    await this.dispatchJob(id);
    return { job: await this.detail(id), plan };
  }

  /**
   * Sends every task of a pending job that was never dispatched, moves the job to running, and
   * ends it at once when nothing is left to wait for (every sensor skipped). Used by submit and,
   * after a restart, by the scheduler. Only under the job's lease: a job whose lease another
   * collector holds is left to it (two collectors never both dispatch it).
   */
  async dispatchJob(id: string): Promise<void> {
    const { db } = this.deps;
    const job = await findJob(db, id);
    if (job === null || job.status !== 'pending') return;
    if (!(await this.deps.leases.claim(id))) return;
    const tasks = await listTasks(db, id);
    await Promise.all(tasks.filter((t) => t.status === 'pending' && t.dispatchedAt === null).map((t) => this.deps.dispatcher.send(job, t, t.attempt)));
    if (await setJobStatus(db, id, { from: ['pending'], to: 'running', at: this.deps.now() })) await this.deps.lifecycle.emitJob(id, 'running');
    await this.deps.lifecycle.finishIfDone(id);
  }

  async list(_actor: Actor, query: JobListQuery): Promise<JobPage> {
    if (!Number.isInteger(query.limit) || query.limit < 1 || query.limit > MAX_PAGE) throw invalid(`limit: must be 1 to ${MAX_PAGE}`);
    const rows = await listJobs(this.deps.db, {
      ...(query.status !== undefined ? { status: query.status } : {}),
      ...(query.owner !== undefined ? { owner: query.owner } : {}),
      ...(query.from !== undefined ? { createdFrom: query.from } : {}),
      ...(query.to !== undefined ? { createdTo: query.to } : {}),
      ...(query.cursor !== undefined ? { after: decodeCursor(query.cursor) } : {}),
      limit: query.limit + 1,
    });
    const page = rows.slice(0, query.limit);
    const last = page[page.length - 1];
    return { jobs: page.map(jobView), next: rows.length > query.limit && last ? encodeCursor(last) : null };
  }

  async get(actor: Actor, id: string): Promise<JobDetail> {
    await this.job(actor, id, 'read');
    return this.detail(id);
  }

  async tasks(actor: Actor, id: string): Promise<TaskView[]> {
    await this.job(actor, id, 'read');
    return (await listTasks(this.deps.db, id)).map(taskView);
  }

  async cancel(actor: Actor, id: string): Promise<JobView> {
    const job = await this.job(actor, id, 'cancel');
    if (job.status === 'cancelled') return jobView(job);
    if (job.status === 'complete' || job.status === 'partial' || job.status === 'failed')
      throw new DomainError('conflict', `job ${id} has already ended (${job.status})`);
    await this.cancelOpen(job, `cancelled by ${actor.name}`);
    return jobView((await findJob(this.deps.db, id))!);
  }

  async remove(actor: Actor, id: string): Promise<void> {
    const job = await this.job(actor, id, 'cancel');
    if (job.status === 'pending' || job.status === 'running' || job.status === 'merging') await this.cancelOpen(job, `removed by ${actor.name}`);
    await this.deps.results.removeJobFiles(id);
    await deleteJob(this.deps.db, id);
    this.deps.log.info({ job: id, by: actor.name }, 'job removed');
  }

  async download(actor: Actor, id: string, taskId?: string, bytesServed?: (size: number) => number): Promise<ResultFile> {
    // The merged file's record is read beside the job and the right to it (answered only once both
    // pass): two round trips fewer on the way to a result's first byte.
    const [job, merged] = await Promise.all([this.job(actor, id, 'download'), taskId === undefined && isUuid(id) ? this.deps.results.mergedFile(id) : null]);
    if (job.expiredAt !== null) throw notFound(`results of job ${id} (expired)`);
    let file: ResultFile | null;
    if (taskId !== undefined) {
      const task = await findTask(this.deps.db, taskId);
      if (task === null || task.jobId !== id) throw notFound(`task ${taskId} of job ${id}`);
      file = await this.deps.results.taskResultFile(id, taskId);
      if (file === null) throw notFound(`result of task ${taskId} (status ${task.status})`);
    } else {
      file = merged;
      if (file === null) throw notFound(`merged result of job ${id} (status ${job.status})`);
    }
    // A ranged request (a resumed download) counts only the bytes it sends.
    const bytes = Math.min(file.size, Math.max(0, Math.floor(bytesServed?.(file.size) ?? file.size)));
    const limit = this.deps.settings.quota.bytesPerDay;
    const now = this.deps.now();
    // Checked and counted in one step: concurrent downloads of one user cannot together pass the limit.
    const counted = await recordDownloadWithinQuota(
      this.deps.db,
      { principal: actor.id, username: actor.name, jobId: id, bytes, at: now },
      { limit: bytes > 0 ? limit : 0, since: new Date(now.getTime() - DAY_MS) },
    );
    if (!counted.recorded) {
      throw new DomainError(
        'throttled',
        `download of ${bytes} bytes exceeds jobs.quota.bytesPerDay (${limit}): ${counted.usedBefore} bytes downloaded in the last 24 h`,
      );
    }
    this.deps.log.info({ job: id, task: taskId, user: actor.name, bytes, fileBytes: file.size }, 'result downloaded');
    return file;
  }

  async analysis(actor: Actor, id: string): Promise<AnalysisReport> {
    await this.job(actor, id, 'read');
    const stored = await jobAnalysisAndManifest(this.deps.db, id);
    if (stored === null || stored.analysis === null) throw notFound(`analysis of job ${id}`);
    return stored.analysis as AnalysisReport;
  }

  async manifest(actor: Actor, id: string): Promise<{ jws: string; manifest: EvidenceManifest }> {
    await this.job(actor, id, 'read');
    const stored = await jobAnalysisAndManifest(this.deps.db, id);
    if (stored === null || stored.manifest === null) throw notFound(`evidence manifest of job ${id}`);
    const payload = stored.manifest.split('.')[1] ?? '';
    return { jws: stored.manifest, manifest: JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as EvidenceManifest };
  }

  /** The sensor a task was given to; null when no such task exists (the broker's task-status check). */
  async taskOwner(taskId: string): Promise<string | null> {
    return (await findTask(this.deps.db, taskId))?.sensorName ?? null;
  }

  /** A dry-run answer from `sensor` (ingest). */
  ingestEstimate(sensor: string, msg: EstimateMessage): EstimateOutcome {
    return this.deps.estimates.receive(sensor, msg);
  }

  /** A task status from `sensor` on `sensors/{sensor}/tasks/{topicTaskId}` (ingest). */
  async ingestTaskStatus(sensor: string, topicTaskId: string, msg: TaskStatusMessage): Promise<TaskStatusOutcome> {
    const { db, lifecycle } = this.deps;
    if (msg.taskId !== topicTaskId) return 'not-permitted';
    const task = await findTask(db, msg.taskId);
    if (task === null) return 'unknown-topic';
    if (task.sensorName !== sensor) return 'not-permitted';
    if (msg.attempt !== task.attempt) return 'stale';
    if (task.lastSeq !== null && msg.seq <= task.lastSeq) return msg.seq === task.lastSeq ? 'duplicate' : 'stale';
    const now = this.deps.now();
    // The agent confirming a final state the collector already recorded (its `done` after the
    // verified upload, its `cancelled` after a cancel) is consistent, not a rejection.
    if (!OPEN_TASK_STATES.includes(task.status) && task.status === msg.status) return 'applied';
    if (msg.status === 'failed') {
      const job = await findJob(db, task.jobId);
      if (job === null || !OPEN_TASK_STATES.includes(task.status)) return 'stale';
      const outcome = await lifecycle.failOrRetry(job, task, msg.error ?? 'failed (no reason given)', msg.transient === true);
      if (outcome === 'unchanged') return 'stale';
      this.finishLater(task.jobId);
      return 'applied';
    }
    let to: TaskStatusText = msg.status;
    // The agent's `done` counts once the upload is verified; until then the task is uploading.
    if (to === 'done' && !task.uploadComplete) to = 'uploading';
    const final = to === 'done' || to === 'cancelled' || to === 'skipped';
    const progress = msg.progress === undefined ? undefined : ({ ...msg.progress } as Record<string, number>);
    const updated = await applyTaskStatus(
      db,
      {
        id: task.id,
        attempt: task.attempt,
        from: final ? OPEN_TASK_STATES : upTo(to),
        to,
        at: now,
        seq: msg.seq,
        ...(msg.error !== undefined ? { reason: msg.error } : {}),
        ...(msg.waitUntil !== undefined ? { waitUntil: dateOfNs(nsOfTimestamp(msg.waitUntil)) } : {}),
        ...(progress !== undefined ? { progress } : {}),
        ...(msg.result !== undefined ? { result: { packets: msg.result.packets, bytes: msg.result.bytes, truncated: msg.result.truncated ?? null } } : {}),
      },
      final,
    );
    if (updated === null) return 'stale';
    await lifecycle.taskMoved(updated, updated.status !== task.status);
    if (final) this.finishLater(task.jobId);
    return 'applied';
  }

  /**
   * The upload of a task's result is complete and its SHA-256 verified (upload route): the task is
   * done with `result`. False when the task is gone or no longer open.
   */
  async taskUploaded(taskId: string, result: TaskResult): Promise<boolean> {
    const { db } = this.deps;
    const task = await findTask(db, taskId);
    if (task === null) return false;
    const updated = await applyTaskStatus(
      db,
      {
        id: taskId,
        attempt: task.attempt,
        from: OPEN_TASK_STATES,
        to: 'done',
        at: this.deps.now(),
        result: { packets: result.packets, bytes: result.bytes, truncated: result.truncated ?? null },
      },
      true,
    );
    if (updated === null) return false;
    this.deps.log.info({ job: task.jobId, task: taskId, sensor: task.sensorName, packets: result.packets, fileBytes: result.fileBytes }, 'task done');
    await this.deps.lifecycle.taskMoved(updated, true);
    this.finishLater(task.jobId);
    return true;
  }

  /**
   * The collector cannot take the task's result (results quota, disk full; upload route): the task
   * fails with `reason`, not retried (the cause is on this side). False when it is gone or not open.
   */
  async taskFailed(taskId: string, reason: string): Promise<boolean> {
    const task = await findTask(this.deps.db, taskId);
    if (task === null) return false;
    const job = await findJob(this.deps.db, task.jobId);
    if (job === null) return false;
    const outcome = await this.deps.lifecycle.failOrRetry(job, task, reason, false);
    if (outcome === 'unchanged') return false;
    this.finishLater(task.jobId);
    return true;
  }

  /** Resolves when the background work started so far (merges after a last status) has ended. */
  async settled(): Promise<void> {
    while (this.background.size > 0) await Promise.allSettled([...this.background]);
  }

  /** Cancels an open job: tasks and job marked cancelled in one transaction, then the sensors told. */
  private async cancelOpen(job: JobWithTally, reason: string): Promise<void> {
    const { db } = this.deps;
    const now = this.deps.now();
    const closed = await db.transaction(async (tx) => {
      if (!(await setJobStatus(tx, job.id, { from: ['pending', 'running', 'merging'], to: 'cancelled', reason, at: now, final: true }))) return null;
      // Results of tasks done before the cancel are swept (and leave the results quota) like any ended job's.
      await setJobExpiry(tx, job.id, this.deps.lifecycle.expiresAt(now));
      return closeOpenTasks(tx, job.id, { to: 'cancelled', reason, at: now });
    });
    if (closed === null) return;
    await Promise.all(closed.filter((t) => t.dispatchedAt !== null).map((t) => this.deps.dispatcher.cancel(t, reason)));
    this.deps.log.info({ job: job.id, reason, tasks: closed.length }, 'job cancelled');
    for (const t of closed) await this.deps.lifecycle.taskMoved(t, true);
    await this.deps.lifecycle.emitJob(job.id, 'cancelled');
  }

  private finishLater(jobId: string): void {
    const work = this.deps.lifecycle.finishIfDone(jobId).catch((err: unknown) => this.deps.log.error({ job: jobId, err }, 'finishing a job failed'));
    this.background.add(work);
    void work.finally(() => this.background.delete(work));
  }

  /** The job, checked for existence and the actor's right to `action` it. */
  private async job(actor: Actor, id: string, action: 'read' | 'cancel' | 'download'): Promise<JobWithTally> {
    const job = await findJob(this.deps.db, id);
    if (job === null) throw notFound(`job ${id}`);
    if (action === 'download' && !roleAllows(actor.role, 'download')) throw new DomainError('forbidden', `a ${actor.role} may not download packets`);
    if (!mayTouchJob(actor, job, action)) throw new DomainError('forbidden', `job ${id} belongs to ${job.owner}: only its owner or an admin may ${action} it`);
    return job;
  }

  private async detail(id: string): Promise<JobDetail> {
    const job = await findJob(this.deps.db, id);
    if (job === null) throw notFound(`job ${id}`);
    return { ...jobView(job), taskList: (await listTasks(this.deps.db, id)).map(taskView), plan: planOf(job) };
  }
}

function encodeCursor(row: JobWithTally): string {
  return Buffer.from(JSON.stringify({ c: row.createdAtText, i: row.id })).toString('base64url');
}

function decodeCursor(cursor: string): { createdAt: string; id: string } {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { c?: unknown; i?: unknown };
    if (typeof parsed.c === 'string' && /^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(parsed.c) && typeof parsed.i === 'string' && /^[0-9a-f-]{36}$/.test(parsed.i)) {
      return { createdAt: parsed.c, id: parsed.i };
    }
  } catch {
    // fall through
  }
  throw invalid('cursor: not a cursor this server gave out');
}
