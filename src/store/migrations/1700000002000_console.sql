-- Up Migration

-- The ticket list filters and pages by these at 100,000 tickets (keyset pagination on created_at, id).
ALTER TABLE tickets ADD COLUMN applicant_id text GENERATED ALWAYS AS (data -> 'applicant' ->> 'user_id') STORED;
CREATE INDEX tickets_recent ON tickets (created_at DESC, id DESC);
CREATE INDEX tickets_state_recent ON tickets (state, created_at DESC, id DESC);
CREATE INDEX tickets_pipeline_recent ON tickets (pipeline_name, created_at DESC, id DESC);
CREATE INDEX tickets_applicant_recent ON tickets (applicant_id, created_at DESC, id DESC);
CREATE INDEX tickets_instance ON tickets (instance_code);
CREATE INDEX ticket_audit_recent ON ticket_audit (at) WHERE to_state IN ('rejected_by_check', 'execute_failed', 'needs_operator');

-- Down Migration
DROP INDEX ticket_audit_recent;
DROP INDEX tickets_instance;
DROP INDEX tickets_applicant_recent;
DROP INDEX tickets_pipeline_recent;
DROP INDEX tickets_state_recent;
DROP INDEX tickets_recent;
ALTER TABLE tickets DROP COLUMN applicant_id;
