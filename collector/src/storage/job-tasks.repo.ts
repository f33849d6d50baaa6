/**
 * SQL of the `job_tasks` table (sql/0006_jobs.sql): one row per (job, sensor).
 *
 * Every change is a guarded UPDATE: it names the attempt and the states the task may be in, so a
 * status of an older attempt, a replayed message or a state that would move backwards changes
 * nothing (and the caller learns so from the `false`/`null` it gets back).
 */
import type { Queryable } from './db.js';

export type TaskStatusText = 'pending' | 'accepted' | 'waiting' | 'scanning' | 'uploading' | 'done' | 'failed' | 'cancelled' | 'skipped';

export const OPEN_TASK_STATES: readonly TaskStatusText[] = ['pending', 'accepted', 'waiting', 'scanning', 'uploading'];

export interface TaskRow {
  id: string;
  jobId: string;
  sensorName: string;
  status: TaskStatusText;
  reason: string | null;
  attempt: number;
  dispatchedAt: Date | null;
  lastProgressAt: Date | null;
  lastSeq: number | null;
  waitUntil: Date | null;
  progress: Record<string, number> | null;
  startedAt: Date | null;
  finishedAt: Date | null;
  resultPackets: number | null;
  resultBytes: number | null;
  truncated: 'max-bytes' | 'max-packets' | null;
  uploadSize: number | null;
  uploadSha256: string | null;
  uploadReceived: number;
  uploadComplete: boolean;
  resultPath: string | null;
}

export interface NewTask {
  id: string;
  jobId: string;
  sensorName: string;
  status: 'pending' | 'skipped';
  reason: string | null;
  at: Date;
}

const SELECT_TASK = `
  SELECT id, job_id AS "jobId", sensor_name AS "sensorName", status, reason, attempt, dispatched_at AS "dispatchedAt",
         last_progress_at AS "lastProgressAt", last_seq AS "lastSeq", wait_until AS "waitUntil", progress,
         started_at AS "startedAt", finished_at AS "finishedAt", result_packets AS "resultPackets",
         result_bytes AS "resultBytes", truncated, upload_size AS "uploadSize", upload_sha256 AS "uploadSha256",
         upload_received AS "uploadReceived", upload_complete AS "uploadComplete", result_path AS "resultPath"
    FROM job_tasks`;

/** Inserts the tasks; sensor_id is looked up by name (null when the sensor is gone). */
export async function insertTasks(q: Queryable, tasks: NewTask[]): Promise<void> {
  for (const t of tasks) {
    const final = t.status === 'skipped';
    await q.query(
      `INSERT INTO job_tasks (id, job_id, sensor_id, sensor_name, status, reason, finished_at)
       VALUES ($1, $2, (SELECT id FROM sensors WHERE name = $3), $3, $4, $5, $6)`,
      [t.id, t.jobId, t.sensorName, t.status, t.reason, final ? t.at : null],
    );
  }
}

export async function findTask(q: Queryable, id: string): Promise<TaskRow | null> {
  const [row] = await q.query<TaskRow>(`${SELECT_TASK} WHERE id = $1`, [id]);
  return row ?? null;
}

export async function listTasks(q: Queryable, jobId: string): Promise<TaskRow[]> {
  return q.query<TaskRow>(`${SELECT_TASK} WHERE job_id = $1 ORDER BY sensor_name`, [jobId]);
}

/** Unfinished tasks of a sensor, oldest job first (re-sent when the sensor comes online). */
export async function openTasksOfSensor(q: Queryable, sensor: string): Promise<TaskRow[]> {
  return q.query<TaskRow>(`${SELECT_TASK} WHERE sensor_name = $1 AND status = ANY($2::text[]) ORDER BY dispatched_at NULLS FIRST, id`, [
    sensor,
    OPEN_TASK_STATES,
  ]);
}

/** Unfinished tasks whose sensor is online (the no-progress check), with the sensor's status. */
export async function openTasksOfOnlineSensors(q: Queryable): Promise<TaskRow[]> {
  return q.query<TaskRow>(
    `${SELECT_TASK} WHERE status = ANY($1::text[])
        AND sensor_name IN (SELECT name FROM sensors WHERE status IN ('online', 'degraded'))
      ORDER BY id`,
    [OPEN_TASK_STATES],
  );
}

/**
 * Records a (re-)dispatch: the task becomes `pending` at `attempt`, its agent-side progress is
 * forgotten, and the no-progress clock restarts. Only while the task is open and its attempt is
 * not newer than `attempt`. Returns the updated row, or null.
 */
export async function markDispatched(q: Queryable, id: string, attempt: number, at: Date): Promise<TaskRow | null> {
  const [row] = await q.query<TaskRow>(
    `UPDATE job_tasks SET status = CASE WHEN attempt = $2 THEN status ELSE 'pending' END,
            reason = CASE WHEN attempt = $2 THEN reason ELSE NULL END,
            progress = CASE WHEN attempt = $2 THEN progress ELSE NULL END,
            wait_until = CASE WHEN attempt = $2 THEN wait_until ELSE NULL END,
            attempt = $2, dispatched_at = $3, last_progress_at = $3
      WHERE id = $1 AND attempt <= $2 AND status = ANY($4::text[])
      RETURNING id`,
    [id, attempt, at, OPEN_TASK_STATES],
  );
  return row ? findTask(q, id) : null;
}

/** Puts a failed task back to `pending` at a new attempt (a transient failure being retried). */
export async function reopenForRetry(q: Queryable, id: string, fromAttempt: number, at: Date): Promise<boolean> {
  const rows = await q.query(
    `UPDATE job_tasks SET status = 'pending', reason = NULL, progress = NULL, wait_until = NULL, finished_at = NULL,
            attempt = $2 + 1, dispatched_at = $3, last_progress_at = $3, last_seq = NULL
      WHERE id = $1 AND attempt = $2 AND status IN ('failed', 'pending', 'accepted', 'waiting', 'scanning', 'uploading')
      RETURNING id`,
    [id, fromAttempt, at],
  );
  return rows.length === 1;
}

export interface StatusChange {
  id: string;
  /** Applied only to this attempt. */
  attempt: number;
  /** Applied only while the task is in one of these states (forward-only). */
  from: readonly TaskStatusText[];
  to: TaskStatusText;
  at: Date;
  /** Envelope seq of the agent's message: applied only when newer than the last applied one. */
  seq?: number;
  reason?: string | null;
  waitUntil?: Date | null;
  progress?: Record<string, number> | null;
  result?: { packets: number; bytes: number; truncated: 'max-bytes' | 'max-packets' | null } | null;
}

/**
 * Applies a status change when the guards hold (attempt, from-states, seq). Sets started_at when
 * scanning begins, finished_at on a final state. Returns the updated row, or null when a guard
 * refused it.
 */
export async function applyTaskStatus(q: Queryable, c: StatusChange, final: boolean): Promise<TaskRow | null> {
  const [row] = await q.query<{ id: string }>(
    `UPDATE job_tasks SET status = $4, last_progress_at = $5,
            last_seq = coalesce($6, last_seq),
            reason = CASE WHEN $7::boolean THEN $8 ELSE reason END,
            wait_until = CASE WHEN $9::boolean THEN $10::timestamptz ELSE wait_until END,
            progress = CASE WHEN $11::boolean THEN $12::jsonb ELSE progress END,
            result_packets = CASE WHEN $13::boolean THEN $14::bigint ELSE result_packets END,
            result_bytes = CASE WHEN $13::boolean THEN $15::bigint ELSE result_bytes END,
            truncated = CASE WHEN $13::boolean THEN $16 ELSE truncated END,
            started_at = CASE WHEN $4 IN ('scanning', 'uploading', 'done') THEN coalesce(started_at, $5) ELSE started_at END,
            finished_at = CASE WHEN $17::boolean THEN $5 ELSE finished_at END
      WHERE id = $1 AND attempt = $2 AND status = ANY($3::text[])
        AND ($6::bigint IS NULL OR last_seq IS NULL OR last_seq < $6::bigint)
      RETURNING id`,
    [
      c.id,
      c.attempt,
      c.from,
      c.to,
      c.at,
      c.seq ?? null,
      c.reason !== undefined,
      c.reason ?? null,
      c.waitUntil !== undefined,
      c.waitUntil ?? null,
      c.progress !== undefined,
      c.progress === undefined || c.progress === null ? null : JSON.stringify(c.progress),
      c.result !== undefined && c.result !== null,
      c.result?.packets ?? null,
      c.result?.bytes ?? null,
      c.result?.truncated ?? null,
      final,
    ],
  );
  return row ? findTask(q, c.id) : null;
}

/** Final states for every open task of a job (cancel, deadline); returns the tasks changed. */
export async function closeOpenTasks(q: Queryable, jobId: string, change: { to: 'cancelled' | 'failed'; reason: string; at: Date }): Promise<TaskRow[]> {
  const ids = await q.query<{ id: string }>(
    `UPDATE job_tasks SET status = $2, reason = $3, finished_at = $4
      WHERE job_id = $1 AND status = ANY($5::text[]) RETURNING id`,
    [jobId, change.to, change.reason, change.at, OPEN_TASK_STATES],
  );
  if (ids.length === 0) return [];
  return q.query<TaskRow>(`${SELECT_TASK} WHERE id = ANY($1::text[]) ORDER BY sensor_name`, [ids.map((r) => r.id)]);
}
