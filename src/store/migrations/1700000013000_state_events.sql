-- Up Migration
-- State-change events (README, "State-change events"; docs/business-contract.md, "State-change events"). The
-- event itself is the ticket's audit entry of a change of state (`ticket_audit`, from_state <> to_state, the
-- opening included): no second copy of it. A delivery is one such entry for one destination — `pipeline` (the
-- events_url of the version the ticket is pinned to) or `runtime` (TICKETFLOW_EVENTS_URL) — inserted in the same
-- commit as the transition, so none is lost and none invented. `stage` and `instance_code` are what the ticket
-- had at that moment (the audit entry does not carry them). The deliveries of one ticket and destination go out
-- one at a time in audit order (src/jobs/tasks/deliver-state-events.ts); a `dead` one holds the later ones
-- (still `pending`) until an operator redelivers it.
CREATE TABLE event_deliveries (
  ticket_id        text        NOT NULL REFERENCES tickets (id),
  destination      text        NOT NULL CHECK (destination IN ('pipeline', 'runtime')),
  audit_id         bigint      NOT NULL REFERENCES ticket_audit (id),
  stage            text,
  instance_code    text        NOT NULL,
  status           text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'dead')),
  attempts         integer     NOT NULL DEFAULT 0,
  first_attempt_at timestamptz,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_status      integer,
  last_error       text,
  delivered_at     timestamptz,
  created_at       timestamptz NOT NULL DEFAULT now(),
  updated_at       timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (ticket_id, destination, audit_id)
);
-- The head of each ticket's queue, the backlog metric: only what is not delivered yet.
CREATE INDEX event_deliveries_undelivered ON event_deliveries (ticket_id, destination, audit_id) WHERE status <> 'delivered';
-- The console's dead letters, newest first.
CREATE INDEX event_deliveries_dead ON event_deliveries (updated_at DESC) WHERE status = 'dead';

-- Down Migration
DROP TABLE event_deliveries;
