-- Up Migration
-- The human step (a pipeline's `approval` block: reminders, escalation, expiry; src/engine/human-step.ts).
-- Escalation is a flag, not a state: when the ticket was escalated, filterable in the console (`escalated=1`, its
-- own partial index ending with (created_at, id), like every filter of the ticket list) and counted for /metrics.
-- Expiry is a new final state, `expired`: the open-tickets index lists the final states (src/store/sql/due-reconciles.ts
-- and open-tickets-by-version.ts repeat the list, from src/engine/ticket.ts), so it is made again with it. The
-- tickets table has no CHECK on `state`. The clock itself (reaching approval, last approver act, reminders) is
-- part of the ticket's `data`.
ALTER TABLE tickets ADD COLUMN escalated_at timestamptz;
CREATE INDEX tickets_escalated ON tickets (created_at DESC, id DESC) WHERE escalated_at IS NOT NULL;
DROP INDEX tickets_open;
CREATE INDEX tickets_open ON tickets (updated_at) WHERE state NOT IN ('completed', 'rejected_by_check', 'rejected_by_approver', 'execute_failed', 'rejected_by_operator', 'canceled', 'expired');

-- Down Migration
-- An expired ticket was ended by Ticketflow while in approval: the previous release knows it best as canceled.
UPDATE ticket_audit SET to_state = 'canceled' WHERE to_state = 'expired';
UPDATE ticket_audit SET from_state = 'canceled' WHERE from_state = 'expired';
UPDATE tickets SET state = 'canceled' WHERE state = 'expired';
DROP INDEX tickets_open;
CREATE INDEX tickets_open ON tickets (updated_at) WHERE state NOT IN ('completed', 'rejected_by_check', 'rejected_by_approver', 'execute_failed', 'rejected_by_operator', 'canceled');
DROP INDEX tickets_escalated;
ALTER TABLE tickets DROP COLUMN escalated_at;
