-- Up Migration
-- Effects committed with a state change and run at once by the process that committed them (see
-- src/jobs/local-dispatch.ts). A row outlives its run only if that process died or the run failed; it is then
-- handed to the durable job queue.
CREATE TABLE pending_effects (
  id           bigserial   PRIMARY KEY,
  task         text        NOT NULL,
  payload      jsonb       NOT NULL,
  job_key      text,
  max_attempts integer     NOT NULL DEFAULT 25,
  claimed_by   text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX pending_effects_claimed ON pending_effects (claimed_by, created_at);

-- Down Migration
DROP TABLE pending_effects;
