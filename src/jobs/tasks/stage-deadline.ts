import type { Stage } from '../../engine/ticket.ts';
import { applyEvent } from '../../tickets/apply.ts';
import { lockTicket } from '../../store/sql/tickets.ts';
import type { JobDeps } from '../deps.ts';
import { inTransaction } from '../transaction.ts';

/** An async stage's deadline: if the ticket still waits for that callback, the pipeline's outcome applies. */
export async function stageDeadlineTask(deps: JobDeps, p: { ticket_id: string; stage: Stage }): Promise<void> {
  await inTransaction(deps.pool, async (client) => {
    const ticket = await lockTicket(client, p.ticket_id);
    if (!ticket) return;
    if (ticket.deadlineAt && new Date(ticket.deadlineAt).getTime() > Date.now() + 1000) return; // a later deadline replaced this one
    const pipeline = await deps.versions.get(ticket.pipeline.name, ticket.pipeline.version);
    await applyEvent(client, ticket, { type: 'deadline_passed', stage: p.stage }, pipeline, 'clock');
  });
}
