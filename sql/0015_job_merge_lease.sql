-- The merge lease of a job (docs/jobs.md "Merge lease"): with several collectors on one database,
-- exactly one merges a job. The holder (a collector process id) takes the lease when it is free or
-- expired, renews it while its merge runs, and clears it when done; a crashed holder's lease
-- expires and another collector takes it. Stores its result only while it still holds it.
ALTER TABLE jobs ADD COLUMN merge_holder text;
ALTER TABLE jobs ADD COLUMN merge_lease_until timestamptz;
