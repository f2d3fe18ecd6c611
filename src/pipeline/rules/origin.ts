import { record, type FileRule } from './rule.ts';

/** Tickets born in a business system report their end to a notify URL; WeCom can only run that way. */
export const origin: FileRule = {
  name: 'origin',
  check(ctx) {
    const origin = ctx.value.origin ?? 'im';
    const provider = record(ctx.value.provider)?.type;
    if (origin === 'api' && !('notify_url' in ctx.value)) {
      ctx.report(['origin'], 'value', `"origin: api" needs "notify_url", where the final state of each ticket is sent`);
    }
    if (origin === 'im' && 'notify_url' in ctx.value) {
      ctx.report(['notify_url'], 'key', `"notify_url" applies only to "origin: api"; with "origin: im" the requester follows the ticket in the IM`);
    }
    if (provider === 'wecom' && origin !== 'api') {
      ctx.report(
        'origin' in ctx.value ? ['origin'] : ['provider', 'type'],
        'value',
        `wecom pipelines need "origin: api": WeCom has no API to approve a task, so check runs before the instance is created and execute after approval is seen`,
      );
    }
  },
};
