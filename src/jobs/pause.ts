import { pausedBy } from '../doctor/drift.ts';
import type { TicketEvent } from '../engine/events.ts';
import type { Ticket } from '../engine/ticket.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { getDefinitionCheck } from '../store/sql/get-definition-check.ts';
import type { JobDeps } from './deps.ts';

/**
 * The assistant's check task of a ticket about to be checked, told whether its pipeline is paused for maintenance
 * (`on_drift: pause` and the stored drift verdict, shared by every replica); the state machine decides what that
 * means. Only `on_drift: pause` pipelines cost the read, and only for a ticket the check would call the business for.
 */
export async function withPause(deps: Pick<JobDeps, 'pool'>, pipeline: Pipeline, event: TicketEvent, ticket?: Pick<Ticket, 'state' | 'attempts'>): Promise<TicketEvent> {
  if (event.type !== 'assistant_task_pending' || event.stage !== 'check' || pipeline.on_drift !== 'pause') return event;
  if (ticket && (ticket.state !== 'checking' || ticket.attempts > 0)) return event;
  const verdict = await getDefinitionCheck(deps.pool, pipeline.metadata.name);
  return pausedBy(verdict, pipeline) ? { ...event, paused: true } : event;
}
