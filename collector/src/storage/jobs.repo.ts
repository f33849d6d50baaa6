/**
 * SQL of the `jobs` and `job_downloads` tables (sql/0006_jobs.sql); the tasks are in
 * job-tasks.repo.ts. Functions take a Queryable so they run alike on the Db and inside a
 * transaction. Rows come back camelCased with Dates; the domain turns them into views.
 *
 * State changes are guarded: `setJobStatus` moves a job only from the states the caller names, so
 * two actors (a cancel and the scheduler's merge) can never both win.
 */
import type { Db, Queryable } from './db.js';

export type JobStatusText = 'pending' | 'running' | 'merging' | 'complete' | 'partial' | 'failed' | 'cancelled';

export interface JobRow {
  id: string;
  name: string | null;
  /** Display name of the owner (username, or token:<label>). */
  owner: string;
  /** The owning principal's stable id (user:{id} / token:{id}); null for a job whose owner was gone when ids came (sql/0016). */
  ownerId: string | null;
  status: JobStatusText;
  statusReason: string | null;
  windowFrom: Date;
  windowTo: Date;
  /** Nanoseconds since the epoch as decimal strings (timestamptz holds only µs). */
  windowNs: { from: string; to: string };
  filter: unknown;
  filterExpression: string;
  targets: unknown;
  limits: { maxBytes: number; maxPackets: number; timeoutSeconds: number };
  plan: unknown;
  createdAt: Date;
  /** created_at as ISO 8601 with microseconds: the pagination cursor needs the exact value. */
  createdAtText: string;
  updatedAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  deadlineAt: Date;
  resultPath: string | null;
  resultFileBytes: number | null;
  resultSha256: string | null;
  resultPackets: number | null;
  resultBytes: number | null;
  duplicatesRemoved: number | null;
  expiresAt: Date | null;
  expiredAt: Date | null;
}

/** Per-job task tallies and the packets/bytes matched so far (results, else last progress). */
export interface JobTally {
  total: number;
  pending: number;
  running: number;
  done: number;
  failed: number;
  cancelled: number;
  skipped: number;
  packets: number;
  bytes: number;
}

export type JobWithTally = JobRow & { tally: JobTally };

export interface NewJob {
  id: string;
  name: string | null;
  owner: string;
  ownerId: string;
  /** ISO 8601 with microseconds. */
  windowFrom: string;
  windowTo: string;
  windowNs: { from: string; to: string };
  filter: unknown;
  filterExpression: string;
  targets: unknown;
  limits: JobRow['limits'];
  plan: unknown;
  createdAt: Date;
  deadlineAt: Date;
}

const isoMicros = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

const JOB_COLUMNS = `
  j.id, j.name, j.owner, j.owner_id AS "ownerId", j.status, j.status_reason AS "statusReason", j.window_from AS "windowFrom",
  j.window_to AS "windowTo", j.window_ns AS "windowNs", j.filter, j.filter_expression AS "filterExpression",
  j.targets, j.limits, j.plan, j.created_at AS "createdAt", ${isoMicros('j.created_at')} AS "createdAtText",
  j.updated_at AS "updatedAt", j.started_at AS "startedAt", j.finished_at AS "finishedAt", j.deadline_at AS "deadlineAt",
  j.result_path AS "resultPath", j.result_file_bytes AS "resultFileBytes", j.result_sha256 AS "resultSha256",
  j.result_packets AS "resultPackets", j.result_bytes AS "resultBytes", j.duplicates_removed AS "duplicatesRemoved",
  j.expires_at AS "expiresAt", j.expired_at AS "expiredAt"`;

const TALLY = `
  LEFT JOIN LATERAL (
    SELECT count(*)::int AS total,
           count(*) FILTER (WHERE t.status = 'pending')::int AS pending,
           count(*) FILTER (WHERE t.status IN ('accepted', 'waiting', 'scanning', 'uploading'))::int AS running,
           count(*) FILTER (WHERE t.status = 'done')::int AS done,
           count(*) FILTER (WHERE t.status = 'failed')::int AS failed,
           count(*) FILTER (WHERE t.status = 'cancelled')::int AS cancelled,
           count(*) FILTER (WHERE t.status = 'skipped')::int AS skipped,
           coalesce(sum(coalesce(t.result_packets, (t.progress->>'packets')::bigint, 0)), 0)::bigint AS packets,
           coalesce(sum(coalesce(t.result_bytes, (t.progress->>'bytes')::bigint, 0)), 0)::bigint AS bytes
      FROM job_tasks t WHERE t.job_id = j.id) tally ON true`;

const SELECT_WITH_TALLY = `SELECT ${JOB_COLUMNS}, to_jsonb(tally) AS tally FROM jobs j ${TALLY}`;

export async function insertJob(q: Queryable, job: NewJob): Promise<void> {
  await q.query(
    `INSERT INTO jobs (id, name, owner, window_from, window_to, window_ns, filter, filter_expression, targets, limits, plan,
                       created_at, updated_at, deadline_at, owner_id)
     VALUES ($1, $2, $3, $4::timestamptz, $5::timestamptz, $6::jsonb, $7::jsonb, $8, $9::jsonb, $10::jsonb, $11::jsonb, $12, $12, $13, $14)`,
    [
      job.id,
      job.name,
      job.owner,
      job.windowFrom,
      job.windowTo,
      JSON.stringify(job.windowNs),
      JSON.stringify(job.filter),
      job.filterExpression,
      JSON.stringify(job.targets),
      JSON.stringify(job.limits),
      JSON.stringify(job.plan),
      job.createdAt,
      job.deadlineAt,
      job.ownerId,
    ],
  );
}

export async function findJob(q: Queryable, id: string): Promise<JobWithTally | null> {
  if (!isUuid(id)) return null;
  const [row] = await q.query<JobWithTally>(`${SELECT_WITH_TALLY} WHERE j.id = $1`, [id]);
  return row ?? null;
}

export interface JobListFilter {
  status?: JobStatusText[];
  owner?: string;
  createdFrom?: Date;
  createdTo?: Date;
  /** Rows strictly after this (created_at, id) in newest-first order. */
  after?: { createdAt: string; id: string };
  limit: number;
}

/** Newest first, ordered by (created_at, id) descending; at most `limit` rows. */
export async function listJobs(q: Queryable, f: JobListFilter): Promise<JobWithTally[]> {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  if (f.status !== undefined && f.status.length > 0) where.push(`j.status = ANY(${param(f.status)}::text[])`);
  if (f.owner !== undefined) where.push(`j.owner = ${param(f.owner)}`);
  if (f.createdFrom !== undefined) where.push(`j.created_at >= ${param(f.createdFrom)}`);
  if (f.createdTo !== undefined) where.push(`j.created_at < ${param(f.createdTo)}`);
  if (f.after !== undefined) where.push(`(j.created_at, j.id) < (${param(f.after.createdAt)}::timestamptz, ${param(f.after.id)}::uuid)`);
  const sql = `${SELECT_WITH_TALLY} ${where.length > 0 ? `WHERE ${where.join(' AND ')}` : ''}
               ORDER BY j.created_at DESC, j.id DESC LIMIT ${param(f.limit)}`;
  return q.query<JobWithTally>(sql, params);
}

/** Jobs still pending, running or merging (what the scheduler looks at). */
export async function openJobs(q: Queryable): Promise<JobWithTally[]> {
  return q.query<JobWithTally>(`${SELECT_WITH_TALLY} WHERE j.status IN ('pending', 'running', 'merging') ORDER BY j.created_at, j.id`);
}

/** Open jobs of one principal, by its id (the per-user concurrent-jobs quota). */
export async function countOpenJobs(q: Queryable, ownerId: string): Promise<number> {
  const [row] = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM jobs WHERE owner_id = $1 AND status IN ('pending', 'running', 'merging')`, [
    ownerId,
  ]);
  return row?.n ?? 0;
}

/**
 * Moves a job to `to` when its status is one of `from`; sets started_at on running (once),
 * finished_at on a final state. Returns false when the job was not in one of `from` (someone else
 * moved it first) or does not exist.
 */
export async function setJobStatus(
  q: Queryable,
  id: string,
  change: { from: JobStatusText[]; to: JobStatusText; reason?: string | null; at: Date; final?: boolean },
): Promise<boolean> {
  const rows = await q.query(
    `UPDATE jobs SET status = $2, status_reason = $3, updated_at = $4,
            started_at = CASE WHEN $2 = 'running' THEN coalesce(started_at, $4) ELSE started_at END,
            finished_at = CASE WHEN $5 THEN $4 ELSE finished_at END
      WHERE id = $1 AND status = ANY($6::text[]) RETURNING id`,
    [id, change.to, change.reason ?? null, change.at, change.final ?? false, change.from],
  );
  return rows.length === 1;
}

/**
 * Takes the merge lease of a `merging` job for `holder` until `seconds` from now (the database's
 * clock, shared by every collector): when nobody holds it, `holder` already does, or the holder's
 * lease has expired (a crashed collector). False when another holder's lease is still running or
 * the job is not merging.
 */
export async function acquireMergeLease(q: Queryable, jobId: string, holder: string, seconds: number): Promise<boolean> {
  const rows = await q.query(
    `UPDATE jobs SET merge_holder = $2, merge_lease_until = clock_timestamp() + $3 * interval '1 second'
      WHERE id = $1 AND status = 'merging'
        AND (merge_holder IS NULL OR merge_holder = $2 OR merge_lease_until <= clock_timestamp()) RETURNING id`,
    [jobId, holder, seconds],
  );
  return rows.length === 1;
}

/**
 * A running (or pending) job whose tasks have all ended goes to `merging` with `holder`'s merge
 * lease taken, in one statement (setJobStatus + acquireMergeLease, one round trip fewer on the way
 * to the result). False when the job is no longer pending or running (another path moved it).
 */
export async function startMerge(q: Queryable, jobId: string, holder: string, seconds: number, at: Date): Promise<boolean> {
  const rows = await q.query(
    `UPDATE jobs SET status = 'merging', status_reason = NULL, updated_at = $4,
            merge_holder = $2, merge_lease_until = clock_timestamp() + $3 * interval '1 second'
      WHERE id = $1 AND status IN ('pending', 'running') RETURNING id`,
    [jobId, holder, seconds, at],
  );
  return rows.length === 1;
}

/**
 * Ends an open job in one statement: status `to` (final: finished_at = `at`), the reason, the
 * results' expiry, and — with `holder` — that holder's merge lease given up (what setJobStatus,
 * setJobExpiry and releaseMergeLease did in three). Guarded like setJobStatus: false when the job
 * is not in one of `from` (cancelled or ended meanwhile), and then nothing changes.
 */
export async function endJob(
  q: Queryable,
  id: string,
  change: { from: JobStatusText[]; to: JobStatusText; reason: string | null; at: Date; expiresAt: Date; holder?: string },
): Promise<boolean> {
  const rows = await q.query(
    `UPDATE jobs SET status = $2, status_reason = $3, updated_at = $4, finished_at = $4, expires_at = $5,
            merge_holder = CASE WHEN merge_holder = $7::text THEN NULL ELSE merge_holder END,
            merge_lease_until = CASE WHEN merge_holder = $7::text THEN NULL ELSE merge_lease_until END
      WHERE id = $1 AND status = ANY($6::text[]) RETURNING id`,
    [id, change.to, change.reason, change.at, change.expiresAt, change.from, change.holder ?? null],
  );
  return rows.length === 1;
}

/** Extends `holder`'s lease to `seconds` from now; false when it no longer holds it (it expired and another took it). */
export async function renewMergeLease(q: Queryable, jobId: string, holder: string, seconds: number): Promise<boolean> {
  const rows = await q.query(
    `UPDATE jobs SET merge_lease_until = clock_timestamp() + $3 * interval '1 second' WHERE id = $1 AND merge_holder = $2 RETURNING id`,
    [jobId, holder, seconds],
  );
  return rows.length === 1;
}

/** Gives the lease up (its merge ended); nothing when `holder` does not hold it. */
export async function releaseMergeLease(q: Queryable, jobId: string, holder: string): Promise<void> {
  await q.query('UPDATE jobs SET merge_holder = NULL, merge_lease_until = NULL WHERE id = $1 AND merge_holder = $2', [jobId, holder]);
}

/** Sets the expiry time of a finished job's results. */
export async function setJobExpiry(q: Queryable, id: string, expiresAt: Date): Promise<void> {
  await q.query('UPDATE jobs SET expires_at = $2 WHERE id = $1', [id, expiresAt]);
}

export async function deleteJob(q: Queryable, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const rows = await q.query('DELETE FROM jobs WHERE id = $1 RETURNING id', [id]);
  return rows.length === 1;
}

/** A download: who (principal id for the quota, display name for reports), of which job, when, how many bytes. */
export interface DownloadRecord {
  principal: string;
  username: string;
  jobId: string;
  bytes: number;
  at: Date;
}

/** Records a download for the per-user daily byte quota (no check: see `recordDownloadWithinQuota`). */
export async function insertDownload(q: Queryable, d: DownloadRecord): Promise<void> {
  await q.query('INSERT INTO job_downloads (principal, username, job_id, at, bytes) VALUES ($1, $2, $3, $4, $5)', [
    d.principal,
    d.username,
    d.jobId,
    d.at,
    d.bytes,
  ]);
}

/** Bytes the principal `principal` (its id) downloaded at or after `since`. */
export async function bytesDownloadedSince(q: Queryable, principal: string, since: Date): Promise<number> {
  const [row] = await q.query<{ n: number }>('SELECT coalesce(sum(bytes), 0)::bigint AS n FROM job_downloads WHERE principal = $1 AND at >= $2', [
    principal,
    since,
  ]);
  return row?.n ?? 0;
}

/** What `recordDownloadWithinQuota` did: recorded (with the bytes counted before it), or refused. */
export type DownloadQuotaOutcome = { recorded: true; usedBefore: number } | { recorded: false; usedBefore: number };

/**
 * Checks and counts a download in one step: records `d` only when the bytes the principal
 * `d.principal` downloaded since `quota.since` plus `d.bytes` stay within `quota.limit` (0 = no limit).
 *
 * Runs in one transaction under a per-principal transaction lock, and the check-and-insert is one
 * statement taken after the lock: two downloads of one user at once are counted one after the
 * other, so together they can never pass the limit (a check followed by a separate insert could).
 */
export async function recordDownloadWithinQuota(
  db: Pick<Db, 'transaction'>,
  d: DownloadRecord,
  quota: { limit: number; since: Date },
): Promise<DownloadQuotaOutcome> {
  return db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`downloads:${d.principal}`]);
    // A new statement after the lock: its snapshot sees what the previous holder committed.
    const rows = await tx.query<{ used: number; recorded: boolean }>(
      `WITH used AS (SELECT coalesce(sum(bytes), 0)::bigint AS n FROM job_downloads WHERE principal = $1 AND at >= $5),
            ins AS (INSERT INTO job_downloads (principal, username, job_id, at, bytes)
                    SELECT $1, $7, $2, $3, $4 FROM used WHERE $6::bigint = 0 OR used.n + $4::bigint <= $6::bigint
                    RETURNING 1)
       SELECT used.n AS used, EXISTS (SELECT 1 FROM ins) AS recorded FROM used`,
      [d.principal, d.jobId, d.at, d.bytes, quota.since, quota.limit, d.username],
    );
    const row = rows[0];
    return { recorded: row?.recorded === true, usedBefore: Number(row?.used ?? 0) } as DownloadQuotaOutcome;
  });
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Job ids are UUIDs; anything else cannot name a job (and must not reach a uuid cast). */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}

/** Serialises submits of one principal (by id) until the transaction ends (the concurrent-jobs quota). */
export async function lockOwner(q: Queryable, ownerId: string): Promise<void> {
  await q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`jobs:${ownerId}`]);
}

/** The stored analysis (AnalysisReport JSON) and signed manifest of a job; null when no such job. */
export async function jobAnalysisAndManifest(q: Queryable, id: string): Promise<{ analysis: unknown; manifest: string | null } | null> {
  if (!isUuid(id)) return null;
  const [row] = await q.query<{ analysis: unknown; manifest: string | null }>('SELECT analysis, manifest FROM jobs WHERE id = $1', [id]);
  return row ?? null;
}
