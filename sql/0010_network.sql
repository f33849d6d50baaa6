-- Network view (docs/architecture.md "Network"): traffic by subnet pair per location, the pairs
-- each location saw (the learning's evidence) and the learned subnet → location map with pins.
-- Runs on PostgreSQL 15 and PGlite (PostgreSQL 18): nothing newer than PostgreSQL 15.
--
-- Subnets are text in canonical CIDR form (domain/network/cidr.ts: network address, lower-case,
-- compressed IPv6), or the label 'other' for what an agent folded or sent malformed.

-- Packets and bytes per minute per (location, sensor, source subnet, destination subnet).
-- Partitioned by location first (LIST: one table per location, `network_traffic_l{location id}`,
-- created by storage/network-traffic.repo.ts when a location first reports traffic), and each
-- location's table by day (RANGE on minute, daily partitions `network_traffic_l{id}_pYYYYMMDD` and a
-- DEFAULT made by the partition manager, storage/partitions.ts, which gets the per-location tables
-- registered at each run). A query for one location and one day reads one partition.
-- No location-level DEFAULT: ingest creates a location's table before its first row.
CREATE TABLE network_traffic (
  location_id bigint NOT NULL,
  -- Start of the minute (UTC) the agent's interval started in.
  minute      timestamptz NOT NULL,
  sensor_id   bigint NOT NULL,
  src_net     text NOT NULL,
  dst_net     text NOT NULL,
  packets     bigint NOT NULL,
  bytes       bigint NOT NULL,
  PRIMARY KEY (location_id, minute, sensor_id, src_net, dst_net)
) PARTITION BY LIST (location_id);

-- Which location saw which (unordered) pair of subnets, and how much, over the learning window
-- (network.learnWindowDays; older rows are deleted by the learning pass). net_a <= net_b.
CREATE TABLE network_pairs (
  net_a       text NOT NULL,
  net_b       text NOT NULL,
  location_id bigint NOT NULL REFERENCES locations (id) ON DELETE CASCADE,
  packets     bigint NOT NULL,
  bytes       bigint NOT NULL,
  first_seen  timestamptz NOT NULL,
  last_seen   timestamptz NOT NULL,
  PRIMARY KEY (net_a, net_b, location_id),
  CHECK (net_a <= net_b)
);
CREATE INDEX network_pairs_last_seen_idx ON network_pairs (last_seen);

-- The subnet → location map: what learning concluded (state, location_id, confidence) and an
-- admin's pin, which wins. A pinned subnet never seen has state NULL.
CREATE TABLE network_subnets (
  subnet             text PRIMARY KEY,
  state              text CHECK (state IN ('learned', 'external', 'ambiguous')),
  location_id        bigint REFERENCES locations (id) ON DELETE SET NULL,
  confidence         double precision CHECK (confidence BETWEEN 0 AND 1),
  -- Locations that saw the subnet in the learning window.
  locations          integer NOT NULL DEFAULT 0,
  packets            bigint NOT NULL DEFAULT 0,
  bytes              bigint NOT NULL DEFAULT 0,
  first_seen         timestamptz,
  last_seen          timestamptz,
  pinned_location_id bigint REFERENCES locations (id) ON DELETE SET NULL,
  pinned_by          text,
  pinned_at          timestamptz,
  updated_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX network_subnets_location_idx ON network_subnets (location_id);
CREATE INDEX network_subnets_pinned_idx ON network_subnets (pinned_location_id) WHERE pinned_location_id IS NOT NULL;
