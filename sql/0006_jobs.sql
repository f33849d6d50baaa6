-- Capture jobs: a job is an analyst's question (window, filter, targets); a task is one sensor's
-- share of it; an upload is a task's result file arriving in chunks (docs/jobs.md).
-- Runs on PostgreSQL 15 and PGlite (PostgreSQL 18): nothing newer than PostgreSQL 15.

CREATE TABLE jobs (
  id               uuid PRIMARY KEY,
  name             text CHECK (length(name) BETWEEN 1 AND 256),
  -- Username (or "token:<name>") of who submitted it; ownership checks compare with the actor's name.
  owner            text NOT NULL,
  status           text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'running', 'merging', 'complete', 'partial', 'failed', 'cancelled')),
  -- Why it is partial, failed or cancelled: names each sensor that failed or was skipped.
  status_reason    text,
  -- [window_from, window_to) with the nanoseconds of the request kept beside (timestamptz holds µs).
  window_from      timestamptz NOT NULL,
  window_to        timestamptz NOT NULL,
  window_ns        jsonb NOT NULL,
  -- The filter as submitted ({expression} or the structured form) and its canonical expression,
  -- which is what the sensors run.
  filter           jsonb NOT NULL,
  filter_expression text NOT NULL,
  targets          jsonb NOT NULL,
  -- {maxBytes, maxPackets, timeoutSeconds} after defaults and ceilings.
  limits           jsonb NOT NULL,
  -- The plan as returned by submit: per sensor coverage, bytes to read, estimate.
  plan             jsonb NOT NULL DEFAULT '{}'::jsonb,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  started_at       timestamptz,
  finished_at      timestamptz,
  -- The overall timeout: a job still open then ends with what it has.
  deadline_at      timestamptz NOT NULL,
  -- The merged capture (results directory, relative path) and what it holds.
  result_path      text,
  result_file_bytes bigint,
  result_sha256    text,
  result_packets   bigint,
  result_bytes     bigint,
  duplicates_removed bigint,
  -- The library's analysis of the merged capture (AnalysisReport as JSON).
  analysis         jsonb,
  -- Evidence manifest: compact JWS (EdDSA) over the manifest JSON.
  manifest         text,
  -- Results are deleted after this time (results.expiryDays); the row stays, marked expired.
  expires_at       timestamptz,
  expired_at       timestamptz,
  CHECK (window_to > window_from)
);
CREATE INDEX jobs_created_idx ON jobs (created_at DESC, id DESC);
CREATE INDEX jobs_owner_created_idx ON jobs (owner, created_at DESC, id DESC);
-- Open jobs are what the scheduler looks at after a restart and on every tick.
CREATE INDEX jobs_open_idx ON jobs (status) WHERE status IN ('pending', 'running', 'merging');

CREATE TABLE job_tasks (
  -- Also the MQTT topic level: sensors/{sensor}/tasks/{id} (shared/src/wire/topics.ts isValidTaskId).
  id               text PRIMARY KEY CHECK (id ~ '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$'),
  job_id           uuid NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
  sensor_id        bigint REFERENCES sensors (id) ON DELETE SET NULL,
  sensor_name      text NOT NULL,
  status           text NOT NULL DEFAULT 'pending'
                   CHECK (status IN ('pending', 'accepted', 'waiting', 'scanning', 'uploading', 'done', 'failed', 'cancelled', 'skipped')),
  -- Why it failed, was cancelled or skipped, as the agent or the collector said it.
  reason           text,
  -- Dispatch attempts: 0 for the first; a re-sent task carries attempt + 1 and older statuses are ignored.
  attempt          integer NOT NULL DEFAULT 0,
  dispatched_at    timestamptz,
  -- Last status or progress from the agent (or upload chunk): the no-progress timeout counts from here.
  last_progress_at timestamptz,
  -- Envelope seq of the last status applied (older ones are ignored).
  last_seq         bigint,
  wait_until       timestamptz,
  progress         jsonb,
  started_at       timestamptz,
  finished_at      timestamptz,
  result_packets   bigint,
  result_bytes     bigint,
  truncated        text CHECK (truncated IN ('max-bytes', 'max-packets')),
  -- The upload: declared size and SHA-256, bytes acknowledged so far, verified when complete.
  upload_size      bigint,
  upload_sha256    text,
  upload_received  bigint NOT NULL DEFAULT 0,
  upload_complete  boolean NOT NULL DEFAULT false,
  -- The result file (results directory, relative path) once complete.
  result_path      text,
  UNIQUE (job_id, sensor_name)
);
CREATE INDEX job_tasks_job_idx ON job_tasks (job_id);
-- On a sensor's birth the collector re-sends its unfinished tasks.
CREATE INDEX job_tasks_open_idx ON job_tasks (sensor_name) WHERE status IN ('pending', 'accepted', 'waiting', 'scanning', 'uploading');

-- Bytes each user downloaded, for the per-user daily quota (jobs.quota.bytesPerDay).
CREATE TABLE job_downloads (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  username  text NOT NULL,
  job_id    uuid,
  at        timestamptz NOT NULL DEFAULT now(),
  bytes     bigint NOT NULL CHECK (bytes >= 0)
);
CREATE INDEX job_downloads_user_at_idx ON job_downloads (username, at);
