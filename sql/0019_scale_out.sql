-- Several collectors on one PostgreSQL (issue 16, docs/operations.md "Several collectors").
-- Runs on PostgreSQL 15 and PGlite (PostgreSQL 18): nothing newer than PostgreSQL 15.

-- A job's lease (docs/jobs.md "Job lease"): the one collector that dispatches a job, retries its
-- stalled tasks, ends it at its deadline and starts its merge. Taken when free or expired, renewed
-- by every jobs tick of its holder; a dead holder's lease expires and another collector takes it.
ALTER TABLE jobs ADD COLUMN lease_holder text;
ALTER TABLE jobs ADD COLUMN lease_until timestamptz;

-- Periodic work run once per interval across collectors (domain/maintenance/periodic.ts): the
-- collector whose claim finds the run due (next_due_at passed) and not running (lease_until passed
-- or cleared) runs it; next_due_at moves one interval on at the claim.
CREATE TABLE periodic_runs (
  name         text PRIMARY KEY,
  holder       text NOT NULL,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz,
  -- While the run is in progress (cleared when it ends; a dead holder's expires).
  lease_until  timestamptz,
  next_due_at  timestamptz NOT NULL
);

-- What the collectors on this database share: its identity, and the marker of the one results
-- directory they must all use (domain/maintenance/cluster.service.ts).
CREATE TABLE cluster_identity (
  singleton      boolean PRIMARY KEY DEFAULT true CHECK (singleton),
  id             text NOT NULL,
  -- The random value written in `<results.directory>/.pcapmesh-cluster` by the first collector.
  results_marker text,
  created_at     timestamptz NOT NULL DEFAULT now()
);
INSERT INTO cluster_identity (id) VALUES (gen_random_uuid()::text);
