/**
 * SQL of task uploads and job results (docs/jobs.md "Upload", "Results directory"): the upload
 * columns of `job_tasks` (upload_size, upload_sha256, upload_received, upload_complete,
 * result_path, and the declared result_packets/result_bytes/truncated) and the result columns of
 * `jobs` (result_*, duplicates_removed, analysis, manifest, expires_at, expired_at). The task and job
 * lifecycle (status, attempts) is in job-tasks.repo.ts and jobs.repo.ts.
 *
 * `advanceUpload` is a compare-and-set on `upload_received`, so two writers of one task can never
 * both move it; paths are relative to `results.directory`.
 */
import type { Db, Queryable } from './db.js';

/** A task's upload as the upload service sees it. */
export interface UploadRow {
  taskId: string;
  jobId: string;
  sensor: string;
  status: string;
  size: number | null;
  sha256: string | null;
  received: number;
  complete: boolean;
  packets: number | null;
  bytes: number | null;
  truncated: 'max-bytes' | 'max-packets' | null;
  resultPath: string | null;
  /** The job's results were deleted by expiry. */
  jobExpired: boolean;
}

export interface UploadDeclaration {
  size: number;
  sha256: string;
  packets: number;
  bytes: number;
  truncated: 'max-bytes' | 'max-packets' | null;
}

const SELECT_UPLOAD = `
  SELECT t.id AS "taskId", t.job_id AS "jobId", t.sensor_name AS sensor, t.status, t.upload_size AS size,
         t.upload_sha256 AS sha256, t.upload_received AS received, t.upload_complete AS complete,
         t.result_packets AS packets, t.result_bytes AS bytes, t.truncated, t.result_path AS "resultPath",
         (j.expired_at IS NOT NULL) AS "jobExpired"
    FROM job_tasks t JOIN jobs j ON j.id = t.job_id`;

export async function findUpload(q: Queryable, taskId: string): Promise<UploadRow | null> {
  const [row] = await q.query<UploadRow>(`${SELECT_UPLOAD} WHERE t.id = $1`, [taskId]);
  return row ?? null;
}

/** Uploads that reached their size but were not finished (a crash between the last chunk and its check), or finished ones whose task is not done yet. */
export async function unfinishedUploads(q: Queryable): Promise<UploadRow[]> {
  return q.query<UploadRow>(
    `${SELECT_UPLOAD}
      WHERE j.expired_at IS NULL AND t.upload_size IS NOT NULL
        AND ((NOT t.upload_complete AND t.upload_received = t.upload_size)
             OR (t.upload_complete AND t.status IN ('pending', 'accepted', 'waiting', 'scanning', 'uploading')))
      ORDER BY t.id`,
  );
}

/** Records a (new) declaration: the upload starts over from 0. The declared counts go to result_*; they are the result once complete. */
export async function declareUpload(q: Queryable, taskId: string, d: UploadDeclaration, at: Date): Promise<void> {
  await q.query(
    `UPDATE job_tasks SET upload_size = $2, upload_sha256 = $3, upload_received = 0, upload_complete = false, result_path = NULL,
            result_packets = $4, result_bytes = $5, truncated = $6, last_progress_at = $7
      WHERE id = $1`,
    [taskId, d.size, d.sha256, d.packets, d.bytes, d.truncated, at],
  );
}

/**
 * Moves `received` from `from` to `to`; false when another writer moved it first, or the task was
 * closed (failed, cancelled, skipped) or deleted meanwhile (nothing changed).
 */
export async function advanceUpload(q: Queryable, taskId: string, from: number, to: number, at: Date): Promise<boolean> {
  const rows = await q.query(
    `UPDATE job_tasks SET upload_received = $3, last_progress_at = $4
      WHERE id = $1 AND upload_received = $2 AND NOT upload_complete AND upload_size >= $3
        AND status NOT IN ('failed', 'cancelled', 'skipped') RETURNING id`,
    [taskId, from, to, at],
  );
  return rows.length === 1;
}

/** Back to 0 with the same declaration (a whole-file mismatch), or with none (`forget`: the file is gone). */
export async function resetUpload(q: Queryable, taskId: string, forget: boolean): Promise<void> {
  await q.query(
    `UPDATE job_tasks SET upload_received = 0, upload_complete = false, result_path = NULL,
            upload_size = CASE WHEN $2::boolean THEN NULL ELSE upload_size END,
            upload_sha256 = CASE WHEN $2::boolean THEN NULL ELSE upload_sha256 END
      WHERE id = $1`,
    [taskId, forget],
  );
}

/** Marks the upload verified, with its result file. */
export async function completeUpload(q: Queryable, taskId: string, resultPath: string, at: Date): Promise<void> {
  await q.query(`UPDATE job_tasks SET upload_complete = true, upload_received = upload_size, result_path = $2, last_progress_at = $3 WHERE id = $1`, [
    taskId,
    resultPath,
    at,
  ]);
}

/**
 * Bytes the results directory holds or has promised, for results.maxBytes, over jobs not expired
 * (deleted jobs have no rows): the declared size of every upload that is complete or whose task is
 * still open (a reservation), only the bytes received of an incomplete upload whose task ended
 * (failed, cancelled: the rest of its reservation is released), and every merged file — leaving
 * out the task `exceptTask` (whose declaration is being replaced).
 */
export async function resultBytesInUse(q: Queryable, exceptTask: string | null): Promise<number> {
  const [row] = await q.query<{ used: number }>(
    `SELECT (SELECT coalesce(sum(CASE WHEN t.upload_complete OR t.status IN ('pending', 'accepted', 'waiting', 'scanning', 'uploading')
                                      THEN t.upload_size ELSE t.upload_received END), 0)
               FROM job_tasks t JOIN jobs j ON j.id = t.job_id
              WHERE j.expired_at IS NULL AND t.upload_size IS NOT NULL AND ($1::text IS NULL OR t.id <> $1))
          + (SELECT coalesce(sum(result_file_bytes), 0) FROM jobs WHERE expired_at IS NULL) AS used`,
    [exceptTask],
  );
  return Number(row?.used ?? 0);
}

/** What `reserveUpload` did: the declaration is recorded (its size reserved), or refused over the quota. */
export interface UploadReservation {
  reserved: boolean;
  /** Bytes in use (resultBytesInUse) before this declaration. */
  used: number;
}

/**
 * Records a (new) declaration of `taskId` only when `resultBytesInUse` plus its size stays within
 * `maxBytes`, as one step: one transaction under the results-quota lock, so two declarations at
 * once are checked one after the other and can never both pass a quota only one fits in.
 */
export async function reserveUpload(db: Pick<Db, 'transaction'>, taskId: string, d: UploadDeclaration, maxBytes: number, at: Date): Promise<UploadReservation> {
  return db.transaction(async (tx) => {
    await tx.query("SELECT pg_advisory_xact_lock(hashtext('results-quota'))");
    const used = await resultBytesInUse(tx, taskId);
    if (used + d.size > maxBytes) return { reserved: false, used };
    await declareUpload(tx, taskId, d, at);
    return { reserved: true, used };
  });
}

// ─── jobs: merge results, expiry ─────────────────────────────────────────────────────────────────

/** What the merge and the manifest need of a job. */
export interface ResultJobRow {
  id: string;
  name: string | null;
  owner: string;
  status: string;
  windowFrom: Date;
  windowTo: Date;
  windowNs: { from: string; to: string };
  filterExpression: string;
  createdAt: Date;
  resultPath: string | null;
  resultFileBytes: number | null;
  resultSha256: string | null;
  resultPackets: number | null;
  resultBytes: number | null;
  duplicatesRemoved: number | null;
  manifest: string | null;
  expiresAt: Date | null;
  expiredAt: Date | null;
}

export interface ResultTaskRow {
  id: string;
  sensor: string;
  status: string;
  packets: number | null;
  bytes: number | null;
  fileBytes: number | null;
  sha256: string | null;
  truncated: string | null;
  complete: boolean;
  resultPath: string | null;
}

export async function findResultJob(q: Queryable, jobId: string): Promise<ResultJobRow | null> {
  const [row] = await q.query<ResultJobRow>(
    `SELECT id, name, owner, status, window_from AS "windowFrom", window_to AS "windowTo", window_ns AS "windowNs",
            filter_expression AS "filterExpression", created_at AS "createdAt", result_path AS "resultPath",
            result_file_bytes AS "resultFileBytes", result_sha256 AS "resultSha256", result_packets AS "resultPackets",
            result_bytes AS "resultBytes", duplicates_removed AS "duplicatesRemoved", manifest,
            expires_at AS "expiresAt", expired_at AS "expiredAt"
       FROM jobs WHERE id = $1`,
    [jobId],
  );
  return row ?? null;
}

export async function listResultTasks(q: Queryable, jobId: string): Promise<ResultTaskRow[]> {
  return q.query<ResultTaskRow>(
    `SELECT id, sensor_name AS sensor, status, result_packets AS packets, result_bytes AS bytes, upload_size AS "fileBytes",
            upload_sha256 AS sha256, truncated, upload_complete AS complete, result_path AS "resultPath"
       FROM job_tasks WHERE job_id = $1 ORDER BY sensor_name`,
    [jobId],
  );
}

export interface MergeResultRow {
  resultPath: string | null;
  fileBytes: number;
  sha256: string | null;
  packets: number;
  bytes: number;
  duplicatesRemoved: number;
  /** AnalysisReport as JSON, or null (no merged file). */
  analysis: unknown;
  manifest: string;
  expiresAt: Date;
}

/**
 * Stores a merge's result on the job; false (nothing stored) when the job is gone or no longer open
 * (cancelled while it merged), or — given `holder` — when that holder no longer holds the job's
 * merge lease (it expired and another collector took it over).
 */
export async function storeMergeResult(q: Queryable, jobId: string, r: MergeResultRow, holder?: string): Promise<boolean> {
  const rows = await q.query(
    `UPDATE jobs SET result_path = $2, result_file_bytes = $3, result_sha256 = $4, result_packets = $5, result_bytes = $6,
            duplicates_removed = $7, analysis = $8::jsonb, manifest = $9, expires_at = $10, updated_at = now()
      WHERE id = $1 AND status IN ('pending', 'running', 'merging') AND ($11::text IS NULL OR merge_holder = $11) RETURNING id`,
    [
      jobId,
      r.resultPath,
      r.fileBytes,
      r.sha256,
      r.packets,
      r.bytes,
      r.duplicatesRemoved,
      r.analysis === null ? null : JSON.stringify(r.analysis),
      r.manifest,
      r.expiresAt,
      holder ?? null,
    ],
  );
  return rows.length === 1;
}

/** Jobs whose results expired at `now` and are not yet marked so. */
export async function expiredJobIds(q: Queryable, now: Date): Promise<{ id: string; owner: string; expiresAt: Date }[]> {
  return q.query(`SELECT id, owner, expires_at AS "expiresAt" FROM jobs WHERE expires_at <= $1 AND expired_at IS NULL ORDER BY expires_at, id`, [now]);
}

/** Marks the job's results deleted: paths cleared, the metadata (hashes, counts, manifest) kept. */
export async function markExpired(q: Queryable, jobId: string, at: Date): Promise<void> {
  await q.query(`UPDATE jobs SET expired_at = $2, result_path = NULL, updated_at = now() WHERE id = $1`, [jobId, at]);
  await q.query(`UPDATE job_tasks SET result_path = NULL WHERE job_id = $1`, [jobId]);
}
