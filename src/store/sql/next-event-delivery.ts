import type { Pool, PoolClient } from 'pg';
import type { Person, Stage, TicketState } from '../../engine/ticket.ts';

/** The first undelivered event of one ticket for one destination, with its audit entry and the ticket's facts. */
export interface HeadDelivery {
  auditId: string;
  status: 'pending' | 'dead';
  attempts: number;
  firstAttemptAt: Date | null;
  /** It may be tried now (its wait after a failure is over), on the database clock. */
  due: boolean;
  nextAttemptAt: Date;
  /** The database clock when this was read. */
  now: Date;
  seq: number;
  at: Date;
  actor: string;
  event: string;
  from: TicketState | null;
  to: TicketState;
  stage: Stage | null;
  instanceCode: string;
  pipeline: { name: string; version: number };
  provider: string;
  definitionCode: string;
  applicant: Person;
  fields?: Record<string, unknown>;
}

/**
 * The head of a ticket's queue for a destination: deliveries go out in audit order, so only this one may be sent.
 * `seq` counts the ticket's changes of state up to it (the audit entries whose state differs from the one before,
 * the opening included), which only ever grow: the same event has the same number on every attempt.
 */
export async function nextEventDelivery(db: Pool | PoolClient, ticketId: string, destination: string): Promise<HeadDelivery | undefined> {
  const { rows } = await db.query({
    name: 'next-event-delivery',
    text: `SELECT d.audit_id::text, d.status, d.attempts, d.first_attempt_at, d.next_attempt_at <= now() AS due, d.next_attempt_at, now() AS now,
                  (SELECT count(*) FROM ticket_audit s WHERE s.ticket_id = d.ticket_id AND s.id <= d.audit_id AND s.from_state IS DISTINCT FROM s.to_state)::int AS seq,
                  a.at, a.actor, a.event, a.from_state, a.to_state, d.stage, d.instance_code,
                  t.pipeline_name, t.pipeline_version, t.provider, t.definition_code, t.data -> 'applicant' AS applicant, t.data -> 'fields' AS fields
           FROM event_deliveries d JOIN ticket_audit a ON a.id = d.audit_id JOIN tickets t ON t.id = d.ticket_id
           WHERE d.ticket_id = $1 AND d.destination = $2 AND d.status <> 'delivered'
           ORDER BY d.audit_id
           LIMIT 1`,
    values: [ticketId, destination],
  });
  const r = rows[0];
  if (!r) return undefined;
  return {
    auditId: r.audit_id,
    status: r.status,
    attempts: r.attempts,
    firstAttemptAt: r.first_attempt_at,
    due: r.due,
    nextAttemptAt: r.next_attempt_at,
    now: r.now,
    seq: r.seq,
    at: r.at,
    actor: r.actor,
    event: r.event,
    from: r.from_state,
    to: r.to_state,
    stage: r.stage,
    instanceCode: r.instance_code,
    pipeline: { name: r.pipeline_name, version: r.pipeline_version },
    provider: r.provider,
    definitionCode: r.definition_code,
    applicant: r.applicant,
    fields: r.fields ?? undefined,
  };
}
