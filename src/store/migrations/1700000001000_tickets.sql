-- Up Migration

-- One ticket per IM instance, pinned to the pipeline version live when it started.
CREATE TABLE tickets (
  id               text        PRIMARY KEY,
  pipeline_name    text        NOT NULL,
  pipeline_version integer     NOT NULL,
  provider         text        NOT NULL,
  definition_code  text        NOT NULL,
  instance_code    text        NOT NULL,
  serial_number    text,
  state            text        NOT NULL,
  stage            text,
  attempts         integer     NOT NULL DEFAULT 0,
  data             jsonb       NOT NULL,
  deadline_at      timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  reconciled_at    timestamptz,
  UNIQUE (provider, instance_code),
  FOREIGN KEY (pipeline_name, pipeline_version) REFERENCES pipeline_versions (name, version)
);
CREATE INDEX tickets_open ON tickets (updated_at) WHERE state NOT IN ('completed', 'rejected_by_check', 'rejected_by_approver', 'execute_failed', 'canceled');

-- Every transition of every ticket, with who or what caused it.
CREATE TABLE ticket_audit (
  id         bigserial   PRIMARY KEY,
  ticket_id  text        NOT NULL REFERENCES tickets (id),
  at         timestamptz NOT NULL DEFAULT now(),
  actor      text        NOT NULL,
  event      text        NOT NULL,
  from_state text,
  to_state   text        NOT NULL,
  detail     jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX ticket_audit_ticket ON ticket_audit (ticket_id, id);

-- Every call attempt to a business endpoint or to the IM, for the console (secrets and signatures redacted).
CREATE TABLE call_attempts (
  id         bigserial   PRIMARY KEY,
  ticket_id  text        NOT NULL,
  target     text        NOT NULL,
  stage      text,
  action     text        NOT NULL,
  attempt    integer     NOT NULL,
  request    jsonb,
  response   jsonb,
  status     integer,
  error      text,
  latency_ms integer     NOT NULL,
  at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX call_attempts_ticket ON call_attempts (ticket_id, id);

-- Liveness of job workers: a worker silent for long is presumed dead and its job locks are released.
CREATE TABLE worker_heartbeats (
  worker_id text        PRIMARY KEY,
  process   text        NOT NULL,
  beat_at   timestamptz NOT NULL DEFAULT now()
);

-- Shared pacing of IM calls across replicas: the next free slot per key.
CREATE TABLE rate_slots (
  key       text        PRIMARY KEY,
  next_slot timestamptz NOT NULL
);

ALTER TABLE inbound_events ADD COLUMN seq bigserial;

-- Down Migration
ALTER TABLE inbound_events DROP COLUMN seq;
DROP TABLE rate_slots;
DROP TABLE worker_heartbeats;
DROP TABLE call_attempts;
DROP TABLE ticket_audit;
DROP TABLE tickets;
