import type { Ticket } from '../../engine/ticket.ts';

/** A row of `tickets`, as the ticket operations read it. */
export type TicketRow = {
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
  data: { applicant: Ticket['applicant']; fields?: Record<string, unknown>; fieldProblems?: string[]; tasks: Ticket['tasks']; results: Ticket['results']; closedBy?: Ticket['closedBy']; approval?: Ticket['approval'] };
  deadline_at: Date | null;
  /** When the ticket was escalated (its own column, for the console's filter and the metric). */
  escalated_at: Date | null;
  created_at: Date;
  updated_at: Date;
  version: number;
};

/**
 * The columns a ticket is read with. Named (prepared) statements list them rather than `*`, so that a migration
 * adding a column does not break the statements other replicas prepared before it ("cached plan must not change
 * result type").
 */
export const TICKET_COLUMNS = 'id, pipeline_name, pipeline_version, provider, definition_code, instance_code, serial_number, state, stage, attempts, data, deadline_at, created_at, updated_at, version, escalated_at';

/** A ticket as stored; `version` counts its updates. */
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
    ...(r.data.approval ? { approval: r.data.approval } : {}),
    ...(r.escalated_at ? { escalatedAt: r.escalated_at.toISOString() } : {}),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    version: r.version,
  };
}

export function data(t: Ticket & { fieldProblems?: string[] }) {
  return JSON.stringify({ applicant: t.applicant, fields: t.fields, fieldProblems: t.fieldProblems, tasks: t.tasks, results: t.results, closedBy: t.closedBy, approval: t.approval });
}
