import { record, type RuleContext, type SetRule } from './rule.ts';

/** A pipeline name is its identity in URLs, tickets and metrics: one file per name. */
export const uniqueName: SetRule = {
  name: 'unique-name',
  check(files) {
    const first = new Map<string, RuleContext>();
    for (const ctx of files) {
      const name = record(ctx.value.metadata)?.name;
      if (typeof name !== 'string') continue;
      const earlier = first.get(name);
      if (earlier) {
        ctx.report(['metadata', 'name'], 'value', `pipeline name "${name}" is already used at ${earlier.where(['metadata', 'name'], 'value')}`);
        earlier.report(['metadata', 'name'], 'value', `pipeline name "${name}" is used again at ${ctx.where(['metadata', 'name'], 'value')}`);
      } else {
        first.set(name, ctx);
      }
    }
  },
};
