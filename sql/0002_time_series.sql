-- Time-series tables, partitioned by day (storage/partitions.ts creates the daily partitions
-- ahead and drops those past retention). The DEFAULT partition catches samples outside every
-- daily partition (clock skew, late spool delivery) so none is ever lost.

CREATE TABLE health_samples (
  sensor_id       bigint NOT NULL REFERENCES sensors (id) ON DELETE CASCADE,
  -- The agent's sending time of the health message.
  sampled_at      timestamptz NOT NULL,
  -- The agent's envelope sequence number: (sensor, sampled_at, seq) makes a replay a no-op.
  seq             bigint NOT NULL,
  received_at     timestamptz NOT NULL DEFAULT now(),
  cpu_usage       real NOT NULL,
  cpu_cores       integer NOT NULL,
  memory_total    bigint NOT NULL,
  memory_used     bigint NOT NULL,
  memory_available bigint NOT NULL,
  load1           real NOT NULL,
  load5           real NOT NULL,
  load15          real NOT NULL,
  uptime_seconds  double precision NOT NULL,
  -- Fullest capture filesystem, percent (NULL without disks): the series' disk line.
  disk_used_percent real,
  disks           jsonb NOT NULL,
  interfaces      jsonb NOT NULL,
  captures        jsonb NOT NULL,
  clock_offset_ms double precision,
  spool_dropped   bigint,
  PRIMARY KEY (sensor_id, sampled_at, seq)
) PARTITION BY RANGE (sampled_at);
CREATE TABLE health_samples_default PARTITION OF health_samples DEFAULT;

-- Packets and bytes per (source subnet, destination subnet) per interval, as agents report them.
CREATE TABLE traffic_samples (
  sensor_id        bigint NOT NULL REFERENCES sensors (id) ON DELETE CASCADE,
  interval_start   timestamptz NOT NULL,
  interval_seconds integer NOT NULL CHECK (interval_seconds > 0),
  src_net          text NOT NULL,
  dst_net          text NOT NULL,
  packets          bigint NOT NULL,
  bytes            bigint NOT NULL,
  seq              bigint NOT NULL,
  received_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sensor_id, interval_start, src_net, dst_net)
) PARTITION BY RANGE (interval_start);
CREATE TABLE traffic_samples_default PARTITION OF traffic_samples DEFAULT;

-- What the partition manager did, for operators (maintenance history).
CREATE TABLE partition_operations (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  table_name     text NOT NULL,
  partition_name text NOT NULL,
  action         text NOT NULL CHECK (action IN ('create', 'drop', 'move-from-default', 'purge-default')),
  range_from     timestamptz,
  range_to       timestamptz,
  -- Rows moved out of or purged from the default partition (NULL for create/drop).
  rows           bigint,
  at             timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX partition_operations_at_idx ON partition_operations (at DESC);
