/**
 * SQL of several collectors on one database (sql/0019_scale_out.sql): job leases, periodic-run
 * claims and the cluster's identity. Every lease time is the database's clock
 * (`clock_timestamp()`), the one clock every collector shares.
 */
import type { Queryable } from './db.types.js';

const OPEN_JOB = `status IN ('pending', 'running', 'merging')`;

/**
 * Takes or renews `holder`'s lease on one open job until `seconds` from now: when nobody holds
 * it, `holder` already does, or the holder's lease has expired. False when another holder's lease
 * is still running or the job is not open.
 */
export async function claimJobLease(q: Queryable, jobId: string, holder: string, seconds: number): Promise<boolean> {
  const rows = await q.query(
    `UPDATE jobs SET lease_holder = $2, lease_until = clock_timestamp() + $3 * interval '1 second'
      WHERE id = $1 AND ${OPEN_JOB}
        AND (lease_holder IS NULL OR lease_holder = $2 OR lease_until <= clock_timestamp()) RETURNING id`,
    [jobId, holder, seconds],
  );
  return rows.length === 1;
}

/** A job whose lease `holder` holds after claimOpenJobLeases, and who held it before (null: nobody). */
export interface ClaimedJob {
  id: string;
  previous: string | null;
}

/**
 * Renews every lease `holder` holds on an open job and takes those that are free or expired, in
 * one statement. Rows another collector is claiming at this moment are skipped (SKIP LOCKED), so
 * two collectors never both get one job. Returns every job held now.
 */
export async function claimOpenJobLeases(q: Queryable, holder: string, seconds: number): Promise<ClaimedJob[]> {
  return q.query<ClaimedJob>(
    `WITH c AS (
       SELECT id, lease_holder AS previous FROM jobs
        WHERE ${OPEN_JOB} AND (lease_holder IS NULL OR lease_holder = $1 OR lease_until <= clock_timestamp())
        FOR UPDATE SKIP LOCKED)
     UPDATE jobs j SET lease_holder = $1, lease_until = clock_timestamp() + $2 * interval '1 second'
       FROM c WHERE j.id = c.id RETURNING j.id, c.previous`,
    [holder, seconds],
  );
}

/**
 * Gives up every open job's lease held by someone other than `except` (PGlite at start: only one
 * process can open its database, so any other holder is a previous, dead run). Returns the count.
 */
export async function releaseOtherJobLeases(q: Queryable, except: string): Promise<number> {
  const rows = await q.query(
    `UPDATE jobs SET lease_holder = NULL, lease_until = NULL WHERE ${OPEN_JOB} AND lease_holder IS NOT NULL AND lease_holder <> $1 RETURNING id`,
    [except],
  );
  return rows.length;
}

/** Who holds an open job's lease while it runs (null: nobody, or it expired). */
export async function jobLeaseHolder(q: Queryable, jobId: string): Promise<string | null> {
  const [row] = await q.query<{ holder: string | null }>(
    `SELECT CASE WHEN lease_until > clock_timestamp() THEN lease_holder END AS holder FROM jobs WHERE id = $1`,
    [jobId],
  );
  return row?.holder ?? null;
}

/**
 * Claims the run of periodic work `name` for `holder` when it is due and no run is in progress
 * (or the one in progress outlived `leaseSeconds`: its holder died). On success the next run is
 * due `intervalSeconds` from now. Concurrent claims serialise on the row: exactly one wins.
 */
export async function claimPeriodicRun(q: Queryable, name: string, holder: string, intervalSeconds: number, leaseSeconds: number): Promise<boolean> {
  const rows = await q.query(
    `INSERT INTO periodic_runs AS r (name, holder, started_at, finished_at, lease_until, next_due_at)
     VALUES ($1, $2, clock_timestamp(), NULL, clock_timestamp() + $4 * interval '1 second', clock_timestamp() + $3 * interval '1 second')
     ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, started_at = excluded.started_at, finished_at = NULL,
            lease_until = excluded.lease_until, next_due_at = excluded.next_due_at
      WHERE r.next_due_at <= clock_timestamp() AND (r.lease_until IS NULL OR r.lease_until <= clock_timestamp())
     RETURNING name`,
    [name, holder, intervalSeconds, leaseSeconds],
  );
  return rows.length === 1;
}

/** Ends `holder`'s run of `name` (clears its lease); nothing when the run is no longer its own. */
export async function finishPeriodicRun(q: Queryable, name: string, holder: string): Promise<void> {
  await q.query(`UPDATE periodic_runs SET finished_at = clock_timestamp(), lease_until = NULL WHERE name = $1 AND holder = $2`, [name, holder]);
}

export interface PeriodicRunRow {
  name: string;
  holder: string;
  startedAt: Date;
  finishedAt: Date | null;
  nextDueAt: Date;
}

/** Every periodic work's last run, by name. */
export async function listPeriodicRuns(q: Queryable): Promise<PeriodicRunRow[]> {
  return q.query<PeriodicRunRow>(
    `SELECT name, holder, started_at AS "startedAt", finished_at AS "finishedAt", next_due_at AS "nextDueAt" FROM periodic_runs ORDER BY name`,
  );
}

export interface ClusterIdentityRow {
  id: string;
  resultsMarker: string | null;
}

/** The database's cluster identity (created by sql/0019). */
export async function clusterIdentity(q: Queryable): Promise<ClusterIdentityRow> {
  const [row] = await q.query<ClusterIdentityRow>(`SELECT id, results_marker AS "resultsMarker" FROM cluster_identity`);
  if (!row) throw new Error('cluster_identity has no row (sql/0019_scale_out.sql not applied?)');
  return row;
}

/** Records the results directory's marker when none is recorded yet; false when another collector recorded one first. */
export async function recordResultsMarker(q: Queryable, marker: string): Promise<boolean> {
  const rows = await q.query(`UPDATE cluster_identity SET results_marker = $1 WHERE results_marker IS NULL RETURNING id`, [marker]);
  return rows.length === 1;
}

/** Replaces the recorded marker (PGlite: this collector alone uses the database and its results directory). */
export async function setResultsMarker(q: Queryable, marker: string): Promise<void> {
  await q.query('UPDATE cluster_identity SET results_marker = $1', [marker]);
}
