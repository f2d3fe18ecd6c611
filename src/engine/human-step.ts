import { parseDuration } from '../pipeline/duration.ts';
import type { HumanStep } from '../pipeline/pipeline.generated.ts';

/**
 * The human step's clock, kept on a ticket while it waits for its approvers (state `in_approval`): when it got
 * there, when an approver last acted, and the reminders sent. Times are ISO strings (the ticket is JSON).
 */
export interface ApprovalClock {
  /** When the ticket reached human approval: escalation and expiry count from here. */
  since: string;
  /** When an approver last acted in the IM: the reminder clock starts over from here. */
  actedAt?: string;
  /** Reminders sent since `since` (the text of each says which one it is). */
  reminders: number;
  /** When the last reminder was sent. */
  remindedAt?: string;
}

export type HumanStepAction = 'remind' | 'escalate' | 'expire';

/** What is due at `now`, in the order to carry it out, and the next action after those. */
export interface HumanStepPlan {
  /** `['expire']` alone when expiry is due (nothing else matters then); else escalate before remind. */
  due: HumanStepAction[];
  /** The earliest action not yet due, if any. After the due ones are carried out the clock changes: plan again. */
  next?: { action: HumanStepAction; at: Date };
}

/** The milliseconds of each duration the pipeline sets (the schema guarantees their form). */
function durations(spec: HumanStep) {
  const ms = (d: string | undefined) => (d === undefined ? undefined : parseDuration(d));
  return { remindAfter: ms(spec.remind_after), remindEvery: ms(spec.remind_every), escalateAfter: ms(spec.escalate_after), expireAfter: ms(spec.expire_after) };
}

/**
 * When each action of the human step falls, from the pipeline's `approval` block and the ticket's clock. Pure.
 *
 * - expire: `since + expire_after`.
 * - escalate: `since + escalate_after`, once (never again once `escalated`).
 * - remind: the first `remind_after` after the later of `since` and the last approver act; then every
 *   `remind_every` after the last reminder (without `remind_every`, one reminder per wait). A reminder that would
 *   fall at or after expiry is not sent.
 */
export function humanStepTimes(spec: HumanStep | undefined, clock: ApprovalClock, escalated: boolean): Partial<Record<HumanStepAction, Date>> {
  if (!spec) return {};
  const d = durations(spec);
  const since = Date.parse(clock.since);
  const out: Partial<Record<HumanStepAction, number>> = {};
  if (d.expireAfter !== undefined) out.expire = since + d.expireAfter;
  if (d.escalateAfter !== undefined && !escalated) out.escalate = since + d.escalateAfter;
  if (d.remindAfter !== undefined) {
    const acted = clock.actedAt ? Date.parse(clock.actedAt) : since;
    const base = Math.max(since, acted);
    const reminded = clock.remindedAt ? Date.parse(clock.remindedAt) : undefined;
    let at: number | undefined;
    if (reminded === undefined || reminded < base) at = base + d.remindAfter;
    else if (d.remindEvery !== undefined) at = reminded + d.remindEvery;
    if (at !== undefined && (out.expire === undefined || at < out.expire)) out.remind = at;
  }
  return Object.fromEntries(Object.entries(out).map(([k, v]) => [k, new Date(v)]));
}

const order: HumanStepAction[] = ['expire', 'escalate', 'remind'];

/** What is due at `now` and what comes next (see `humanStepTimes`). Pure. */
export function planHumanStep(spec: HumanStep | undefined, clock: ApprovalClock, escalated: boolean, now: Date): HumanStepPlan {
  const times = humanStepTimes(spec, clock, escalated);
  const due = order.filter((a) => times[a] !== undefined && times[a]!.getTime() <= now.getTime());
  if (due.includes('expire')) return { due: ['expire'] };
  let next: HumanStepPlan['next'];
  for (const action of order) {
    const at = times[action];
    if (!at || due.includes(action)) continue;
    if (!next || at.getTime() < next.at.getTime()) next = { action, at };
  }
  return { due, ...(next ? { next } : {}) };
}

/** A clock started at `now`: the ticket has just reached human approval. */
export function startClock(now: Date): ApprovalClock {
  return { since: now.toISOString(), reminders: 0 };
}

const unitWords: Record<string, { zh: string; en: [string, string] }> = {
  ms: { zh: '毫秒', en: ['millisecond', 'milliseconds'] },
  s: { zh: '秒', en: ['second', 'seconds'] },
  m: { zh: '分钟', en: ['minute', 'minutes'] },
  h: { zh: '小时', en: ['hour', 'hours'] },
  d: { zh: '天', en: ['day', 'days'] },
};

/** A pipeline duration as a person reads it: "7d" is "7 天" or "7 days"; anything else as it is. */
export function durationWords(text: string, lang: 'zh' | 'en'): string {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) return text;
  const n = Number(m[1]);
  const unit = unitWords[m[2]!]!;
  return lang === 'zh' ? `${n} ${unit.zh}` : `${n} ${unit.en[n === 1 ? 0 : 1]}`;
}
