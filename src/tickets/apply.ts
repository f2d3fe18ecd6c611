import type { Pool, PoolClient } from 'pg';
import type { Effect, TicketEvent } from '../engine/events.ts';
import { transition, type Transition } from '../engine/machine.ts';
import type { Ticket } from '../engine/ticket.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { dispatchFor, scheduleJob } from '../jobs/transaction.ts';
import type { JobSpec } from '../store/sql/add-job.ts';
import { commitTransition } from '../store/sql/commit-transition.ts';
import { appendAudit, updateTicket, type StoredTicket } from '../store/sql/tickets.ts';

/**
 * Applies an event to a locked ticket inside the caller's transaction: the new state, its audit entry and a job
 * for every effect commit together, so a crash anywhere loses nothing and repeats nothing.
 */
export async function applyEvent(client: PoolClient, ticket: Ticket, event: TicketEvent, pipeline: Pipeline, actor: string, detail: Record<string, unknown> = {}): Promise<Transition> {
  const t = transition(ticket, event, pipeline, new Date());
  if (!t.changed) return t;
  await updateTicket(client, t.ticket);
  await appendAudit(client, { ticketId: ticket.id, ...auditOf(ticket, t, event, actor, detail) });
  for (const effect of t.effects) await scheduleJob(client, jobFor(t.ticket, effect));
  return t;
}

/**
 * Applies an event to a ticket as read (no lock held) and writes the outcome in one statement that succeeds only
 * if the ticket is still at the version read; its effects then run at once. Returns `conflict` when another writer
 * changed the ticket first (the caller then takes the locking path), and nothing was written.
 */
export async function applyEventAtomically(
  pool: Pool,
  ticket: StoredTicket,
  event: TicketEvent,
  pipeline: Pipeline,
  actor: string,
  detail: Record<string, unknown> = {},
  processedEvent?: { provider: string; eventId: string },
): Promise<(Transition & { ticket: StoredTicket }) | 'conflict'> {
  const t = transition(ticket, event, pipeline, new Date());
  if (!t.changed) return { ...t, ticket };
  const dispatch = dispatchFor(pool);
  const jobs = t.effects.map((e) => jobFor(t.ticket, e));
  const { written, effects } = await commitTransition(pool, {
    ticketId: ticket.id,
    version: ticket.version,
    after: t.ticket,
    audit: auditOf(ticket, t, event, actor, detail),
    pending: jobs.filter((j) => dispatch?.accepts(j)),
    claimer: dispatch?.id,
    queued: jobs.filter((j) => !dispatch?.accepts(j)),
    processedEvent,
  });
  if (!written) return 'conflict';
  if (effects.length) dispatch!.run(effects);
  return { ...t, ticket: { ...ticket, ...t.ticket, version: ticket.version + 1 } };
}

export function jobFor(ticket: Ticket, effect: Effect): JobSpec {
  switch (effect.type) {
    case 'call_business':
      return { task: 'call_business', payload: { ticket_id: ticket.id, stage: effect.stage, attempt: effect.attempt }, key: `call:${ticket.id}:${effect.stage}:${effect.attempt}`, runAt: effect.delayMs ? new Date(Date.now() + effect.delayMs) : undefined };
    case 'decide_task':
      return { task: 'decide_task', payload: { ticket_id: ticket.id, stage: effect.stage, task_id: effect.taskId, action: effect.action, comment: effect.comment, attempt: 1 }, key: `decide:${ticket.id}:${effect.taskId}:1` };
    case 'comment':
      return { task: 'comment', payload: { ticket_id: ticket.id, text: effect.text, attempt: 1 } };
    case 'schedule_deadline':
      return { task: 'stage_deadline', payload: { ticket_id: ticket.id, stage: effect.stage }, key: `deadline:${ticket.id}:${effect.stage}`, runAt: new Date(effect.at) };
    case 'create_instance':
      return { task: 'create_instance', payload: { ticket_id: ticket.id }, key: `create:${ticket.id}` };
    case 'notify':
      return { task: 'notify', payload: { ticket_id: ticket.id, attempt: 1 }, key: `notify:${ticket.id}` };
  }
}

function auditOf(before: Ticket, t: Transition, event: TicketEvent, actor: string, detail: Record<string, unknown>) {
  return { actor, event: event.type, from: before.state, to: t.ticket.state, detail: { ...eventDetail(event), ...detail, effects: t.effects.map((e) => e.type) } };
}

/** The audit keeps what the event said, but never the business's free text beyond what the requester sees. */
function eventDetail(event: TicketEvent): Record<string, unknown> {
  const { type: _, ...rest } = event;
  return rest;
}
