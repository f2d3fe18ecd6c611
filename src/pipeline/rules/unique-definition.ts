import { record, type RuleContext, type SetRule } from './rule.ts';

const codeKeys = ['approval_code', 'process_code', 'template_id'] as const;

/** One pipeline per IM approval definition, or two pipelines would both answer the same tickets. */
export const uniqueDefinition: SetRule = {
  name: 'unique-definition',
  check(files) {
    const first = new Map<string, { ctx: RuleContext; key: string }>();
    for (const ctx of files) {
      const provider = record(ctx.value.provider);
      const key = codeKeys.find((k) => typeof provider?.[k] === 'string');
      if (!provider || !key || typeof provider.type !== 'string') continue;
      const id = `${provider.type}:${provider[key] as string}`;
      const path = ['provider', key];
      const earlier = first.get(id);
      if (earlier) {
        const otherName = record(earlier.ctx.value.metadata)?.name;
        ctx.report(
          path,
          'value',
          `${provider.type} ${key} "${provider[key] as string}" is already handled by pipeline "${String(otherName)}" at ${earlier.ctx.where(path, 'value')}; one pipeline per approval definition`,
        );
      } else {
        first.set(id, { ctx, key });
      }
    }
  },
};
