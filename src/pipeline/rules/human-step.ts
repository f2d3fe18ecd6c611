import { parseDuration } from '../duration.ts';
import { record, text, type FileRule } from './rule.ts';

/** Below this, reminders to people come more than once an hour: allowed (tests use seconds), but said. */
const HOURLY_MS = 3_600_000;

/**
 * Above this, a duration is refused: no one waits ten years for an approval, and a time much further off is past
 * what a date can hold (the engine could not schedule the ticket's timer, and every ticket would fail to reach approval).
 */
const LONGEST_MS = 3650 * 86_400_000;

/** The order of the human step's durations, each counted from the ticket's arrival in approval. */
const ordered = ['remind_after', 'escalate_after', 'expire_after'] as const;

/**
 * The human step (`approval`): every duration above zero and at most 3650d; `remind_every` needs `remind_after`; where set,
 * remind_after < escalate_after < expire_after (each counts from the arrival in approval: a reminder after the
 * escalation, or an escalation after the expiry, would never help); reminders more often than hourly are a warning
 * (a reminder storm in people's IM; DingTalk also drops the same content sent to a person twice in a day, which is
 * why each reminder's text differs). The schema checks each duration's form.
 */
export const humanStep: FileRule = {
  name: 'human-step',
  check(ctx) {
    const approval = record(ctx.value.approval);
    if (!approval) return;
    const ms: Partial<Record<string, number>> = {};
    for (const key of [...ordered, 'remind_every']) {
      const value = text(approval[key]);
      if (value === undefined || !/^\d+(ms|s|m|h|d)$/.test(value)) continue; // absent, or the schema reports it
      ms[key] = parseDuration(value);
      if (ms[key] === 0) ctx.report(['approval', key], 'value', `"${key}" must be above zero (got "${value}")`);
      else if (ms[key]! > LONGEST_MS) ctx.report(['approval', key], 'value', `"${key}" (${value}) is longer than 3650d (ten years): a wait that long is a typo, and a time past it cannot be scheduled`);
    }
    if ('remind_every' in approval && !('remind_after' in approval)) {
      ctx.report(['approval', 'remind_every'], 'key', '"remind_every" repeats the reminder of "remind_after", which is not set: add "remind_after" (the first reminder), e.g. "4h"');
    }
    const set = ordered.filter((k) => ms[k] !== undefined && ms[k] !== 0);
    for (let i = 1; i < set.length; i++) {
      const [earlier, later] = [set[i - 1]!, set[i]!];
      if (ms[later]! <= ms[earlier]!) {
        ctx.report(['approval', later], 'value', `"${later}" (${approval[later]}) must be later than "${earlier}" (${approval[earlier]}) at ${ctx.where(['approval', earlier], 'value')}: both count from the ticket's arrival in approval, in the order remind_after < escalate_after < expire_after`);
      }
    }
    const every = ms.remind_every;
    if (every !== undefined && every > 0 && every < HOURLY_MS) {
      ctx.report(['approval', 'remind_every'], 'value', `reminders every ${approval.remind_every}: the pending approvers are messaged in the IM more than once an hour; fine for a test, too often for people`, 'warning');
    }
  },
};
