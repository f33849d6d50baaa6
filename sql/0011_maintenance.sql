-- Maintenance log and the status history as a time series (issue 11).
-- Runs on PostgreSQL 15 and PGlite (PostgreSQL 18): nothing newer than PostgreSQL 15.

-- Every operation of the partition manager (storage/partitions.ts), read by GET /admin/maintenance.
-- Replaces partition_operations (its rows are carried over as successful operations).
CREATE TABLE maintenance_operations (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  -- When the operation started.
  at             timestamptz NOT NULL DEFAULT now(),
  table_name     text NOT NULL,
  partition_name text NOT NULL,
  action         text NOT NULL CHECK (action IN ('create', 'drop', 'move-from-default', 'purge-default')),
  range_from     timestamptz,
  range_to       timestamptz,
  -- Rows moved or purged (exact), or dropped with the partition (the planner's estimate; NULL
  -- when the partition was never analysed); NULL for create.
  rows           bigint,
  -- Bytes a dropped partition took on disk (table, indexes, TOAST); NULL for the other actions.
  bytes          bigint,
  outcome        text NOT NULL CHECK (outcome IN ('ok', 'failed')),
  -- What went wrong (outcome failed): the database's message.
  error          text,
  duration_ms    double precision NOT NULL CHECK (duration_ms >= 0)
);
CREATE INDEX maintenance_operations_at_idx ON maintenance_operations (at DESC, id DESC);
CREATE INDEX maintenance_operations_table_at_idx ON maintenance_operations (table_name, at DESC, id DESC);

INSERT INTO maintenance_operations (at, table_name, partition_name, action, range_from, range_to, rows, outcome, duration_ms)
SELECT at, table_name, partition_name, action, range_from, range_to, rows, 'ok', 0 FROM partition_operations ORDER BY id;
DROP TABLE partition_operations;

-- sensor_status_history becomes a time series partitioned by day on `at` (like health_samples),
-- so its retention (retention.statusDays) drops whole days. The primary key gains `at`.
ALTER TABLE sensor_status_history RENAME TO sensor_status_history_old;
ALTER INDEX sensor_status_history_sensor_at_idx RENAME TO sensor_status_history_old_sensor_at_idx;
ALTER INDEX sensor_status_history_at_idx RENAME TO sensor_status_history_old_at_idx;
CREATE TABLE sensor_status_history (
  id          bigint GENERATED ALWAYS AS IDENTITY,
  sensor_id   bigint NOT NULL REFERENCES sensors (id) ON DELETE CASCADE,
  from_status text NOT NULL,
  to_status   text NOT NULL,
  reason      text NOT NULL,
  at          timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (at, id)
) PARTITION BY RANGE (at);
CREATE TABLE sensor_status_history_default PARTITION OF sensor_status_history DEFAULT;
CREATE INDEX sensor_status_history_sensor_at_idx ON sensor_status_history (sensor_id, at DESC);
CREATE INDEX sensor_status_history_at_idx ON sensor_status_history (at DESC);
INSERT INTO sensor_status_history (id, sensor_id, from_status, to_status, reason, at) OVERRIDING SYSTEM VALUE
SELECT id, sensor_id, from_status, to_status, reason, at FROM sensor_status_history_old ORDER BY id;
SELECT setval(pg_get_serial_sequence('sensor_status_history', 'id'), COALESCE((SELECT max(id) FROM sensor_status_history_old), 0) + 1, false);
DROP TABLE sensor_status_history_old;
