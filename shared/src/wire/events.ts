/**
 * JSON events published under `pcapmesh/v1/events/` for integrations. Stable field names; new
 * fields may be added, none removed without a new topic version.
 */
export interface SensorStatusEvent {
  type: 'sensor.status';
  sensor: string;
  status: 'online' | 'offline' | 'degraded';
  previous: 'online' | 'offline' | 'degraded' | 'unknown';
  reason: string;
  /** ISO 8601 time of the transition (collector clock). */
  at: string;
}

export const JOB_STATUSES = ['pending', 'running', 'merging', 'complete', 'partial', 'failed', 'cancelled'] as const;
export type JobStatus = (typeof JOB_STATUSES)[number];

/**
 * A job's life on `events/jobs/{jobId}/status` (docs/jobs.md): `submitted` once, `running` when its
 * tasks are dispatched, `progress` as tasks move (at most once a second per job), then one of
 * `complete` (with the merged file's size and SHA-256), `partial`, `failed`, `cancelled`.
 */
export interface JobStatusEvent {
  type: 'job.status';
  job: string;
  /** What happened: the new state, or `submitted` / `progress`. */
  event: 'submitted' | 'progress' | JobStatus;
  status: JobStatus;
  /** The owner's name (username, or token:<label>): for display. */
  owner: string;
  /** The owning principal, `user:{id}` or `token:{id}` (GET /me's `id`); null once that principal is gone. Ownership is by it. */
  ownerId: string | null;
  name: string | null;
  window: { from: string; to: string };
  tasks: { total: number; done: number; failed: number; running: number };
  /** Packets matched so far (progress) or merged (complete, partial). */
  packets: number;
  bytes: number;
  /** With complete and partial: the merged capture. */
  result?: { fileBytes: number; sha256: string; packets: number };
  /** With partial and failed: why, naming each sensor that failed or was skipped. */
  reason?: string;
  at: string;
}

export type PcapmeshEvent = SensorStatusEvent | JobStatusEvent;
