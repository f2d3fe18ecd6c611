import { callBusiness, outcomeEvent, type CallOutcome } from '../../business/call.ts';
import { idempotencyKey, stageRequest } from '../../business/request.ts';
import { outboundPolicy } from '../../business/outbound.ts';
import { expects } from '../../engine/machine.ts';
import type { TaskPayloads } from '../../effects/tasks.ts';
import { parseDuration } from '../../pipeline/duration.ts';
import { recordCallAttempt } from '../../store/sql/call-attempts.ts';
import type { JobDeps } from '../deps.ts';

/**
 * One attempt of a check or execute call. The HTTP call happens outside any transaction; its outcome is then
 * applied to the ticket under its row lock. A retry of this job (after a crash) repeats the call with the same
 * Idempotency-Key, which is the contract's promise to business services.
 */
export async function callBusinessTask(deps: JobDeps, payload: TaskPayloads['call_business']): Promise<void> {
  const ticket = await deps.tickets.get(payload.ticket_id);
  if (!ticket || !expects(ticket, payload.stage) || ticket.attempts !== payload.attempt) return; // superseded
  const pipeline = await deps.versions.get(ticket.pipeline.name, ticket.pipeline.version);
  const spec = pipeline.stages[payload.stage]!;
  const secret = deps.secret(pipeline.secret_env);
  let outcome: CallOutcome;
  if (!secret) {
    outcome = { kind: 'unreachable', error: `the signing secret ${pipeline.secret_env} is not set`, final: true };
  } else {
    const call = await callBusiness({
      url: spec.endpoint,
      body: stageRequest(ticket, payload.stage, pipeline, deps.config.publicUrl),
      secret,
      idempotencyKey: idempotencyKey(ticket.id, payload.stage),
      mode: spec.mode,
      timeoutMs: parseDuration(spec.timeout ?? '10s'),
      ticketId: ticket.id,
      policy: outboundPolicy(deps.config),
    });
    outcome = call.outcome;
    await recordCallAttempt(deps.pool, { ticketId: ticket.id, target: 'business', stage: payload.stage, action: spec.mode === 'async' ? 'call (async)' : 'call', attempt: payload.attempt, request: call.record.request, response: call.record.response, status: call.record.status, error: call.record.error, latencyMs: call.record.latencyMs });
    deps.metrics.businessCallSeconds.observe({ stage: payload.stage }, call.record.latencyMs / 1000);
  }
  deps.metrics.businessCalls.inc({ pipeline: ticket.pipeline.name, stage: payload.stage, outcome: outcome.kind });
  if (outcome.kind === 'unreachable') deps.log.warn({ ticket: ticket.id, stage: payload.stage, attempt: payload.attempt, error: outcome.error }, 'business call failed');

  const event = outcomeEvent(payload.stage, payload.attempt, outcome, () => new Date(Date.now() + parseDuration(spec.deadline ?? '1h')).toISOString());
  await deps.tickets.apply(ticket, event, pipeline, 'business');
}
