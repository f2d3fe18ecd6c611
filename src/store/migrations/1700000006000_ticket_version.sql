-- Up Migration
-- Bumped by every update, so that a transition computed from a read ticket can be written in one statement that
-- succeeds only if nothing changed the ticket in between (src/tickets/apply.ts).
ALTER TABLE tickets ADD COLUMN version integer NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE tickets DROP COLUMN version;
