/**
 * Jobs and tasks as the rest of the collector sees them (docs/jobs.md): the submit request, the
 * plan, the views the API returns, and the slices of the services that transport calls.
 *
 * Times in views are ISO 8601 strings (UTC); a window keeps nanoseconds in `fromNs`/`toNs` (decimal
 * strings of nanoseconds since the epoch) for clients that need them.
 */
import type { JobStatus, TaskResult, TaskState } from '@pcapmesh/shared/wire';
import type { AnalysisReport, StructuredFilter } from '@pcapmesh/shared/pcap';
import type { Actor } from '../accounts/roles.js';

export type { JobStatus } from '@pcapmesh/shared/wire';

/** The collector's own task state before the agent acknowledges, plus the agent's states. */
export type TaskStatus = 'pending' | TaskState;

/** Task states that are final: the task will not change again (unless re-sent as a new attempt). */
export const TASK_FINAL: readonly TaskStatus[] = ['done', 'failed', 'cancelled', 'skipped'];
/** Job states that are final. */
export const JOB_FINAL: readonly JobStatus[] = ['complete', 'partial', 'failed', 'cancelled'];

export type JobFilterInput = { expression: string } | StructuredFilter;

export type JobTargets = { sensors: string[] } | { locations: string[] } | { auto: true };

export interface JobLimits {
  maxBytes: number;
  maxPackets: number;
  timeoutSeconds: number;
}

/** POST /jobs, after the HTTP layer's zod parse (times already parsed, nanoseconds kept). */
export interface JobRequest {
  name?: string;
  window: { from: bigint; to: bigint };
  filter: JobFilterInput;
  targets: JobTargets;
  limits?: Partial<JobLimits>;
  dryRun?: boolean;
}

/** One target sensor in a plan (dry run and submit). */
export interface PlanEntry {
  sensor: string;
  location: string | null;
  status: 'online' | 'offline' | 'degraded' | 'unknown';
  /** Share of the window that reported availability covers, 0..1, and the gaps inside the window. */
  coverage: { fraction: number; gaps: { from: string; to: string }[] };
  /** Bytes of the capture files overlapping the window (from availability, or the sensor's answer). */
  bytesInWindow: number;
  /** From the sensor's indexes (dry run only, when it answered in time); null when not known. */
  estimate: {
    files: number;
    indexedFiles: number;
    bytesToRead: number;
    matchUpperBound: { packets: number; bytes: number } | null;
  } | null;
  /** Why the sensor gets no task, or why the estimate is missing ("offline", "no availability overlaps the window", "no answer within 3 s"). */
  note?: string;
  /** False when the sensor is planned but skipped (no availability overlaps the window). */
  included: boolean;
}

export interface JobPlan {
  window: { from: string; to: string; fromNs: string; toNs: string };
  filter: string;
  limits: JobLimits;
  /** The window lies (partly) in the future: sensors wait for it to close. */
  scheduled: boolean;
  sensors: PlanEntry[];
}

export interface TaskView {
  id: string;
  job: string;
  sensor: string;
  status: TaskStatus;
  reason: string | null;
  attempt: number;
  dispatchedAt: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  waitUntil: string | null;
  lastProgressAt: string | null;
  progress: {
    filesScanned: number;
    filesTotal: number;
    packets: number;
    bytes: number;
    bytesScanned?: number;
    bytesTotal?: number;
    uploaded?: number;
    uploadTotal?: number;
  } | null;
  /** Once the upload is complete and verified. */
  result: (Omit<TaskResult, 'truncated'> & { truncated: NonNullable<TaskResult['truncated']> | null }) | null;
  upload: { size: number | null; received: number; complete: boolean };
}

export interface JobView {
  id: string;
  name: string | null;
  /** Who submitted it, as shown: username, or token:<label>. */
  owner: string;
  /** The owning principal's stable id (user:{id} / token:{id}): what ownership is checked on; null when its owner is gone. */
  ownerId: string | null;
  status: JobStatus;
  reason: string | null;
  window: { from: string; to: string; fromNs: string; toNs: string };
  /** As submitted, and the canonical expression the sensors run. */
  filter: JobFilterInput;
  expression: string;
  targets: JobTargets;
  limits: JobLimits;
  createdAt: string;
  startedAt: string | null;
  finishedAt: string | null;
  deadlineAt: string;
  tasks: { total: number; pending: number; running: number; done: number; failed: number; cancelled: number; skipped: number };
  /** Matched so far (sum of tasks' progress) or merged. */
  packets: number;
  bytes: number;
  result: {
    fileBytes: number;
    sha256: string;
    packets: number;
    bytes: number;
    duplicatesRemoved: number;
    /** Suggested download name: pcapmesh-{job}-{from}-{to}.pcap[ng]. */
    fileName: string;
  } | null;
  expiresAt: string | null;
  /** Results deleted by expiry (metadata stays). */
  expired: boolean;
}

/** JobView plus its tasks and plan: GET /jobs/{id}. */
export interface JobDetail extends JobView {
  taskList: TaskView[];
  plan: JobPlan;
}

export interface JobListQuery {
  status?: JobStatus[];
  owner?: string;
  /** created_at range */
  from?: Date;
  to?: Date;
  limit: number;
  /** Opaque cursor from the previous page's `next`. */
  cursor?: string;
}

export interface JobPage {
  jobs: JobView[];
  next: string | null;
}

/** A file to stream to the client (merged result or one task's). */
export interface ResultFile {
  /** Absolute path on the collector. */
  path: string;
  size: number;
  fileName: string;
  contentType: 'application/vnd.tcpdump.pcap' | 'application/x-pcapng';
}

/** What the HTTP routes of /jobs call (JobsService implements it; routes get it through HttpDeps). */
export interface JobsApi {
  /** Validates, plans, and (unless dryRun) creates and dispatches. Invalid input → DomainError('invalid'); over quota → 'throttled'. */
  submit(actor: Actor, request: JobRequest): Promise<{ job: JobDetail | null; plan: JobPlan }>;
  list(actor: Actor, query: JobListQuery): Promise<JobPage>;
  get(actor: Actor, id: string): Promise<JobDetail>;
  tasks(actor: Actor, id: string): Promise<TaskView[]>;
  cancel(actor: Actor, id: string): Promise<JobView>;
  /** Cancels if open, removes the result files and the row. */
  remove(actor: Actor, id: string): Promise<void>;
  /**
   * Checks rights ('download') and the daily byte quota; records the download. `bytesServed(size)`
   * says how many of the file's bytes this request sends (a Range asks for part of it; HEAD for
   * none); the quota counts and records that many, clamped to 0..size. Default: the whole file.
   */
  download(actor: Actor, id: string, taskId?: string, bytesServed?: (size: number) => number): Promise<ResultFile>;
  analysis(actor: Actor, id: string): Promise<AnalysisReport>;
  /** The signed evidence manifest (compact JWS) and its decoded payload. */
  manifest(actor: Actor, id: string): Promise<{ jws: string; manifest: EvidenceManifest }>;
}

/** The evidence manifest's payload (signed as a JWS with the collector's Ed25519 key). */
export interface EvidenceManifest {
  type: 'pcapmesh.evidence';
  version: 1;
  job: string;
  name: string | null;
  requester: string;
  window: { from: string; to: string; fromNs: string; toNs: string };
  filter: string;
  submittedAt: string;
  completedAt: string;
  status: JobStatus;
  sensors: {
    sensor: string;
    task: string;
    status: TaskStatus;
    packets: number;
    bytes: number;
    fileBytes: number;
    sha256: string | null;
    truncated: string | null;
  }[];
  merged: { fileName: string; fileBytes: number; sha256: string; packets: number; duplicatesRemoved: number };
  software: { name: 'pcapmesh'; version: string };
}
