import type { Pool, PoolClient } from 'pg';

/**
 * Records on a ticket's audit an IM event that changes nothing (a human's task, the assistant's own decision)
 * and marks the event processed: one statement, so both or neither commit. The event shows the instance moving,
 * so the reconciler's wait for the ticket starts over.
 */
export async function noteEventOnTicket(db: Pool | PoolClient, ticketId: string, provider: string, eventId: string, detail: Record<string, unknown>): Promise<void> {
  await db.query({
    name: 'note-event-on-ticket',
    text: `WITH noted AS (
       INSERT INTO ticket_audit (ticket_id, actor, event, from_state, to_state, detail)
       SELECT id, $2, 'im_task', state, state, $4 FROM tickets WHERE id = $1),
     moved AS (UPDATE tickets SET reconcile_streak = 0 WHERE id = $1 AND reconcile_streak <> 0)
     UPDATE inbound_events SET processed_at = now() WHERE provider = $2 AND event_id = $3`,
    values: [ticketId, provider, eventId, JSON.stringify(detail)],
  });
}
