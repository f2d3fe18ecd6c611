import type { Pool } from 'pg';
import { fromRow, type StoredTicket } from './ticket-row.ts';

export interface TicketFilter {
  pipeline?: string;
  state?: string;
  applicant?: string;
  from?: Date;
  to?: Date;
  /** A ticket id or an IM instance code. */
  q?: string;
  /** Tickets that entered the state they are in at this moment or later. */
  enteredSince?: Date;
  /** Only escalated tickets (the human step's flag, index `tickets_escalated`). */
  escalated?: boolean;
  /** The keyset cursor of the previous page's last row. */
  after?: { createdAt: string; id: string };
  limit: number;
}

/**
 * One page of tickets, newest first, by keyset (created_at, id): every page costs the same at 100,000 tickets,
 * unlike OFFSET. Each filter has an index that starts with it and ends with (created_at, id).
 */
export async function listTickets(pool: Pool, f: TicketFilter): Promise<{ tickets: StoredTicket[]; next?: { createdAt: string; id: string } }> {
  const where: string[] = [];
  const args: unknown[] = [];
  const arg = (v: unknown) => `$${args.push(v)}`;
  if (f.pipeline) where.push(`pipeline_name = ${arg(f.pipeline)}`);
  if (f.state) where.push(`state = ${arg(f.state)}`);
  if (f.applicant) where.push(`applicant_id = ${arg(f.applicant)}`);
  if (f.from) where.push(`created_at >= ${arg(f.from.toISOString())}`);
  if (f.to) where.push(`created_at < ${arg(f.to.toISOString())}`);
  if (f.q) where.push(`(id = ${arg(f.q)} OR instance_code = ${arg(f.q)})`);
  if (f.enteredSince) where.push(`EXISTS (SELECT 1 FROM ticket_audit a WHERE a.ticket_id = tickets.id AND a.to_state = tickets.state AND a.from_state IS DISTINCT FROM a.to_state AND a.at >= ${arg(f.enteredSince.toISOString())})`);
  if (f.escalated) where.push('escalated_at IS NOT NULL');
  if (f.after) where.push(`(created_at, id) < (${arg(f.after.createdAt)}::timestamptz, ${arg(f.after.id)})`);
  const sql = `SELECT * FROM tickets ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY created_at DESC, id DESC LIMIT ${arg(f.limit + 1)}`;
  const { rows } = await pool.query(sql, args);
  const tickets = rows.slice(0, f.limit).map(fromRow);
  const last = tickets.at(-1);
  return { tickets, next: rows.length > f.limit && last ? { createdAt: last.createdAt.toISOString(), id: last.id } : undefined };
}
