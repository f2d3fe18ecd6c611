import type { Pool, PoolClient } from 'pg';

export async function appendAudit(db: Pool | PoolClient, entry: { ticketId: string; actor: string; event: string; from?: string; to: string; detail?: unknown }): Promise<void> {
  await db.query(`INSERT INTO ticket_audit (ticket_id, actor, event, from_state, to_state, detail) VALUES ($1, $2, $3, $4, $5, $6)`, [
    entry.ticketId,
    entry.actor,
    entry.event,
    entry.from ?? null,
    entry.to,
    JSON.stringify(entry.detail ?? {}),
  ]);
}
