import type { Pool, PoolClient } from 'pg';
import { fromRow, TICKET_COLUMNS, type StoredTicket, type TicketRow } from './ticket-row.ts';

export async function lockTicket(db: Pool | PoolClient, id: string): Promise<StoredTicket | undefined> {
  const { rows } = await db.query<TicketRow>({
    name: 'lock-ticket',
    text: `SELECT ${TICKET_COLUMNS} FROM tickets WHERE id = $1 FOR UPDATE`,
    values: [id],
  });
  return rows[0] ? fromRow(rows[0]) : undefined;
}
