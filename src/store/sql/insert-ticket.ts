import type { Pool, PoolClient } from 'pg';
import type { Ticket } from '../../engine/ticket.ts';
import { data, fromRow, TICKET_COLUMNS, type StoredTicket, type TicketRow } from './ticket-row.ts';

/** Inserts a ticket unless its instance already has one; returns the stored ticket either way. */
export async function insertTicket(db: Pool | PoolClient, t: Ticket & { fieldProblems?: string[] }): Promise<{ ticket: StoredTicket; created: boolean }> {
  const { rows } = await db.query<TicketRow>(
    `INSERT INTO tickets (id, pipeline_name, pipeline_version, provider, definition_code, instance_code, serial_number, state, stage, attempts, data)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (provider, instance_code) DO NOTHING
     RETURNING ${TICKET_COLUMNS}`,
    [t.id, t.pipeline.name, t.pipeline.version, t.provider, t.definitionCode, t.instanceCode, t.serialNumber ?? null, t.state, t.stage ?? null, t.attempts, data(t)],
  );
  if (rows[0]) return { ticket: fromRow(rows[0]), created: true };
  const existing = await lockTicketByInstance(db, t.provider, t.instanceCode);
  return { ticket: existing!, created: false };
}

async function lockTicketByInstance(db: Pool | PoolClient, provider: string, instanceCode: string): Promise<StoredTicket | undefined> {
  const { rows } = await db.query<TicketRow>(`SELECT ${TICKET_COLUMNS} FROM tickets WHERE provider = $1 AND instance_code = $2 FOR UPDATE`, [provider, instanceCode]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}
