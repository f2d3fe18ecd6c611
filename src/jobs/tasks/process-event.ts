import type { TicketEvent } from '../../engine/events.ts';
import { openTicket } from '../../engine/machine.ts';
import { isFinal, type Ticket } from '../../engine/ticket.ts';
import type { TaskPayloads } from '../../effects/tasks.ts';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { InstanceNotFound, ProviderError, type NeutralInstance } from '../../providers/provider.ts';
import { withInstanceLock } from '../../store/instance-lock.ts';
import { eventReceivedWithin } from '../../store/sql/event-received-within.ts';
import { markEventProcessed } from '../../store/sql/mark-event-processed.ts';
import { unprocessedEvents } from '../../store/sql/unprocessed-events.ts';
import { newTicketId, type StoredTicket } from '../../tickets/tickets.ts';
import type { JobDeps } from '../deps.ts';
import type { InstanceRetries } from '../instance-retries.ts';
import { withPause } from '../pause.ts';

/** An instance that fails is retried after 1 s, doubling up to 1 hour, and given up after 25 failures in a row. */
const BACKOFF_FIRST_MS = 1_000;
const BACKOFF_MAX_MS = 3_600_000;
const MAX_FAILURES = 25;

/**
 * Processes every unprocessed event of the instance (or of each instance, one after the other), in stored order.
 * An instance that fails (its IM read fails, say) backs off on its own: one retry job, later each time, handles
 * all its events, and the runs for its new events meanwhile end at once without a read. So a flood of events for
 * instances the IM cannot read costs a few reads each and never holds up the other tickets.
 */
export async function processEvents(deps: JobDeps, retries: InstanceRetries, payload: TaskPayloads['process_events']): Promise<void> {
  const codes = 'instance_codes' in payload ? payload.instance_codes : [payload.instance_code];
  const retry = 'instance_code' in payload ? payload.failures : undefined;
  for (const code of codes) {
    const key = `${payload.provider}:${code}`;
    // Looked at again once the instance's lock is held: a run that failed meanwhile may have scheduled a retry.
    const leaveToRetry = () => retry === undefined && retries.leaveToRetry(key);
    if (leaveToRetry()) continue;
    const seen = retries.current(key);
    try {
      await processInstanceEvents(deps, payload.provider, code, leaveToRetry);
      retries.processed(key, seen);
    } catch (e) {
      await backOff(deps, retries, payload.provider, code, (retry ?? retries.failures(key)) + 1, e as Error);
    }
  }
}

/** Schedules the instance's retry (or gives up); throws only when even that fails, so the queue retries the run. */
async function backOff(deps: JobDeps, retries: InstanceRetries, provider: string, code: string, failures: number, error: Error): Promise<void> {
  const key = `${provider}:${code}`;
  if (failures >= MAX_FAILURES) {
    retries.givenUp(key);
    deps.log.error({ provider, instance: code, failures, err: error.message }, 'gave up processing the events of an instance; its next event tries again');
    return;
  }
  const hinted = error instanceof ProviderError && error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 0;
  const delayMs = Math.min(BACKOFF_MAX_MS, Math.max(hinted, BACKOFF_FIRST_MS * 2 ** (failures - 1)));
  const until = Date.now() + delayMs;
  await deps.outbox.later({ task: 'process_events', payload: { provider, instance_code: code, failures }, runAt: new Date(until), maxAttempts: 25 });
  retries.scheduledAt(key, until, failures);
  deps.log.warn({ provider, instance: code, failures, retry_in_ms: delayMs, err: error.message }, 'processing the events of an instance failed; retrying it later');
}

async function processInstanceEvents(deps: JobDeps, provider: string, instanceCode: string, leaveToRetry: () => boolean): Promise<void> {
  await withInstanceLock(deps.pool, provider, instanceCode, async () => {
    if (leaveToRetry()) return;
    let ticket: StoredTicket | undefined | null = null;
    for (const event of await unprocessedEvents(deps.pool, provider, instanceCode)) ticket = await processEvent(deps, { provider, ...event }, ticket);
  });
}

/**
 * Turns one stored IM event into ticket transitions, through the provider's neutral view of it. Reads the
 * instance when it needs the form (a new ticket) or the task's node; everything it decides commits together with
 * the event marked processed. Runs under the instance's lock; `known` is the instance's ticket as the previous
 * event of the same run left it (`null`: not looked up yet). Returns the ticket, if any.
 */
async function processEvent(deps: JobDeps, stored: { provider: string; eventId: string; payload: Record<string, unknown> }, known: StoredTicket | undefined | null): Promise<StoredTicket | undefined | null> {
  const consumes = { provider: stored.provider, eventId: stored.eventId };
  const done = async () => {
    await markEventProcessed(deps.pool, stored.provider, stored.eventId);
    return known;
  };
  const provider = deps.providers[stored.provider];
  const event = provider?.classify(stored.payload) ?? { kind: 'other' as const };
  if (!provider || event.kind === 'other') return done();

  const existing = known ?? (await deps.tickets.byInstance(provider.type, event.instanceCode));
  const pipeline: Pipeline | undefined = existing ? await deps.versions.get(existing.pipeline.name, existing.pipeline.version) : deps.registry.byDefinition(provider.type, event.definitionCode)?.pipeline;
  const closing = event.kind === 'instance' && event.status !== 'PENDING';
  if (!existing && pipeline?.origin === 'api') {
    // Our own create: the job linking the instance to its ticket may not have committed yet; try again shortly.
    if (await eventReceivedWithin(deps.pool, stored.provider, stored.eventId, 120)) throw new Error(`instance ${event.instanceCode} is not linked to a ticket yet`);
    return done();
  }
  // No pipeline is live for it (any more), or the instance ended before we ever saw it: nothing to drive.
  if (!existing && (!pipeline || closing)) return done();

  let instance: NeutralInstance | undefined;
  const readInstance = async () => (instance ??= await provider.readInstance(event.instanceCode, existing?.definitionCode ?? event.definitionCode));

  // An event that is only a trigger (WeCom's sys_approval_change): the instance read says the state (an instance the IM
  // no longer knows was deleted). Not read for a ticket already final, which nothing changes.
  if (event.kind === 'instance' && event.readStatus && existing && !isFinal(existing)) {
    event.status = await readInstance().then(
      (i) => i.status,
      (e: unknown) => {
        if (e instanceof InstanceNotFound) return 'DELETED' as const;
        throw e;
      },
    );
  }

  let ticketEvent: TicketEvent | undefined;
  let note: Record<string, unknown> | undefined;
  if (event.kind === 'task') {
    const task = provider.eventNamesNode(pipeline!) ? undefined : (await readInstance()).tasks.find((t) => t.id === event.taskId);
    const node = { nodeKey: task?.nodeKey ?? event.nodeKey, nodeName: task?.nodeName };
    const stage = provider.stageOf(pipeline!, node);
    if (stage && event.pending && event.userId === provider.assistant) ticketEvent = await withPause(deps, pipeline!, { type: 'assistant_task_pending', stage, taskId: event.taskId }, existing);
    else note = { im_task: { task_id: event.taskId, user_id: event.userId, status: event.status, node: node.nodeKey ?? node.nodeName, stage } };
  } else if (event.kind === 'instance' && event.status !== 'PENDING') {
    ticketEvent = { type: 'instance_closed', status: event.status };
  } else if (event.kind === 'instance' && event.reopened) {
    ticketEvent = { type: 'instance_reopened' };
  }

  if (existing) {
    if (ticketEvent) return (await deps.tickets.apply(existing, ticketEvent, pipeline!, provider.type, { detail: { event_id: stored.eventId }, consumes })).ticket;
    // A human approver acting on their task starts the human step's reminder clock over.
    const acted = event.kind === 'task' && !event.pending && event.userId !== provider.assistant;
    if (note) await deps.tickets.noteImEvent(existing, consumes, note, acted ? { pipeline: pipeline! } : undefined);
    else await markEventProcessed(deps.pool, stored.provider, stored.eventId);
    return existing;
  }
  const i = await readInstance();
  const mapped = i.mapFields(pipeline!, new Date());
  const opened = openTicket({ id: newTicketId(), pipeline: pipeline!, provider: provider.type as Ticket['provider'], instanceCode: i.instanceCode, serialNumber: i.serialNumber, applicant: i.applicant, fields: mapped.fields, fieldProblems: mapped.problems, now: new Date() });
  return deps.tickets.openFromInstance(opened, pipeline!, provider.type, { event: ticketEvent, note, consumes });
}
