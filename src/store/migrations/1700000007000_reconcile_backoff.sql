-- Up Migration
-- Re-reads of an instance that showed nothing new, in a row: the reconciler waits twice as long after each one
-- (src/store/sql/due-reconciles.ts). Any event of the ticket resets it.
ALTER TABLE tickets ADD COLUMN reconcile_streak integer NOT NULL DEFAULT 0;

-- Down Migration
ALTER TABLE tickets DROP COLUMN reconcile_streak;
