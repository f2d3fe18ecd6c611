import { record, type FileRule } from './rule.ts';

const codeKey: Record<string, string> = { lark: 'approval_code', dingtalk: 'process_code', wecom: 'template_id' };

/**
 * Each IM names its approval definition with its own key. A DingTalk form Ticketflow owns (`provider.form`) may be
 * declared before it exists: `ticketflow apply` creates it and prints the process code; until it is written here
 * the pipeline validates with a warning, and the runtime refuses to load it (runtime-rules.ts).
 */
export const providerCode: FileRule = {
  name: 'provider-code',
  check(ctx) {
    const provider = record(ctx.value.provider);
    const type = provider?.type;
    if (typeof type !== 'string' || !(type in codeKey)) return;
    const expected = codeKey[type]!;
    if (!(expected in provider!) && type === 'dingtalk' && record(provider!.form)) {
      const name = record(ctx.value.metadata)?.name;
      ctx.report(['provider'], 'key', `no "process_code" yet: not deployable until apply has created the process; run ticketflow apply${typeof name === 'string' ? ` ${name}` : ''} and write the printed process_code here`, 'warning');
    } else if (!(expected in provider!)) {
      ctx.report(['provider'], 'key', `a ${type} provider needs "${expected}"`);
    }
    for (const [otherType, key] of Object.entries(codeKey)) {
      if (otherType !== type && key in provider!) {
        ctx.report(['provider', key], 'key', `"${key}" belongs to ${otherType}; a ${type} provider uses "${expected}"`);
      }
    }
  },
};
