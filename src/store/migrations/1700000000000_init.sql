-- Up Migration

-- Every distinct version of every pipeline ever loaded, so a ticket can finish on the version it started on
-- after its file changes or disappears.
CREATE TABLE pipeline_versions (
  name            text        NOT NULL,
  version         integer     NOT NULL CHECK (version >= 1),
  content_hash    text        NOT NULL,
  source          text        NOT NULL,
  file            text        NOT NULL,
  provider        text        NOT NULL,
  definition_code text        NOT NULL,
  first_loaded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, version)
);
CREATE INDEX pipeline_versions_definition ON pipeline_versions (provider, definition_code);

-- The inbox of IM events: stored before the IM gets its 200, unique on the IM's own event id, so a redelivery
-- is a no-op. Processing happens afterwards, from the job queue.
CREATE TABLE inbound_events (
  provider      text        NOT NULL,
  event_id      text        NOT NULL,
  event_type    text        NOT NULL,
  definition_code text,
  instance_code text,
  payload       jsonb       NOT NULL,
  received_at   timestamptz NOT NULL DEFAULT now(),
  processed_at  timestamptz,
  PRIMARY KEY (provider, event_id)
);
CREATE INDEX inbound_events_instance ON inbound_events (provider, instance_code, received_at);

-- Down Migration
DROP TABLE inbound_events;
DROP TABLE pipeline_versions;
