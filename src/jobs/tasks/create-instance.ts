import type { TaskPayloads } from '../../effects/tasks.ts';
import { NotCreatable } from '../../providers/not-creatable.ts';
import { ProviderError } from '../../providers/provider.ts';
import { recordCallAttempt } from '../../store/sql/call-attempts.ts';
import type { JobDeps } from '../deps.ts';
import { imRetryDelayMs } from './im-retry.ts';

/**
 * Creates the IM instance of a ticket born in a business system, after its check passed. On Lark the ticket id
 * is the instance `uuid`, so a retry after a crash finds the same instance instead of making a second one.
 */
export async function createInstanceTask(deps: JobDeps, p: TaskPayloads['create_instance']): Promise<void> {
  const ticket = await deps.tickets.get(p.ticket_id);
  const provider = ticket && deps.providers[ticket.provider];
  if (!ticket || !provider?.createInstance || !ticket.instanceCode.startsWith('pending:')) return;
  const pipeline = await deps.versions.get(ticket.pipeline.name, ticket.pipeline.version);
  const attempt = p.attempt ?? 1;
  const started = performance.now();
  try {
    // An instance already linked to another ticket (the same form from the same originator twice) is never adopted.
    const takenByAnother = async (code: string) => {
      const owner = await deps.tickets.byInstance(provider.type, code);
      return owner !== undefined && owner.id !== ticket.id;
    };
    const { instanceCode } = await provider.createInstance(pipeline, { id: ticket.id, fields: ticket.fields ?? {}, originator: ticket.applicant.user_id, openedAt: ticket.createdAt, takenByAnother });
    await recordCallAttempt(deps.pool, { ticketId: ticket.id, target: provider.type, action: 'create instance', attempt, request: { pipeline: ticket.pipeline, originator: ticket.applicant.user_id }, response: { instance_code: instanceCode }, status: 200, latencyMs: performance.now() - started });
    await deps.tickets.apply(ticket, { type: 'instance_created', instanceCode }, pipeline, provider.type);
  } catch (e) {
    const error = e as Error;
    await recordCallAttempt(deps.pool, { ticketId: ticket.id, target: provider.type, action: 'create instance', attempt, error: error.message, status: (e as ProviderError).status, latencyMs: performance.now() - started });
    if (e instanceof NotCreatable || (e instanceof ProviderError && !e.transient && attempt >= 3)) {
      await deps.tickets.record(ticket, 'ticketflow', 'create_instance_failed', { error: error.message });
      deps.log.error({ ticket: ticket.id, err: error.message }, 'could not create the IM instance');
      return;
    }
    await deps.outbox.later({ task: 'create_instance', payload: { ticket_id: ticket.id, attempt: attempt + 1 }, runAt: new Date(Date.now() + imRetryDelayMs(attempt, (e as ProviderError).retryAfterSeconds)) });
  }
}
