import type { TicketEvent } from '../../engine/events.ts';
import type { TaskPayloads } from '../../effects/tasks.ts';
import { InstanceNotFound, type Provider } from '../../providers/provider.ts';
import { withInstanceLock } from '../../store/instance-lock.ts';
import { dueReconciles } from '../../store/sql/due-reconciles.ts';
import type { StoredTicket } from '../../tickets/tickets.ts';
import type { JobDeps } from '../deps.ts';
import { withPause } from '../pause.ts';

/**
 * Finds open tickets due for a re-read of their instance and queues one each. The wait doubles while re-reads
 * find nothing new (TICKETFLOW_RECONCILE_AFTER_MS up to TICKETFLOW_RECONCILE_MAX_MS), so a ticket waiting days for
 * a person costs a few IM calls, not one every few minutes, against the tenant's monthly quota.
 */
export async function reconcileTask(deps: JobDeps): Promise<void> {
  const stale = await dueReconciles(deps.pool, { afterMs: deps.config.reconcileAfterMs, maxMs: deps.config.reconcileMaxMs }, 200);
  for (const t of stale) {
    await deps.outbox.later({ task: 'reconcile_ticket', payload: { ticket_id: t.id }, key: `reconcile:${t.id}` });
  }
  if (stale.length) deps.log.info({ tickets: stale.length }, 'reconciling tickets that have not moved');
}

/**
 * Re-reads one instance and feeds what it shows to the state machine, as if the events had arrived: a missed or
 * lost event can never strand a ticket. Events already applied change nothing.
 */
export async function reconcileTicketTask(deps: JobDeps, p: TaskPayloads['reconcile_ticket']): Promise<void> {
  const ticket = await deps.tickets.get(p.ticket_id);
  const provider = ticket && deps.providers[ticket.provider];
  if (!ticket || !provider) return;
  await withInstanceLock(deps.pool, ticket.provider, ticket.instanceCode, () => reconcileInstance(deps, ticket, provider));
}

async function reconcileInstance(deps: JobDeps, ticket: StoredTicket, provider: Provider): Promise<void> {
  const pipeline = await deps.versions.get(ticket.pipeline.name, ticket.pipeline.version);
  const instance = await provider.readInstance(ticket.instanceCode, ticket.definitionCode).catch((e: unknown) => {
    if (e instanceof InstanceNotFound) return undefined;
    throw e;
  });
  if (!instance) {
    // Re-reading will not bring it back: the ticket ends as if the instance had been deleted, saying why.
    const reason = `the ${ticket.provider} instance ${ticket.instanceCode} no longer exists (deleted, or the sandbox's simulator lost its state)`;
    const closed = await deps.tickets.applyLocked(ticket.id, 'reconciler', async () => ({ pipeline, events: [{ type: 'instance_closed', status: 'DELETED' }] }), { detail: { reason } });
    if (closed?.changed) deps.log.warn({ ticket: ticket.id, instance: ticket.instanceCode }, `ticket ${ticket.id} closed: ${reason}`);
    return;
  }
  const events: TicketEvent[] = [];
  for (const task of instance.tasks) {
    if (!task.pending || task.userId !== provider.assistant) continue;
    const stage = provider.stageOf(pipeline, task);
    if (stage) events.push(await withPause(deps, pipeline, { type: 'assistant_task_pending', stage, taskId: task.id }, ticket));
  }
  if (instance.status !== 'PENDING') events.push({ type: 'instance_closed', status: instance.status });
  await deps.tickets.applyLocked(ticket.id, 'reconciler', async () => ({ pipeline, events }));
}
