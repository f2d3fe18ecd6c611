import type { Pool, PoolClient } from 'pg';
import { fromRow, TICKET_COLUMNS, type StoredTicket, type TicketRow } from './ticket-row.ts';

export async function getTicketByInstance(db: Pool | PoolClient, provider: string, instanceCode: string): Promise<StoredTicket | undefined> {
  const { rows } = await db.query<TicketRow>({
    name: 'get-ticket-by-instance',
    text: `SELECT ${TICKET_COLUMNS} FROM tickets WHERE provider = $1 AND instance_code = $2`,
    values: [provider, instanceCode],
  });
  return rows[0] ? fromRow(rows[0]) : undefined;
}
