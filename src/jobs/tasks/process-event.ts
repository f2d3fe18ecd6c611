import type { Pool, PoolClient } from 'pg';
import { randomBytes } from 'node:crypto';
import type { TicketEvent } from '../../engine/events.ts';
import { openTicket } from '../../engine/machine.ts';
import type { Ticket } from '../../engine/ticket.ts';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import type { NeutralInstance } from '../../providers/provider.ts';
import { applyEvent, applyEventAtomically } from '../../tickets/apply.ts';
import { noteEventOnTicket } from '../../store/sql/inbound-events.ts';
import { appendAudit, getTicketByInstance, insertTicket, lockTicket, type StoredTicket } from '../../store/sql/tickets.ts';
import type { JobDeps } from '../deps.ts';
import { withInstanceLock } from '../instance-lock.ts';
import { inTransaction } from '../transaction.ts';

export const newTicketId = () => `tk_${randomBytes(12).toString('base64url')}`;

export type ProcessEventsPayload = { provider: string; instance_code: string } | { provider: string; instance_codes: string[] };

/**
 * Processes every unprocessed event of the instance (or of each instance, one after the other), in stored order.
 * One instance failing does not hold up the others; the job then fails, and its retry finds only that one left.
 */
export async function processEvents(deps: JobDeps, payload: ProcessEventsPayload): Promise<void> {
  const codes = 'instance_codes' in payload ? payload.instance_codes : [payload.instance_code];
  const failed: Error[] = [];
  for (const code of codes) await processInstanceEvents(deps, { provider: payload.provider, instance_code: code }).catch((e: Error) => failed.push(e));
  if (failed.length === 1) throw failed[0];
  if (failed.length > 1) throw new AggregateError(failed, `${failed.length} instances failed: ${failed.map((e) => e.message).join('; ')}`);
}

async function processInstanceEvents(deps: JobDeps, payload: { provider: string; instance_code: string }): Promise<void> {
  await withInstanceLock(deps.pool, payload.provider, payload.instance_code, async () => {
    const { rows } = await deps.pool.query<{ event_id: string; payload: Record<string, unknown> }>({
      name: 'unprocessed-events',
      text: `SELECT event_id, payload FROM inbound_events WHERE provider = $1 AND (instance_code = $2 OR (instance_code IS NULL AND event_id = $2)) AND processed_at IS NULL ORDER BY seq`,
      values: [payload.provider, payload.instance_code],
    });
    let ticket: StoredTicket | undefined | null = null;
    for (const row of rows) ticket = await processEvent(deps, { provider: payload.provider, event_id: row.event_id, payload: row.payload }, ticket);
  });
}

/**
 * Turns one stored IM event into ticket transitions, through the provider's neutral view of it. Reads the
 * instance when it needs the form (a new ticket) or the task's node; everything it decides commits together with
 * the event marked processed. Runs under the instance's lock; `known` is the instance's ticket as the previous
 * event of the same run left it (`null`: not looked up yet). Returns the ticket, if any.
 */
async function processEvent(deps: JobDeps, payload: { provider: string; event_id: string; payload: Record<string, unknown> }, known: StoredTicket | undefined | null): Promise<StoredTicket | undefined | null> {
  const markProcessed = (client: Pool | PoolClient) =>
    client.query({
      name: 'mark-event-processed',
      text: 'UPDATE inbound_events SET processed_at = now() WHERE provider = $1 AND event_id = $2',
      values: [payload.provider, payload.event_id],
    });
  const provider = deps.providers[payload.provider];
  const event = provider?.classify(payload.payload) ?? { kind: 'other' as const };
  if (!provider || event.kind === 'other') {
    await markProcessed(deps.pool);
    return known;
  }

  const existing = known ?? (await getTicketByInstance(deps.pool, provider.type, event.instanceCode));
  let pipeline: Pipeline | undefined = existing ? await deps.versions.get(existing.pipeline.name, existing.pipeline.version) : deps.registry.byDefinition(provider.type, event.definitionCode)?.pipeline;
  const closing = event.kind === 'instance' && event.status !== 'PENDING';
  if (!existing && pipeline?.origin === 'api') {
    // Our own create: the job linking the instance to its ticket may not have committed yet; try again shortly.
    const { rows: age } = await deps.pool.query('SELECT received_at > now() - interval \'2 minutes\' AS recent FROM inbound_events WHERE provider = $1 AND event_id = $2', [payload.provider, payload.event_id]);
    if (age[0]?.recent) throw new Error(`instance ${event.instanceCode} is not linked to a ticket yet`);
    await markProcessed(deps.pool);
    return existing;
  }
  if (!existing && (!pipeline || closing)) {
    // No pipeline is live for it (any more), or the instance ended before we ever saw it: nothing to drive.
    await markProcessed(deps.pool);
    return existing;
  }
  pipeline = pipeline!;

  let instance: NeutralInstance | undefined;
  const readInstance = async () => (instance ??= await provider.readInstance(event.instanceCode, existing?.definitionCode ?? event.definitionCode));

  let ticketEvent: TicketEvent | undefined;
  let note: Record<string, unknown> | undefined;
  if (event.kind === 'task') {
    const task = provider.eventNamesNode(pipeline) ? undefined : (await readInstance()).tasks.find((t) => t.id === event.taskId);
    const node = { nodeKey: task?.nodeKey ?? event.nodeKey, nodeName: task?.nodeName };
    const stage = provider.stageOf(pipeline, node);
    if (stage && event.pending && event.userId === provider.assistant) ticketEvent = { type: 'assistant_task_pending', stage, taskId: event.taskId };
    else note = { im_task: { task_id: event.taskId, user_id: event.userId, status: event.status, node: node.nodeKey ?? node.nodeName, stage } };
  } else if (event.kind === 'instance' && event.status !== 'PENDING') {
    ticketEvent = { type: 'instance_closed', status: event.status };
  } else if (event.kind === 'instance' && event.reopened) {
    ticketEvent = { type: 'instance_reopened' };
  }

  if (existing && note) {
    await noteEventOnTicket(deps.pool, existing.id, provider.type, payload.event_id, { ...note, event_id: payload.event_id });
    return existing;
  }
  if (existing && ticketEvent) {
    const t = await applyEventAtomically(deps.pool, existing, ticketEvent, pipeline, provider.type, { event_id: payload.event_id }, { provider: payload.provider, eventId: payload.event_id });
    if (t !== 'conflict') {
      if (t.changed) deps.metrics.ticketTransitions.inc({ pipeline: existing.pipeline.name, state: t.ticket.state });
      else await markProcessed(deps.pool);
      return t.ticket;
    }
    // Another writer (a business reply, an operator) changed the ticket since it was read: take the lock.
  }
  if (!existing) await readInstance();
  return inTransaction(deps.pool, async (client) => {
    let ticket = existing ? await lockTicket(client, existing.id) : undefined;
    if (!ticket) {
      const i = instance!;
      const mapped = i.mapFields(pipeline!, new Date());
      const opened = openTicket({ id: newTicketId(), pipeline: pipeline!, provider: provider.type as Ticket['provider'], instanceCode: i.instanceCode, serialNumber: i.serialNumber, applicant: i.applicant, fields: mapped.fields, fieldProblems: mapped.problems });
      const inserted = await insertTicket(client, opened);
      ticket = inserted.ticket;
      if (inserted.created) {
        await appendAudit(client, { ticketId: ticket.id, actor: provider.type, event: 'ticket_opened', to: ticket.state, detail: { pipeline: ticket.pipeline, field_problems: mapped.problems } });
        deps.metrics.ticketsOpened.inc({ pipeline: ticket.pipeline.name });
      }
    }
    if (ticketEvent) {
      const t = await applyEvent(client, ticket, ticketEvent, pipeline!, provider.type, { event_id: payload.event_id });
      if (t.changed) {
        deps.metrics.ticketTransitions.inc({ pipeline: ticket.pipeline.name, state: t.ticket.state });
        ticket = { ...ticket, ...t.ticket, version: ticket.version + 1 };
      }
    } else if (note) {
      await appendAudit(client, { ticketId: ticket.id, actor: provider.type, event: 'im_task', from: ticket.state, to: ticket.state, detail: { ...note, event_id: payload.event_id } });
    }
    await markProcessed(client);
    return ticket;
  });
}
