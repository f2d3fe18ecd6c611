-- Up Migration
-- An operator's rejection is its own final state, `rejected_by_operator`; it used to end the ticket as
-- `rejected_by_check` or `execute_failed` after the stage it was in. The open-tickets index lists the final states
-- (src/store/sql/due-reconciles.ts repeats the list, from src/engine/ticket.ts). Tickets an operator rejected, and
-- the audit entries of those rejections, move to the new state.
DROP INDEX tickets_open;
CREATE INDEX tickets_open ON tickets (updated_at) WHERE state NOT IN ('completed', 'rejected_by_check', 'rejected_by_approver', 'execute_failed', 'rejected_by_operator', 'canceled');
UPDATE ticket_audit SET to_state = 'rejected_by_operator' WHERE event = 'operator_reject' AND to_state IN ('rejected_by_check', 'execute_failed');
UPDATE tickets t SET state = 'rejected_by_operator'
  WHERE state IN ('rejected_by_check', 'execute_failed')
    AND EXISTS (SELECT 1 FROM ticket_audit a WHERE a.ticket_id = t.id AND a.event = 'operator_reject');

-- Down Migration
UPDATE tickets SET state = CASE WHEN data -> 'results' ? 'execute' THEN 'execute_failed' ELSE 'rejected_by_check' END WHERE state = 'rejected_by_operator';
UPDATE ticket_audit a SET to_state = t.state FROM tickets t WHERE a.ticket_id = t.id AND a.to_state = 'rejected_by_operator';
DROP INDEX tickets_open;
CREATE INDEX tickets_open ON tickets (updated_at) WHERE state NOT IN ('completed', 'rejected_by_check', 'rejected_by_approver', 'execute_failed', 'canceled');
