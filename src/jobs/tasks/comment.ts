import type { TaskPayloads } from '../../effects/tasks.ts';
import { NotSupported, ProviderError } from '../../providers/provider.ts';
import { recordCallAttempt } from '../../store/sql/call-attempts.ts';
import type { JobDeps } from '../deps.ts';
import { imRetryDelayMs } from './im-retry.ts';

/** A comment on the instance, which the requester reads in the IM. */
export async function commentTask(deps: JobDeps, p: TaskPayloads['comment']): Promise<void> {
  const ticket = await deps.tickets.get(p.ticket_id);
  const provider = ticket && deps.providers[ticket.provider];
  if (!ticket || !provider) return;
  const started = performance.now();
  let error: ProviderError | undefined;
  try {
    await provider.comment(ticket.instanceCode, provider.assistant, p.text);
  } catch (e) {
    if (!(e instanceof ProviderError)) throw e;
    error = e;
  }
  await recordCallAttempt(deps.pool, { ticketId: ticket.id, target: provider.type, action: 'comment', attempt: p.attempt, request: { instance_code: ticket.instanceCode, text: p.text }, response: error ? { code: error.code, msg: error.message } : { code: 0 }, status: error?.status ?? 200, error: error?.message, latencyMs: performance.now() - started });
  deps.metrics.imCalls.inc({ provider: provider.type, action: 'comment', outcome: error ? 'retry' : 'done' });
  // An IM without comments (WeCom) will not have one later either.
  if (error && !(error instanceof NotSupported) && (error.transient || p.attempt < 5)) {
    await deps.outbox.later({ task: 'comment', payload: { ...p, attempt: p.attempt + 1 }, runAt: new Date(Date.now() + imRetryDelayMs(p.attempt, error.retryAfterSeconds)) });
  } else if (error instanceof NotSupported) {
    deps.log.info({ ticket: ticket.id }, `${provider.type} takes no comments: the requester is not told in the IM`);
  } else if (error) {
    deps.log.error({ ticket: ticket.id, error: error.message }, 'giving up on a Lark comment');
  }
}
