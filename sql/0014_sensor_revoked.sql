-- A revoked sensor (POST /admin/sensors/{name}/revoke): no secret of it works, and ingest refuses
-- its messages also when they arrive through an external broker that still lets it publish
-- (docs/operations.md "External broker"). Cleared by a rotate or a new enrolment.
ALTER TABLE sensors ADD COLUMN revoked_at timestamptz;
