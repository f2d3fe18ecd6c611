import type { Pool, PoolClient } from 'pg';

/** Appends an entry to a ticket's history; returns its id (a change of state is delivered as an event by it). */
export async function appendAudit(db: Pool | PoolClient, entry: { ticketId: string; actor: string; event: string; from?: string; to: string; detail?: unknown }): Promise<string> {
  const { rows } = await db.query<{ id: string }>(`INSERT INTO ticket_audit (ticket_id, actor, event, from_state, to_state, detail) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id::text AS id`, [
    entry.ticketId,
    entry.actor,
    entry.event,
    entry.from ?? null,
    entry.to,
    JSON.stringify(entry.detail ?? {}),
  ]);
  return rows[0]!.id;
}
