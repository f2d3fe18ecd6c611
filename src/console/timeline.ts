import { durationWords } from '../engine/human-step.ts';
import { retryDelayMs } from '../engine/machine.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { formatDuration } from './format.ts';
import { t, type Lang, type MessageKey } from './i18n.ts';

/** A row of `ticket_audit`. */
export interface AuditEntry {
  at: Date;
  actor: string;
  event: string;
  from_state: string | null;
  to_state: string;
  detail: Record<string, unknown> | null;
}

/** A row of `call_attempts`. */
export interface CallRecord {
  at: Date;
  target: string;
  stage: string | null;
  action: string;
  attempt: number;
  status: number | null;
  error: string | null;
  latency_ms: number;
}

export type Tone = 'good' | 'bad' | 'wait' | 'info';

/** One line of a ticket's history, as a sentence. */
export interface TimelineItem {
  at: Date;
  text: string;
  tone: Tone;
  /** The state entered, when the entry changed it. */
  entered?: string;
  entry: AuditEntry;
}

export interface TimelineContext {
  lang: Lang;
  im: string;
  applicant: string;
  /** The ticket's pipeline version, for the wait before a retry when the entry does not say it. */
  pipeline?: Pipeline;
}

/** The audit log of a ticket told as sentences, with the latency of the business call behind each answer. */
export function timeline(audit: AuditEntry[], calls: CallRecord[], c: TimelineContext): TimelineItem[] {
  return audit.map((entry) => {
    const { text, tone } = sentence(entry, calls, c);
    return { at: entry.at, text, tone, entered: entry.from_state !== entry.to_state ? entry.to_state : undefined, entry };
  });
}

const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const quoted = (lang: Lang, text: string) => (text ? ` — “${text}”` : '');

function sentence(e: AuditEntry, calls: CallRecord[], c: TimelineContext): { text: string; tone: Tone } {
  const { lang } = c;
  const d = e.detail ?? {};
  const im = imName(lang, e.actor === 'dingtalk' || c.im === 'dingtalk' ? 'dingtalk' : e.actor === 'wecom' || c.im === 'wecom' ? 'wecom' : 'lark');
  const stage = str(d.stage);
  const stageWord = stage === 'execute' ? t(lang, 'executeWord') : t(lang, 'checkWord');
  const service = t(lang, stage === 'execute' ? 'executeService' : 'checkService');
  const operator = str(d.actor) || e.actor.replace(/^operator:/, '');
  const effects = Array.isArray(d.effects) ? (d.effects as string[]) : [];
  const say = (key: MessageKey, vars?: Record<string, string | number>) => t(lang, key, vars);

  switch (e.event) {
    case 'ticket_opened': {
      const problems = Array.isArray(d.field_problems) ? (d.field_problems as string[]) : [];
      const opened = e.actor === 'api' ? say('tlOpenedApi') : say('tlOpenedIm', { im, user: c.applicant });
      return { text: problems.length ? `${opened}. ${say('tlFieldProblems', { problems: problems.join('; ') })}` : opened, tone: problems.length ? 'bad' : 'info' };
    }
    case 'assistant_task_pending': {
      if (effects.includes('call_business')) return { text: say(stage === 'execute' ? 'tlTaskExecute' : 'tlTaskCheck'), tone: 'info' };
      if (e.to_state === 'rejected_by_check') return { text: say(d.paused === true ? 'tlTaskPaused' : 'tlTaskFormRefused'), tone: 'bad' };
      if (e.to_state === 'expired' && effects.includes('decide_task')) return { text: say('tlExpiredRefused', { im, stage: stageWord }), tone: 'bad' };
      if (effects.includes('decide_task')) return { text: say('tlTaskAgain', { stage: stageWord }), tone: 'info' };
      return { text: say('tlTaskSeen', { stage: stageWord }), tone: 'info' };
    }
    case 'business_result': {
      const ok = d.result === true;
      const key: MessageKey = stage === 'execute' ? (ok ? 'tlExecuteDone' : 'tlExecuteFailed') : ok ? 'tlCheckPassed' : 'tlCheckRefused';
      const said = ok ? str(d.msg) : str(d.error);
      const via = d.via === 'callback' ? say('byCallback') : '';
      const call = d.via === 'callback' ? undefined : lastCall(calls, stage, e.at);
      return { text: `${say(key)}${via}${quoted(lang, said)}${call ? ` — ${formatDuration(call.latency_ms, lang)}` : ''}`, tone: ok ? 'good' : 'bad' };
    }
    case 'business_accepted':
      return { text: say('tlAccepted', { service, deadline: str(d.deadlineAt).replace('T', ' ').replace(/\.\d+Z$|Z$/, ' UTC') }), tone: 'wait' };
    case 'business_unreachable': {
      const call = calls.find((k) => k.target === 'business' && k.stage === stage && k.attempt === d.attempt && k.action.startsWith('call'));
      const base = say('tlUnreachable', { service, attempt: str(d.attempt), error: str(d.error) }) + (call ? ` — ${formatDuration(call.latency_ms, lang)}` : '');
      if (e.to_state === 'needs_operator') return { text: base + say('tlToOperator'), tone: 'bad' };
      const spec = c.pipeline?.stages[stage as 'check' | 'execute'];
      const delay = typeof d.retryInMs === 'number' ? d.retryInMs : spec && typeof d.attempt === 'number' ? retryDelayMs(spec, d.attempt) : undefined;
      return { text: base + (delay === undefined ? '' : say('tlRetryIn', { delay: formatDuration(delay, lang) })), tone: 'wait' };
    }
    case 'deadline_passed':
      return { text: say('tlDeadline', { service }) + (e.to_state === 'needs_operator' ? say('tlToOperator') : ''), tone: 'bad' };
    case 'instance_closed': {
      const keys: Record<string, MessageKey> = { APPROVED: 'tlClosedApproved', REJECTED: 'tlClosedRejected', CANCELED: 'tlClosedCanceled', DELETED: 'tlClosedDeleted', REVERTED: 'tlClosedReverted', TIMED_OUT: 'tlClosedTimedOut' };
      const status = str(d.status);
      if (status === 'APPROVED' && e.to_state === 'executing') return { text: say('tlClosedApprovedExecute', { im }), tone: 'good' };
      return { text: keys[status] ? say(keys[status]!, { im }) : `${im}: ${status}`, tone: status === 'APPROVED' ? 'good' : status === 'REJECTED' ? 'bad' : 'info' };
    }
    case 'instance_reopened':
      return { text: say('tlReopened', { im }), tone: 'info' };
    case 'instance_created':
      return { text: say('tlInstanceCreated', { im, code: str(d.instanceCode) }), tone: 'info' };
    case 'create_instance_failed':
      return { text: `${say('tlCreateFailed')} — ${str(d.error)}`, tone: 'bad' };
    case 'operator_retry':
      return { text: say('tlRetry', { actor: operator, stage: stageWordOf(lang, e.from_state, e.to_state) }), tone: 'info' };
    case 'operator_reject':
      return { text: say('tlReject', { actor: operator }) + quoted(lang, str(d.comment)), tone: 'bad' };
    case 'operator_resolve':
      return { text: say('tlResolve', { actor: operator }) + quoted(lang, str(d.comment)), tone: 'good' };
    case 'task_approved':
    case 'task_rejected':
      return { text: say(e.event === 'task_approved' ? 'tlTaskApproved' : 'tlTaskRejected', { im, stage: stageWord }) + (d.note ? say('tlTaskWasDone') : ''), tone: 'info' };
    case 'im_task': {
      const task = (d.im_task ?? {}) as Record<string, unknown>;
      const status = str(task.status);
      const user = str(task.user_id);
      if (task.stage) return { text: say('tlImStage', { im, stage: task.stage === 'execute' ? t(lang, 'executeWord') : t(lang, 'checkWord'), status: taskStatus(lang, status) }), tone: 'info' };
      const keys: Record<string, MessageKey> = { APPROVED: 'tlImApproved', REJECTED: 'tlImRejected', PENDING: 'tlImPending', TRANSFERRED: 'tlImTransferred' };
      return { text: keys[status] ? say(keys[status]!, { im, user }) : say('tlImOther', { im, user, status }), tone: status === 'APPROVED' ? 'good' : status === 'REJECTED' ? 'bad' : status === 'PENDING' ? 'wait' : 'info' };
    }
    // The human step (the pipeline's `approval` block).
    case 'approval_reminder':
      return { text: say('tlReminder'), tone: 'wait' };
    case 'approvers_reminded': {
      const users = (v: unknown) => (Array.isArray(v) ? v.map((x) => (typeof x === 'string' ? x : str((x as { userId?: unknown }).userId))).join(', ') : '');
      const parts: string[] = [];
      if (users(d.sent)) parts.push(say('tlReminded', { im, users: users(d.sent), n: str(d.reminder) }));
      if (users(d.refused)) parts.push(say('tlRemindRefused', { im, users: users(d.refused) }));
      if (users(d.failed)) parts.push(say('tlRemindFailed', { users: users(d.failed), error: str(d.error) }));
      return { text: parts.join('; '), tone: users(d.sent) && !users(d.refused) && !users(d.failed) ? 'info' : 'bad' };
    }
    case 'reminder_not_sent':
      return { text: say('tlReminderNotSent', { n: str(d.reminder), reason: str(d.reason) }), tone: 'bad' };
    case 'approval_escalated':
      return { text: say('tlEscalated', { after: durationWords(c.pipeline?.approval?.escalate_after ?? '', lang) }), tone: 'bad' };
    case 'approval_expired':
      return { text: say('tlExpired', { after: durationWords(c.pipeline?.approval?.expire_after ?? '', lang) }), tone: 'bad' };
    case 'instance_ended':
      return { text: say('tlInstanceEnded', { im, how: say(d.how === 'withdrawn' ? 'howWithdrawn' : 'howTerminated') }), tone: 'info' };
    case 'instance_not_ended':
      return { text: say('tlInstanceNotEnded', { im, error: str(d.error) }), tone: 'bad' };
    case 'expiry_comment_failed':
      return { text: say('tlExpiryCommentFailed', { error: str(d.error) }), tone: 'bad' };
    // State-change events: an operator put a ticket's dead events back in order (console's Events page).
    case 'events_redelivered':
      return { text: say('tlEventsRedelivered', { actor: operator, n: str(d.events), destination: say(d.destination === 'runtime' ? 'seDestRuntime' : 'seDestPipeline') }), tone: 'info' };
    default:
      return { text: say('tlUnknown', { event: e.event }), tone: 'info' };
  }
}

/** The business call that produced an answer: the last one of that stage made by then. */
function lastCall(calls: CallRecord[], stage: string, at: Date): CallRecord | undefined {
  let found: CallRecord | undefined;
  for (const k of calls) if (k.target === 'business' && k.stage === stage && k.action.startsWith('call') && k.at.getTime() <= at.getTime()) found = k;
  return found;
}

function stageWordOf(lang: Lang, from: string | null, to: string): string {
  return to === 'executing' || from === 'executing' ? t(lang, 'executeWord') : t(lang, 'checkWord');
}

export function imName(lang: Lang, provider: string): string {
  if (provider === 'dingtalk') return t(lang, 'imDingtalk');
  if (provider === 'lark') return t(lang, 'imLark');
  if (provider === 'wecom') return t(lang, 'imWecom');
  return provider;
}

function taskStatus(lang: Lang, status: string): string {
  const keys: Record<string, MessageKey> = { APPROVED: 'taskApproved', REJECTED: 'taskRejected', PENDING: 'taskPending', TRANSFERRED: 'taskTransferred' };
  return keys[status] ? t(lang, keys[status]!) : status;
}
