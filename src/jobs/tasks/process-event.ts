import type { Pool, PoolClient } from 'pg';
import { randomBytes } from 'node:crypto';
import type { TicketEvent } from '../../engine/events.ts';
import { openTicket } from '../../engine/machine.ts';
import type { Ticket } from '../../engine/ticket.ts';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { ProviderError, type NeutralInstance } from '../../providers/provider.ts';
import { applyEvent, applyEventAtomically } from '../../tickets/apply.ts';
import { noteEventOnTicket } from '../../store/sql/inbound-events.ts';
import { appendAudit, getTicketByInstance, insertTicket, lockTicket, type StoredTicket } from '../../store/sql/tickets.ts';
import type { JobDeps } from '../deps.ts';
import { withInstanceLock } from '../instance-lock.ts';
import { inTransaction } from '../transaction.ts';

export const newTicketId = () => `tk_${randomBytes(12).toString('base64url')}`;

/** `failures`: a retry of an instance that failed that many times in a row (scheduled by `backOff`). */
export type ProcessEventsPayload = { provider: string; instance_code: string; failures?: number } | { provider: string; instance_codes: string[] };

/** An instance that fails is retried after 1 s, doubling up to 1 hour, and given up after 25 failures in a row. */
const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_MAX_MS = 3_600_000;
const MAX_FAILURES = 25;

/**
 * Per process, the instances whose retry is scheduled: `until` is before the retry can run (it was added with
 * that delay after `until` was taken), so until then a run for the instance can leave its events to the retry.
 */
const retries = new WeakMap<object, Map<string, { until: number; failures: number }>>();

/**
 * Processes every unprocessed event of the instance (or of each instance, one after the other), in stored order.
 * An instance that fails (its IM read fails, say) backs off on its own: one retry job, later each time, handles
 * all its events, and the runs for its new events meanwhile end at once without a read. So a flood of events for
 * instances the IM cannot read costs a few reads each and never holds up the other tickets.
 */
export async function processEvents(deps: JobDeps, payload: ProcessEventsPayload): Promise<void> {
  const codes = 'instance_codes' in payload ? payload.instance_codes : [payload.instance_code];
  const retry = 'instance_code' in payload ? payload.failures : undefined;
  let scheduled = retries.get(deps.pool);
  if (!scheduled) retries.set(deps.pool, (scheduled = new Map()));
  for (const code of codes) {
    const key = `${payload.provider}:${code}`;
    // Looked at again once the instance's lock is held: a run that failed meanwhile may have scheduled a retry.
    const leaveToRetry = () => {
      const pending = scheduled.get(key);
      return retry === undefined && pending !== undefined && Date.now() < pending.until;
    };
    if (leaveToRetry()) continue;
    const pending = scheduled.get(key);
    try {
      await processInstanceEvents(deps, { provider: payload.provider, instance_code: code }, leaveToRetry);
      if (scheduled.get(key) === pending) scheduled.delete(key);
    } catch (e) {
      await backOff(deps, scheduled, payload.provider, code, (retry ?? scheduled.get(key)?.failures ?? 0) + 1, e as Error);
    }
  }
}

/** Schedules the instance's retry (or gives up); throws only when even that fails, so the queue retries the run. */
async function backOff(deps: JobDeps, scheduled: Map<string, { until: number; failures: number }>, provider: string, code: string, failures: number, error: Error): Promise<void> {
  const key = `${provider}:${code}`;
  if (failures >= MAX_FAILURES) {
    scheduled.delete(key);
    deps.log.error({ provider, instance: code, failures, err: error.message }, 'gave up processing the events of an instance; its next event tries again');
    return;
  }
  const hinted = error instanceof ProviderError && error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 0;
  const delayMs = Math.min(BACKOFF_MAX_MS, Math.max(hinted, BACKOFF_FIRST_MS * 2 ** (failures - 1)));
  const until = Date.now() + delayMs;
  await deps.pool.query(`SELECT graphile_worker.add_job('process_events', $1::json, run_at => now() + make_interval(secs => $2::float / 1000), max_attempts => 25)`, [
    JSON.stringify({ provider, instance_code: code, failures }),
    delayMs,
  ]);
  if (scheduled.size > 10_000) for (const [k, v] of scheduled) if (v.until < Date.now()) scheduled.delete(k);
  scheduled.set(key, { until, failures });
  deps.log.warn({ provider, instance: code, failures, retry_in_ms: delayMs, err: error.message }, 'processing the events of an instance failed; retrying it later');
}

async function processInstanceEvents(deps: JobDeps, payload: { provider: string; instance_code: string }, leaveToRetry: () => boolean): Promise<void> {
  await withInstanceLock(deps.pool, payload.provider, payload.instance_code, async () => {
    if (leaveToRetry()) return;
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
