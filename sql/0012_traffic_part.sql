-- Traffic summaries are sent per capture file per minute (docs/mqtt.md "Traffic"): a minute that
-- spans two files arrives as two messages with the same interval and pairs. `part` (one value per
-- file, stable across resends) keeps both; a resend of the same part still stores nothing.
-- Readers sum over part.
ALTER TABLE traffic_samples ADD COLUMN part text NOT NULL DEFAULT '';
ALTER TABLE traffic_samples DROP CONSTRAINT traffic_samples_pkey;
ALTER TABLE traffic_samples ADD PRIMARY KEY (sensor_id, interval_start, part, src_net, dst_net);
