import { record, type FileRule } from './rule.ts';

const codeKey: Record<string, string> = { lark: 'approval_code', dingtalk: 'process_code', wecom: 'template_id' };

/** Each IM names its approval definition with its own key. */
export const providerCode: FileRule = {
  name: 'provider-code',
  check(ctx) {
    const provider = record(ctx.value.provider);
    const type = provider?.type;
    if (typeof type !== 'string' || !(type in codeKey)) return;
    const expected = codeKey[type]!;
    if (!(expected in provider!)) {
      ctx.report(['provider'], 'key', `a ${type} provider needs "${expected}"`);
    }
    for (const [otherType, key] of Object.entries(codeKey)) {
      if (otherType !== type && key in provider!) {
        ctx.report(['provider', key], 'key', `"${key}" belongs to ${otherType}; a ${type} provider uses "${expected}"`);
      }
    }
  },
};
