import { record, type FileRule } from './rule.ts';

const withTime = new Set(['datetime', 'datetime_range']);

/**
 * DingTalk's create takes dates as yyyy-MM-dd only ("value 仅支持 yyyy-MM-dd 一种格式", for date and date-range
 * controls: https://open.dingtalk.com/document/development/create-an-approval-instance), so a business system
 * cannot send a time of day: `origin: api` DingTalk pipelines may not have datetime or datetime_range fields.
 */
export const dingtalkApiDates: FileRule = {
  name: 'dingtalk-api-dates',
  check(ctx) {
    if (record(ctx.value.provider)?.type !== 'dingtalk' || ctx.value.origin !== 'api') return;
    for (const [name, raw] of Object.entries(record(ctx.value.fields) ?? {})) {
      const type = record(raw)?.type;
      if (typeof type !== 'string' || !withTime.has(type)) continue;
      ctx.report(['fields', name, 'type'], 'value', `field "${name}" is ${type}, but DingTalk's create takes dates as yyyy-MM-dd only: a ticket born in a business system cannot carry a time of day; use ${type === 'datetime' ? 'date' : 'date_range'}, or "origin: im"`);
    }
  },
};
