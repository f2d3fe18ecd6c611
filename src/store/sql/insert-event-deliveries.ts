import type { Pool, PoolClient } from 'pg';

/** What a change of state owes its destinations: one delivery each, in the transaction of the transition. */
export interface EventDeliveriesWrite {
  /** The audit entry of the change (the event itself). */
  auditId: string;
  ticketId: string;
  destinations: readonly string[];
  /** What the ticket had at that moment. */
  stage: string | null;
  instanceCode: string;
}

export async function insertEventDeliveries(db: Pool | PoolClient, w: EventDeliveriesWrite): Promise<void> {
  if (w.destinations.length === 0) return;
  await db.query({
    name: 'insert-event-deliveries',
    text: `INSERT INTO event_deliveries (ticket_id, destination, audit_id, stage, instance_code)
           SELECT $1, d, $2, $3, $4 FROM unnest($5::text[]) AS d`,
    values: [w.ticketId, w.auditId, w.stage, w.instanceCode, w.destinations],
  });
}
