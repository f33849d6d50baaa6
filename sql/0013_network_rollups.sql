-- Rollups of network_traffic (docs/architecture.md "Network"), kept by ingest in the transaction
-- that adds the base rows, so at every commit they hold exactly the sums of network_traffic:
-- - network_traffic_minute: packets and bytes per (location, minute) over all sensors and pairs,
--   for the series of GET /network/traffic without a subnet filter (1,440 rows a location-day
--   instead of one per sensor, pair and minute);
-- - network_pairs_hour: packets and bytes per (location, hour, source subnet, destination subnet)
--   over all sensors, for the top pairs, the inter-location flows and hour-sized buckets.
-- Both are RANGE-partitioned by day like the base tables (the partition manager creates and drops
-- their day partitions with retention.trafficDays; a DEFAULT partition catches the rest), with the
-- location first in the key so one location's day is an index range of one partition.
CREATE TABLE network_traffic_minute (
  location_id bigint NOT NULL,
  minute      timestamptz NOT NULL,
  packets     bigint NOT NULL,
  bytes       bigint NOT NULL,
  PRIMARY KEY (location_id, minute)
) PARTITION BY RANGE (minute);
CREATE TABLE network_traffic_minute_default PARTITION OF network_traffic_minute DEFAULT;

CREATE TABLE network_pairs_hour (
  location_id bigint NOT NULL,
  -- Start of the hour (UTC).
  hour        timestamptz NOT NULL,
  src_net     text NOT NULL,
  dst_net     text NOT NULL,
  packets     bigint NOT NULL,
  bytes       bigint NOT NULL,
  PRIMARY KEY (location_id, hour, src_net, dst_net)
) PARTITION BY RANGE (hour);
CREATE TABLE network_pairs_hour_default PARTITION OF network_pairs_hour DEFAULT;

-- What was stored before the rollups existed (the partition manager moves it out of DEFAULT).
INSERT INTO network_traffic_minute (location_id, minute, packets, bytes)
SELECT location_id, minute, sum(packets), sum(bytes) FROM network_traffic GROUP BY 1, 2;
INSERT INTO network_pairs_hour (location_id, hour, src_net, dst_net, packets, bytes)
SELECT location_id, date_trunc('hour', minute AT TIME ZONE 'UTC') AT TIME ZONE 'UTC', src_net, dst_net, sum(packets), sum(bytes)
  FROM network_traffic GROUP BY 1, 2, 3, 4;
