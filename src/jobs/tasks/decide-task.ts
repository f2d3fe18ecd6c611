import type { TaskPayloads } from '../../effects/tasks.ts';
import { InstanceNotFound, ProviderError, type Provider } from '../../providers/provider.ts';
import { recordCallAttempt } from '../../store/sql/call-attempts.ts';
import { sendWhenDue } from '../../store/sql/claim-send.ts';
import { reserveRateSlot } from '../../store/sql/reserve-rate-slot.ts';
import type { JobDeps } from '../deps.ts';
import { imRetryDelayMs } from './im-retry.ts';

/** A task whose slot is further away than this waits in the job queue rather than holding a worker. */
const HOLD_AT_MOST_MS = 500;

/**
 * Approves or rejects the assistant's task in the IM (Lark: paced to LARK_RATE_PER_MINUTE across replicas). A 429
 * waits for Lark's `x-ogw-ratelimit-reset`; 5xx and an unreachable IM back off; a task found no longer pending is
 * done.
 */
export async function decideTaskTask(deps: JobDeps, p: TaskPayloads['decide_task']): Promise<void> {
  const ticket = await deps.tickets.get(p.ticket_id);
  const provider = ticket && deps.providers[ticket.provider];
  if (!ticket || !provider) return;
  const pace = provider.decidePace;
  let startedAt = new Date();
  if (pace) {
    const { key, perMinute: rate } = pace;
    const wait = p.slot ? 0 : await reserveRateSlot(deps.pool, key, 60_000 / rate);
    if (wait > HOLD_AT_MOST_MS) {
      await deps.outbox.later({ task: 'decide_task', payload: { ...p, slot: true }, runAt: new Date(Date.now() + wait), key: `decide:${ticket.id}:${p.task_id}:${p.attempt}:slot` });
      return;
    }
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    startedAt = await sendWhenDue(deps.pool, key, 60_000 / rate);
  }
  const request = { definitionCode: ticket.definitionCode, instanceCode: ticket.instanceCode, taskId: p.task_id, assistant: provider.assistant, action: p.action, comment: p.comment };
  const started = performance.now();
  let outcome: 'done' | 'already_handled' | 'instance_gone' | 'retry';
  let error: ProviderError | undefined;
  try {
    await provider.decideTask(request);
    outcome = 'done';
  } catch (e) {
    if (!(e instanceof ProviderError)) throw e;
    error = e;
    outcome = e.transient ? 'retry' : await afterRefusal(provider, ticket.instanceCode, ticket.definitionCode, p.task_id);
  }
  const latencyMs = performance.now() - started;
  await recordCallAttempt(deps.pool, { ticketId: ticket.id, target: provider.type, stage: p.stage, action: `task ${p.action}`, attempt: p.attempt, startedAt, request, response: error ? { code: error.code, msg: error.message } : { code: 0 }, status: error?.status ?? 200, error: error?.message, latencyMs });
  deps.metrics.imCalls.inc({ provider: provider.type, action: p.action, outcome });
  if (outcome === 'retry') {
    const delay = imRetryDelayMs(p.attempt, error?.retryAfterSeconds);
    deps.log.warn({ ticket: ticket.id, task: p.task_id, attempt: p.attempt, error: error?.message, retry_in_ms: delay }, `${provider.type} ${p.action} failed; retrying`);
    await deps.outbox.later({ task: 'decide_task', payload: { ...p, attempt: p.attempt + 1, slot: false }, runAt: new Date(Date.now() + delay), key: `decide:${ticket.id}:${p.task_id}:${p.attempt + 1}` });
    return;
  }
  if (outcome === 'instance_gone') {
    // Nothing left to decide; the reconciler closes the ticket when it finds the instance gone.
    deps.log.warn({ ticket: ticket.id, task: p.task_id }, `${provider.type} no longer knows the instance of ticket ${ticket.id}; its task was not ${p.action === 'approve' ? 'approved' : 'rejected'}`);
    await deps.tickets.record(ticket, 'ticketflow', 'task_not_decided', { stage: p.stage, task_id: p.task_id, note: `${provider.type} no longer knows the instance` });
    return;
  }
  await deps.tickets.record(ticket, 'ticketflow', p.action === 'approve' ? 'task_approved' : 'task_rejected', { stage: p.stage, task_id: p.task_id, ...(outcome === 'already_handled' ? { note: 'the task was no longer pending' } : {}) });
}

/** After a refusal that is not transient: the task may have been decided already, or its instance be gone. */
async function afterRefusal(provider: Provider, instanceCode: string, definitionCode: string, taskId: string): Promise<'retry' | 'already_handled' | 'instance_gone'> {
  try {
    const instance = await provider.readInstance(instanceCode, definitionCode);
    return instance.tasks.find((t) => t.id === taskId)?.pending === true ? 'retry' : 'already_handled';
  } catch (e) {
    return e instanceof InstanceNotFound ? 'instance_gone' : 'retry'; // else cannot tell: try again later
  }
}
