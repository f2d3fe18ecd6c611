import type { TicketEvent } from '../../engine/events.ts';
import { addJob } from '../../store/sql/add-job.ts';
import { dueReconciles } from '../../store/sql/due-reconciles.ts';
import { lockTicket } from '../../store/sql/tickets.ts';
import { applyEvent } from '../../tickets/apply.ts';
import type { Provider } from '../../providers/provider.ts';
import type { JobDeps } from '../deps.ts';
import { withInstanceLock } from '../instance-lock.ts';
import { inTransaction } from '../transaction.ts';

/**
 * Finds open tickets due for a re-read of their instance and queues one each. The wait doubles while re-reads
 * find nothing new (TICKETFLOW_RECONCILE_AFTER_MS up to TICKETFLOW_RECONCILE_MAX_MS), so a ticket waiting days for
 * a person costs a few IM calls, not one every few minutes, against the tenant's monthly quota.
 */
export async function reconcileTask(deps: JobDeps): Promise<void> {
  const stale = await dueReconciles(deps.pool, { afterMs: deps.config.reconcileAfterMs, maxMs: deps.config.reconcileMaxMs }, 200);
  for (const t of stale) {
    await addJob(deps.pool, { task: 'reconcile_ticket', payload: { ticket_id: t.id }, key: `reconcile:${t.id}` });
  }
  if (stale.length) deps.log.info({ tickets: stale.length }, 'reconciling tickets that have not moved');
}

/**
 * Re-reads one instance and feeds what it shows to the state machine, as if the events had arrived: a missed or
 * lost event can never strand a ticket. Events already applied change nothing.
 */
export async function reconcileTicketTask(deps: JobDeps, p: { ticket_id: string }): Promise<void> {
  const { rows } = await deps.pool.query('SELECT provider, definition_code, instance_code, pipeline_name, pipeline_version FROM tickets WHERE id = $1', [p.ticket_id]);
  const provider = rows[0] && deps.providers[rows[0].provider];
  if (!rows[0] || !provider) return;
  await withInstanceLock(deps.pool, rows[0].provider, rows[0].instance_code, () => reconcileInstance(deps, p.ticket_id, provider, rows[0]));
}

async function reconcileInstance(deps: JobDeps, ticketId: string, provider: Provider, row: { definition_code: string; instance_code: string; pipeline_name: string; pipeline_version: number }): Promise<void> {
  const pipeline = await deps.versions.get(row.pipeline_name, row.pipeline_version);
  const instance = await provider.readInstance(row.instance_code, row.definition_code);
  const events: TicketEvent[] = [];
  for (const task of instance.tasks) {
    if (!task.pending || task.userId !== provider.assistant) continue;
    const stage = provider.stageOf(pipeline, task);
    if (stage) events.push({ type: 'assistant_task_pending', stage, taskId: task.id });
  }
  if (instance.status !== 'PENDING') events.push({ type: 'instance_closed', status: instance.status });
  await inTransaction(deps.pool, async (client) => {
    let ticket = await lockTicket(client, ticketId);
    for (const event of events) {
      if (!ticket) break;
      const t = await applyEvent(client, ticket, event, pipeline, 'reconciler');
      ticket = { ...t.ticket, createdAt: ticket.createdAt, updatedAt: ticket.updatedAt, version: ticket.version + (t.changed ? 1 : 0) };
    }
  });
}
