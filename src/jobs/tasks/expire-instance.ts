import { noAlarms } from '../../alarms/alarm.ts';
import { expiredComment } from '../../engine/machine.ts';
import type { TaskPayloads } from '../../effects/tasks.ts';
import { InstanceNotFound, ProviderError } from '../../providers/provider.ts';
import { recordCallAttempt } from '../../store/sql/call-attempts.ts';
import { sendWhenDue } from '../../store/sql/claim-send.ts';
import { reserveRateSlot } from '../../store/sql/reserve-rate-slot.ts';
import { ticketUrl } from '../../tickets/narration.ts';
import type { StoredTicket } from '../../tickets/tickets.ts';
import type { JobDeps } from '../deps.ts';
import { imRetryDelayMs } from './im-retry.ts';
import { imName } from '../../providers/im-name.ts';

const MAX_ATTEMPTS = 5;
/** An end whose pace slot is further away than this waits in the job queue rather than holding a worker. */
const HOLD_AT_MOST_MS = 500;

/** What an operator can do when the IM refuses to end an expired ticket's instance. */
const remedy: Record<string, string> = {
  lark: 'Lark lets only the originator withdraw, and only when the approval definition allows it (更多设置: 允许撤销审批中的申请); the instance stays open in Lark, and the assistant refuses it if it reaches the check or execute node',
  wecom: 'WeCom has no API to end an approval (its approval APIs only create and read requests): withdraw or reject it in WeCom',
  dingtalk: 'DingTalk terminates only running instances, from 15 s after their start, when the template allows it (高级设置: 允许提交人撤销审批中的审批单); the instance stays open in DingTalk, and the assistant refuses it if it reaches the check or execute node',
};

/**
 * An expired ticket (the pipeline's `approval.expire_after`): first a comment on the instance, which the requester
 * reads, saying it expired and why; then the instance is ended — Lark: withdrawn as its originator
 * (approval/v4/instances/cancel); DingTalk: terminated as the system. The ticket is `expired` in Ticketflow whatever
 * the IM answers: a refusal is recorded on the ticket (its timeline says so), logged with what to change, and raised
 * as an `instance_not_ended` alarm (the instance still asks its approvers in the IM: an operator ends it by hand).
 */
export async function expireInstanceTask(deps: JobDeps, p: TaskPayloads['expire_instance']): Promise<void> {
  const ticket = await deps.tickets.get(p.ticket_id);
  const provider = ticket && deps.providers[ticket.provider];
  if (!ticket || !provider || ticket.state !== 'expired' || ticket.instanceCode.startsWith('pending:')) return;
  const pipeline = await deps.versions.get(ticket.pipeline.name, ticket.pipeline.version);
  const text = expiredComment(pipeline);
  const call = async (action: string, request: Record<string, unknown>, fn: () => Promise<void>): Promise<ProviderError | undefined> => {
    const started = performance.now();
    let error: ProviderError | undefined;
    try {
      await fn();
    } catch (e) {
      if (!(e instanceof ProviderError)) throw e;
      error = e;
    }
    await recordCallAttempt(deps.pool, { ticketId: ticket.id, target: provider.type, action, attempt: p.attempt, request, response: error ? { code: error.code, msg: error.message } : { code: 0 }, status: error?.status ?? 200, error: error?.message, latencyMs: performance.now() - started });
    deps.metrics.imCalls.inc({ provider: provider.type, action, outcome: error ? (error.transient ? 'retry' : 'failed') : 'done' });
    return error;
  };
  const retry = async (commented: boolean, error: ProviderError) => {
    await deps.outbox.later({ task: 'expire_instance', payload: { ticket_id: ticket.id, attempt: p.attempt + 1, commented }, runAt: new Date(Date.now() + imRetryDelayMs(p.attempt, error.retryAfterSeconds)) });
  };

  if (!p.commented) {
    const error = await call('comment', { instance_code: ticket.instanceCode, text }, () => provider.comment(ticket.instanceCode, provider.assistant, text));
    if (error && error.transient && p.attempt < MAX_ATTEMPTS) return retry(false, error);
    if (error) {
      deps.log.warn({ ticket: ticket.id, error: error.message }, `${provider.type}: the comment telling the requester that ticket ${ticket.id} expired could not be posted`);
      await deps.tickets.record(ticket, 'ticketflow', 'expiry_comment_failed', { error: error.message });
    }
  }

  if (!provider.endInstance) {
    const why = `${provider.type} cannot end instances`;
    await deps.tickets.record(ticket, 'ticketflow', 'instance_not_ended', { error: why });
    notEndedAlarm(deps, ticket, why);
    return;
  }
  // Paced across replicas (rate slots), as decisions and reminders are: tickets of one pipeline tend to expire together.
  if (provider.endPace) {
    const spacing = 60_000 / provider.endPace.perMinute;
    const wait = p.slot ? 0 : await reserveRateSlot(deps.pool, provider.endPace.key, spacing);
    if (wait > HOLD_AT_MOST_MS) {
      await deps.outbox.later({ task: 'expire_instance', payload: { ...p, commented: true, slot: true }, runAt: new Date(Date.now() + wait) });
      return;
    }
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    await sendWhenDue(deps.pool, provider.endPace.key, spacing);
  }
  const end = { definitionCode: ticket.definitionCode, instanceCode: ticket.instanceCode, originator: ticket.applicant.user_id, reason: text };
  const error = await call('end instance', { instance_code: ticket.instanceCode, originator: end.originator }, () => provider.endInstance!(end));
  if (!error) {
    await deps.tickets.record(ticket, 'ticketflow', 'instance_ended', { how: provider.type === 'lark' ? 'withdrawn' : 'terminated' });
    return;
  }
  if (!(error instanceof InstanceNotFound) && error.transient && p.attempt < MAX_ATTEMPTS) return retry(true, error);
  const why = error instanceof InstanceNotFound ? `${provider.type} no longer knows the instance` : error.message;
  deps.log.warn({ ticket: ticket.id, instance: ticket.instanceCode, error: why }, `ticket ${ticket.id} expired, but ${provider.type} did not end its instance (${why}): ${remedy[provider.type] ?? ''}`);
  await deps.tickets.record(ticket, 'ticketflow', 'instance_not_ended', { error: why, remedy: remedy[provider.type] });
  notEndedAlarm(deps, ticket, why);
}

/**
 * Tells the alarm channels that an expired ticket's instance is still open in the IM (one per ticket: its key), with
 * the reason, what to do and the ticket's console page. Like every alarm, nothing of the form or of the people in it
 * leaves with it: the requester's id, should the IM's answer quote it, is taken out of the reason.
 */
function notEndedAlarm(deps: JobDeps, ticket: StoredTicket, why: string): void {
  const im = imName(ticket.provider);
  const requester = ticket.applicant.user_id;
  const reason = requester ? why.split(requester).join('[the requester]') : why;
  (deps.alarms ?? noAlarms).raise({
    kind: 'instance_not_ended',
    key: ticket.id,
    title: `Ticket ${ticket.id} (${ticket.pipeline.name}) expired, but ${im} did not end its instance`,
    text: [`Pipeline: ${ticket.pipeline.name} v${ticket.pipeline.version}`, `Instance: ${ticket.instanceCode}`, `Reason: ${reason}`, ...(remedy[ticket.provider] ? [`What to do: ${remedy[ticket.provider]}`] : [])].join('\n'),
    link: ticketUrl(deps.config.publicUrl, ticket.id),
    pipeline: ticket.pipeline.name,
  });
}
