-- Jobs (and the downloads counted against the daily quota) belong to a principal's stable id —
-- `user:{users.id}` or `token:{api_tokens.id}` — rather than to its name: a user or API token
-- deleted and re-created under the same name is another principal and owns none of the old jobs.
-- `owner` stays as the display name (views, events, manifests, audit).
ALTER TABLE jobs ADD COLUMN owner_id text;
ALTER TABLE job_downloads ADD COLUMN principal text;

-- Existing rows: the user or token that has the name now. A name no principal has any more stays
-- NULL (an admin's only; counted for nobody's quota).
UPDATE jobs j SET owner_id = 'user:' || u.id FROM users u WHERE j.owner = u.username;
UPDATE jobs j SET owner_id = 'token:' || t.id FROM api_tokens t WHERE j.owner_id IS NULL AND j.owner = 'token:' || t.name;
UPDATE job_downloads d SET principal = 'user:' || u.id FROM users u WHERE d.username = u.username;
UPDATE job_downloads d SET principal = 'token:' || t.id FROM api_tokens t WHERE d.principal IS NULL AND d.username = 'token:' || t.name;

-- The concurrent-jobs quota counts a principal's open jobs; the download quota its last 24 hours.
CREATE INDEX jobs_owner_id_open_idx ON jobs (owner_id) WHERE status IN ('pending', 'running', 'merging');
CREATE INDEX job_downloads_principal_at_idx ON job_downloads (principal, at);
