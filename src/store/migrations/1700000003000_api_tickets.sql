-- Up Migration

-- Tickets born in a business system: one ticket per (pipeline, Idempotency-Key); the body hash tells a repeat
-- (200, the same ticket) from a different request reusing the key (409).
CREATE TABLE api_requests (
  pipeline_name   text        NOT NULL,
  idempotency_key text        NOT NULL,
  body_hash       text        NOT NULL,
  ticket_id       text        NOT NULL REFERENCES tickets (id),
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (pipeline_name, idempotency_key)
);

-- Down Migration
DROP TABLE api_requests;
