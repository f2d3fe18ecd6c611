import { outboundPolicy, outboundRequest } from '../../business/outbound.ts';
import { signRequestV11 } from '../../business/signature.ts';
import type { TaskPayloads } from '../../effects/tasks.ts';
import { recordCallAttempt } from '../../store/sql/call-attempts.ts';
import type { JobDeps } from '../deps.ts';

/** The signed notify webhook of an `origin: api` pipeline, sent on the ticket's final state, retried until a 2xx. */
export async function notifyTask(deps: JobDeps, p: TaskPayloads['notify']): Promise<void> {
  const ticket = await deps.tickets.get(p.ticket_id);
  if (!ticket) return;
  const pipeline = await deps.versions.get(ticket.pipeline.name, ticket.pipeline.version);
  const secret = deps.secret(pipeline.secret_env);
  if (!pipeline.notify_url || !secret) return;
  const last = ticket.results.execute ?? ticket.results.check;
  const body = { ticket_id: ticket.id, pipeline: ticket.pipeline.name, state: ticket.state, result: ticket.state === 'completed', msg: last?.msg ?? null, error: last?.result === false ? (last.error ?? null) : null };
  const raw = JSON.stringify(body);
  const started = performance.now();
  let status: number | undefined;
  let error: string | undefined;
  try {
    const res = await outboundRequest(pipeline.notify_url, { headers: { 'content-type': 'application/json', 'idempotency-key': `${ticket.id}:notify`, ...signRequestV11(secret, { method: 'POST', path: pipeline.notify_url, idempotencyKey: `${ticket.id}:notify`, rawBody: raw }, { withV1: true }) }, body: raw, timeoutMs: 10_000, maxBytes: 64 << 10, policy: outboundPolicy(deps.config) });
    status = res.status;
    if (res.status < 200 || res.status >= 300) error = `HTTP ${res.status}`;
  } catch (e) {
    error = (e as Error).message;
  }
  await recordCallAttempt(deps.pool, { ticketId: ticket.id, target: 'business', action: 'notify', attempt: p.attempt, request: { url: pipeline.notify_url, body }, status, error, latencyMs: performance.now() - started });
  if (error && p.attempt < 20) {
    await deps.outbox.later({ task: 'notify', payload: { ticket_id: ticket.id, attempt: p.attempt + 1 }, runAt: new Date(Date.now() + Math.min(600_000, 1000 * 2 ** p.attempt)) });
  }
}
