import type { TaskPayloads } from '../../effects/tasks.ts';
import type { JobDeps } from '../deps.ts';

/** An async stage's deadline: if the ticket still waits for that callback, the pipeline's outcome applies. */
export async function stageDeadlineTask(deps: JobDeps, p: TaskPayloads['stage_deadline']): Promise<void> {
  await deps.tickets.applyLocked(p.ticket_id, 'clock', async (ticket) => {
    if (ticket.deadlineAt && new Date(ticket.deadlineAt).getTime() > Date.now() + 1000) return undefined; // a later deadline replaced this one
    const pipeline = await deps.versions.get(ticket.pipeline.name, ticket.pipeline.version);
    return { pipeline, events: [{ type: 'deadline_passed', stage: p.stage }] };
  });
}
