import type { PoolClient, Pool } from 'pg';
import type { Ticket } from '../../engine/ticket.ts';

type Db = Pool | PoolClient;

type TicketRow = {
  id: string;
  pipeline_name: string;
  pipeline_version: number;
  provider: Ticket['provider'];
  definition_code: string;
  instance_code: string;
  serial_number: string | null;
  state: Ticket['state'];
  stage: Ticket['stage'] | null;
  attempts: number;
  data: { applicant: Ticket['applicant']; fields?: Record<string, unknown>; fieldProblems?: string[]; tasks: Ticket['tasks']; results: Ticket['results']; closedBy?: Ticket['closedBy'] };
  deadline_at: Date | null;
  created_at: Date;
  updated_at: Date;
  version: number;
};

/** A ticket as stored; `version` counts its updates. */
/**
 * The columns a ticket is read with. Named (prepared) statements list them rather than `*`, so that a migration
 * adding a column does not break the statements other replicas prepared before it ("cached plan must not change
 * result type").
 */
const TICKET_COLUMNS = 'id, pipeline_name, pipeline_version, provider, definition_code, instance_code, serial_number, state, stage, attempts, data, deadline_at, created_at, updated_at, version';

export type StoredTicket = Ticket & { fieldProblems?: string[]; createdAt: Date; updatedAt: Date; version: number };

export function fromRow(r: TicketRow): StoredTicket {
  return {
    id: r.id,
    pipeline: { name: r.pipeline_name, version: r.pipeline_version },
    provider: r.provider,
    definitionCode: r.definition_code,
    instanceCode: r.instance_code,
    serialNumber: r.serial_number ?? undefined,
    state: r.state,
    stage: r.stage ?? undefined,
    attempts: r.attempts,
    deadlineAt: r.deadline_at?.toISOString(),
    applicant: r.data.applicant,
    fields: r.data.fields,
    fieldProblems: r.data.fieldProblems,
    tasks: r.data.tasks ?? {},
    results: r.data.results ?? {},
    ...(r.data.closedBy ? { closedBy: r.data.closedBy } : {}),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    version: r.version,
  };
}

export function data(t: Ticket & { fieldProblems?: string[] }) {
  return JSON.stringify({ applicant: t.applicant, fields: t.fields, fieldProblems: t.fieldProblems, tasks: t.tasks, results: t.results, closedBy: t.closedBy });
}

/** Inserts a ticket unless its instance already has one; returns the stored ticket either way. */
export async function insertTicket(db: Db, t: Ticket & { fieldProblems?: string[] }): Promise<{ ticket: StoredTicket; created: boolean }> {
  const { rows } = await db.query<TicketRow>(
    `INSERT INTO tickets (id, pipeline_name, pipeline_version, provider, definition_code, instance_code, serial_number, state, stage, attempts, data)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (provider, instance_code) DO NOTHING
     RETURNING *`,
    [t.id, t.pipeline.name, t.pipeline.version, t.provider, t.definitionCode, t.instanceCode, t.serialNumber ?? null, t.state, t.stage ?? null, t.attempts, data(t)],
  );
  if (rows[0]) return { ticket: fromRow(rows[0]), created: true };
  const existing = await lockTicketByInstance(db, t.provider, t.instanceCode);
  return { ticket: existing!, created: false };
}

export async function lockTicket(db: Db, id: string): Promise<StoredTicket | undefined> {
  const { rows } = await db.query<TicketRow>({
    name: 'lock-ticket',
    text: `SELECT ${TICKET_COLUMNS} FROM tickets WHERE id = $1 FOR UPDATE`,
    values: [id],
  });
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function lockTicketByInstance(db: Db, provider: string, instanceCode: string): Promise<StoredTicket | undefined> {
  const { rows } = await db.query<TicketRow>('SELECT * FROM tickets WHERE provider = $1 AND instance_code = $2 FOR UPDATE', [provider, instanceCode]);
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function getTicket(db: Db, id: string): Promise<StoredTicket | undefined> {
  const { rows } = await db.query<TicketRow>({
    name: 'get-ticket',
    text: `SELECT ${TICKET_COLUMNS} FROM tickets WHERE id = $1`,
    values: [id],
  });
  return rows[0] ? fromRow(rows[0]) : undefined;
}

export async function updateTicket(db: Db, t: Ticket & { fieldProblems?: string[] }): Promise<void> {
  await db.query(
    `UPDATE tickets SET state = $2, stage = $3, attempts = $4, data = $5, deadline_at = $6, instance_code = $7, serial_number = $8, updated_at = now(), version = version + 1 WHERE id = $1`,
    [t.id, t.state, t.stage ?? null, t.attempts, data(t), t.deadlineAt ?? null, t.instanceCode, t.serialNumber ?? null],
  );
}

export async function appendAudit(db: Db, entry: { ticketId: string; actor: string; event: string; from?: string; to: string; detail?: unknown }): Promise<void> {
  await db.query(`INSERT INTO ticket_audit (ticket_id, actor, event, from_state, to_state, detail) VALUES ($1, $2, $3, $4, $5, $6)`, [
    entry.ticketId,
    entry.actor,
    entry.event,
    entry.from ?? null,
    entry.to,
    JSON.stringify(entry.detail ?? {}),
  ]);
}

export async function getTicketByInstance(db: Db, provider: string, instanceCode: string): Promise<StoredTicket | undefined> {
  const { rows } = await db.query<TicketRow>({
    name: 'get-ticket-by-instance',
    text: `SELECT ${TICKET_COLUMNS} FROM tickets WHERE provider = $1 AND instance_code = $2`,
    values: [provider, instanceCode],
  });
  return rows[0] ? fromRow(rows[0]) : undefined;
}
