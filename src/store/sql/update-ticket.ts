import type { Pool, PoolClient } from 'pg';
import type { Ticket } from '../../engine/ticket.ts';
import { data } from './ticket-row.ts';

export async function updateTicket(db: Pool | PoolClient, t: Ticket & { fieldProblems?: string[] }): Promise<void> {
  await db.query(
    `UPDATE tickets SET state = $2, stage = $3, attempts = $4, data = $5, deadline_at = $6, instance_code = $7, serial_number = $8, escalated_at = $9, updated_at = now(), version = version + 1 WHERE id = $1`,
    [t.id, t.state, t.stage ?? null, t.attempts, data(t), t.deadlineAt ?? null, t.instanceCode, t.serialNumber ?? null, t.escalatedAt ?? null],
  );
}
