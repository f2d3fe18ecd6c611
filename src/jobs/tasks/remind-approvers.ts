import { createHash } from 'node:crypto';
import { durationWords } from '../../engine/human-step.ts';
import { parseDuration } from '../../pipeline/duration.ts';
import type { StoredTicket } from '../../tickets/tickets.ts';
import type { TaskPayloads } from '../../effects/tasks.ts';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { InstanceNotFound, ProviderError, type NeutralInstance, type Provider, type Reminder, type ReminderRecipient } from '../../providers/provider.ts';
import { recordCallAttempt } from '../../store/sql/call-attempts.ts';
import { sendWhenDue } from '../../store/sql/claim-send.ts';
import { reserveRateSlot } from '../../store/sql/reserve-rate-slot.ts';
import type { JobDeps } from '../deps.ts';
import { imRetryDelayMs } from './im-retry.ts';

/** A send whose pace slot is further away than this waits in the job queue rather than holding a worker. */
const HOLD_AT_MOST_MS = 500;
/** Attempts of one reminder before it is given up (the next one comes at `remind_every`). */
const MAX_ATTEMPTS = 5;
/** An IM that asks to wait longer than this (a spent monthly quota: an hour) is not asked again for this reminder. */
const LONGEST_WAIT_S = 600;

/** The approvers the IM shows as pending, once each, without Ticketflow's own assistant. */
export function pendingApprovers(instance: Pick<NeutralInstance, 'tasks'>, assistant: string): ReminderRecipient[] {
  const out = new Map<string, ReminderRecipient>();
  for (const t of instance.tasks) {
    if (!t.pending || !t.userId || t.userId === assistant || out.has(t.userId)) continue;
    out.set(t.userId, { userId: t.userId, taskId: t.id, ...(t.links ? { links: t.links } : {}) });
  }
  return [...out.values()];
}

/** The IM calls a reminder takes: people sharing the same links together, at most `size` a call. */
export function reminderBatches(to: readonly ReminderRecipient[], size: number): ReminderRecipient[][] {
  const byLinks = new Map<string, ReminderRecipient[]>();
  for (const r of to) {
    const key = JSON.stringify(r.links ?? {});
    byLinks.set(key, [...(byLinks.get(key) ?? []), r]);
  }
  const out: ReminderRecipient[][] = [];
  for (const group of byLinks.values()) for (let i = 0; i < group.length; i += Math.max(1, size)) out.push(group.slice(i, i + Math.max(1, size)));
  return out;
}

/** "2026-11-23 10:00 UTC". */
const minute = (d: Date) => `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;

/** A wait as a person reads it, in its largest unit: "3 天" / "3 days", "4 小时" / "4 hours", "20 分钟", "5 秒". */
export function waited(ms: number, lang: 'zh' | 'en'): string {
  const units: Array<[number, string]> = [
    [86_400_000, 'd'],
    [3_600_000, 'h'],
    [60_000, 'm'],
    [1_000, 's'],
  ];
  const [size, unit] = units.find(([size]) => ms >= size) ?? [1_000, 's'];
  return durationWords(`${Math.floor(ms / size)}${unit}`, lang);
}

/**
 * What a reminder says, in Chinese then English: whose request, which pipeline, which reminder and when (so that two
 * reminders never read the same: DingTalk delivers identical content to a person once a day), how long it has
 * waited, and when it expires. Pure.
 */
export function reminderWords(ticket: Pick<StoredTicket, 'applicant' | 'pipeline' | 'approval'>, pipeline: Pick<Pipeline, 'approval' | 'metadata'>, reminder: number, now: Date): Pick<Reminder, 'title' | 'text' | 'button'> {
  const since = ticket.approval ? new Date(ticket.approval.since) : now;
  const wait = Math.max(0, now.getTime() - since.getTime());
  const who = ticket.applicant.user_id;
  const what = pipeline.metadata.description ? `${ticket.pipeline.name} (${pipeline.metadata.description})` : ticket.pipeline.name;
  const expires = pipeline.approval?.expire_after;
  const expiresAt = expires ? minute(new Date(since.getTime() + parseDuration(expires))) : undefined;
  return {
    title: '审批提醒 · Approval reminder',
    text: [
      `${who} 的申请「${what}」正在等待你审批，已等待 ${waited(wait, 'zh')}（第 ${reminder} 次提醒，${minute(now)}）。${expiresAt ? `无人处理将于 ${expiresAt} 过期。` : ''}`,
      `${who}'s request "${what}" is waiting for your approval: ${waited(wait, 'en')} so far (reminder ${reminder}, ${minute(now)}).${expiresAt ? ` Undecided, it expires at ${expiresAt}.` : ''}`,
    ].join('\n'),
    button: '去审批 · Open the approval',
  };
}

/** Lark's `uuid` (at most 50 characters): the same for the same reminder to the same people, whatever the attempt. */
const dedupeKey = (ticketId: string, reminder: number, to: readonly ReminderRecipient[]) => `tfr-${createHash('sha256').update(`${ticketId}:${reminder}:${to.map((r) => r.userId).join(',')}`).digest('hex').slice(0, 40)}`;

/** People an IM refused to reach, said once per process (at warn), then only recorded on each ticket. */
const refusedSaid = new Set<string>();
/** IMs that cannot send reminders, said once per process. */
const cannotSaid = new Set<string>();

/**
 * Reminds the approvers the IM shows as pending (read from the instance, not guessed), one IM call per batch,
 * paced across replicas like task decisions (rate slots). A person the IM refuses (Lark 230013: outside the bot's
 * availability, and the like) is recorded and skipped; a failed call is retried with the people not reminded yet;
 * a long wait asked by the IM (a spent quota) gives this reminder up. Nothing is sent once the ticket left approval.
 */
export async function remindApproversTask(deps: JobDeps, p: TaskPayloads['remind_approvers']): Promise<void> {
  const ticket = await deps.tickets.get(p.ticket_id);
  const provider = ticket && deps.providers[ticket.provider];
  if (!ticket || !provider || ticket.state !== 'in_approval') return;
  const notSent = (reason: string) => deps.tickets.record(ticket, 'ticketflow', 'reminder_not_sent', { reminder: p.reminder, reason });
  if (!provider.remind) {
    const reason = provider.type === 'dingtalk' ? 'DingTalk reminders are work notifications, sent by the app’s agent: set DINGTALK_AGENT_ID' : `${provider.type} cannot send reminders`;
    if (!cannotSaid.has(provider.type)) deps.log.warn({ provider: provider.type }, `no reminder sent: ${reason}`);
    cannotSaid.add(provider.type);
    await notSent(reason);
    return;
  }
  const pipeline = await deps.versions.get(ticket.pipeline.name, ticket.pipeline.version);
  let to = p.to;
  if (!to) {
    try {
      to = pendingApprovers(await provider.readInstance(ticket.instanceCode, ticket.definitionCode), provider.assistant);
    } catch (e) {
      if (!(e instanceof ProviderError)) throw e;
      if (!(e instanceof InstanceNotFound) && e.transient && p.attempt < MAX_ATTEMPTS && (e.retryAfterSeconds ?? 0) <= LONGEST_WAIT_S) {
        await deps.outbox.later({ task: 'remind_approvers', payload: { ...p, attempt: p.attempt + 1 }, runAt: new Date(Date.now() + imRetryDelayMs(p.attempt, e.retryAfterSeconds)) });
        return;
      }
      await notSent(`the instance could not be read: ${e.message}`);
      return;
    }
    if (to.length === 0) {
      await notSent('no approver is pending in the IM');
      return;
    }
  }

  // Dated when the reminder was due, not when this attempt runs: a retried send reads exactly the same, so Lark's uuid
  // and DingTalk's once-a-day rule for identical content both absorb a repeat after a crash.
  const words = reminderWords(ticket, pipeline, p.reminder, ticket.approval?.remindedAt && ticket.approval.reminders === p.reminder ? new Date(ticket.approval.remindedAt) : new Date());
  const batches = reminderBatches(to, provider.reminderBatch ?? 1);
  const sent: string[] = [];
  const refused: Array<{ userId: string; reason: string }> = [];
  const progress = async (extra: Record<string, unknown> = {}) => {
    if (sent.length || refused.length || Object.keys(extra).length) await deps.tickets.record(ticket, 'ticketflow', 'approvers_reminded', { reminder: p.reminder, sent, refused, ...extra });
  };
  for (let i = 0; i < batches.length; i++) {
    const batch = batches[i]!;
    const rest = batches.slice(i).flat();
    let startedAt: Date | undefined;
    if (provider.remindPace) {
      const spacing = 60_000 / provider.remindPace.perMinute;
      const wait = i === 0 && p.slot ? 0 : await reserveRateSlot(deps.pool, provider.remindPace.key, spacing);
      if (wait > HOLD_AT_MOST_MS) {
        await progress();
        await deps.outbox.later({ task: 'remind_approvers', payload: { ...p, to: rest, slot: true }, runAt: new Date(Date.now() + wait) });
        return;
      }
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      startedAt = await sendWhenDue(deps.pool, provider.remindPace.key, spacing);
    }
    const reminder: Reminder = { instanceCode: ticket.instanceCode, definitionCode: ticket.definitionCode, to: batch, ...words, dedupeKey: dedupeKey(ticket.id, p.reminder, batch) };
    const started = performance.now();
    let error: ProviderError | undefined;
    let outcome: Awaited<ReturnType<NonNullable<Provider['remind']>>> | undefined;
    try {
      outcome = await provider.remind(reminder);
    } catch (e) {
      if (!(e instanceof ProviderError)) throw e;
      error = e;
    }
    await recordCallAttempt(deps.pool, {
      ticketId: ticket.id,
      target: provider.type,
      action: 'remind',
      attempt: p.attempt,
      startedAt,
      request: { to: batch.map((r) => r.userId), reminder: p.reminder, title: words.title, text: words.text },
      response: error ? { code: error.code, msg: error.message } : { code: 0, refused: outcome!.refused },
      status: error?.status ?? 200,
      error: error?.message,
      latencyMs: performance.now() - started,
    });
    deps.metrics.imCalls.inc({ provider: provider.type, action: 'remind', outcome: error ? (error.transient ? 'retry' : 'failed') : 'done' });
    if (error) {
      if (error.transient && p.attempt < MAX_ATTEMPTS && (error.retryAfterSeconds ?? 0) <= LONGEST_WAIT_S) {
        const delay = imRetryDelayMs(p.attempt, error.retryAfterSeconds);
        deps.log.warn({ ticket: ticket.id, reminder: p.reminder, attempt: p.attempt, error: error.message, retry_in_ms: delay }, `${provider.type}: sending a reminder failed; retrying`);
        await progress();
        await deps.outbox.later({ task: 'remind_approvers', payload: { ...p, to: rest, attempt: p.attempt + 1, slot: false }, runAt: new Date(Date.now() + delay) });
        return;
      }
      if (rest.length) deps.metrics.approvalReminders.inc({ pipeline: ticket.pipeline.name, provider: provider.type, outcome: 'failed' }, rest.length);
      deps.log.warn({ ticket: ticket.id, reminder: p.reminder, error: error.message }, `${provider.type}: a reminder could not be sent; the next one comes as the pipeline says`);
      await progress({ failed: rest.map((r) => r.userId), error: error.message });
      return;
    }
    const no = new Set(outcome!.refused.map((r) => r.userId));
    for (const r of outcome!.refused) {
      refused.push(r);
      deps.metrics.approvalReminders.inc({ pipeline: ticket.pipeline.name, provider: provider.type, outcome: 'refused' });
      const key = `${provider.type}:${r.userId}`;
      if (!refusedSaid.has(key)) deps.log.warn({ provider: provider.type, user: r.userId, reason: r.reason }, `${provider.type} cannot send reminders to ${r.userId} (${r.reason}); they are skipped`);
      refusedSaid.add(key);
    }
    for (const r of batch) {
      if (no.has(r.userId)) continue;
      sent.push(r.userId);
      deps.metrics.approvalReminders.inc({ pipeline: ticket.pipeline.name, provider: provider.type, outcome: 'sent' });
    }
  }
  await progress();
}
