-- Ingest stores each flow once, in network_traffic only (issue #11, ingest throughput): the row of a
-- (location, minute, sensor, part, source subnet, destination subnet) is inserted with ON CONFLICT
-- DO NOTHING, so network_traffic itself drops a replayed row (it was traffic_samples' job, a second
-- row per flow). `part` (a capture file's share of the minute, docs/mqtt.md "Traffic") joins the key
-- so two files' shares of one minute stay two rows (an interval that does not start on a whole minute
-- adds its offset to it: domain/network/network.service.ts rowPart); readers sum over it, as they
-- already sum over sensors. traffic_samples keeps only the flows of sensors without a location (network_traffic is
-- partitioned by location), for search.
-- Rows stored before this migration have part '' and were summed over parts; a message sent before
-- it and replayed after it is not recognised as a replay by these rows (the upgrade's in-flight
-- messages only: agents drop what the collector acknowledged).
ALTER TABLE network_traffic ADD COLUMN part text NOT NULL DEFAULT '';
ALTER TABLE network_traffic DROP CONSTRAINT network_traffic_pkey;
ALTER TABLE network_traffic ADD PRIMARY KEY (location_id, minute, sensor_id, part, src_net, dst_net);
