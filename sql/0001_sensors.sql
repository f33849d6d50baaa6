-- Sensors, their locations, capture devices and status history.
-- Runs on PostgreSQL 15 and PGlite (PostgreSQL 18): nothing newer than PostgreSQL 15.

CREATE TABLE locations (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name        text NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 256),
  description text,
  latitude    double precision CHECK (latitude BETWEEN -90 AND 90),
  longitude   double precision CHECK (longitude BETWEEN -180 AND 180),
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sensors (
  id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  name              text NOT NULL UNIQUE CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  location_id       bigint REFERENCES locations (id) ON DELETE SET NULL,
  -- argon2id hash of the sensor's MQTT secret; the secret itself is never stored.
  secret_hash       text NOT NULL,
  status            text NOT NULL DEFAULT 'unknown' CHECK (status IN ('unknown', 'online', 'offline', 'degraded')),
  status_reason     text,
  status_changed_at timestamptz,
  -- Birth/death sequence of the current session (Sparkplug B bdSeq): an offline state with a
  -- lower bdSeq is a stale will and is ignored. NULL until the first birth.
  bd_seq            bigint,
  -- Highest envelope seq seen since the last birth (older messages never change the status).
  last_seq          bigint,
  version           text,
  hostname          text,
  capabilities      text[] NOT NULL DEFAULT '{}',
  last_seen         timestamptz,
  disks             jsonb NOT NULL DEFAULT '[]',
  interfaces        jsonb NOT NULL DEFAULT '[]',
  pcap_oldest       timestamptz,
  pcap_newest       timestamptz,
  pcap              jsonb NOT NULL DEFAULT '[]',
  pcap_updated_at   timestamptz,
  -- Envelope seq of the PCAP availability message in `pcap` (a retained replay never goes back).
  pcap_seq          bigint,
  clock_offset_ms   double precision,
  created_at        timestamptz NOT NULL DEFAULT now(),
  updated_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sensors_location_idx ON sensors (location_id);
-- The heartbeat sweep looks at live sensors only.
CREATE INDEX sensors_live_last_seen_idx ON sensors (last_seen) WHERE status IN ('online', 'degraded');

-- One row per capture interface (managed tcpdump) or watched directory of a sensor.
CREATE TABLE devices (
  sensor_id   bigint NOT NULL REFERENCES sensors (id) ON DELETE CASCADE,
  name        text NOT NULL,
  managed     boolean NOT NULL,
  directory   text NOT NULL,
  status      text NOT NULL DEFAULT 'unknown' CHECK (status IN ('running', 'stopped', 'watching', 'unknown')),
  packets     bigint,
  drops       bigint,
  error       text,
  rx_bytes    bigint,
  rx_packets  bigint,
  rx_dropped  bigint,
  updated_at  timestamptz,
  PRIMARY KEY (sensor_id, name)
);

-- Every status transition with its reason.
CREATE TABLE sensor_status_history (
  id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  sensor_id   bigint NOT NULL REFERENCES sensors (id) ON DELETE CASCADE,
  from_status text NOT NULL,
  to_status   text NOT NULL,
  reason      text NOT NULL,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sensor_status_history_sensor_at_idx ON sensor_status_history (sensor_id, at DESC);
CREATE INDEX sensor_status_history_at_idx ON sensor_status_history (at DESC);
