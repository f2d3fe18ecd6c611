import { record, type FileRule, type RuleContext } from './rule.ts';

/** Each widget feeds one field: two fields reading the same widget is almost always a copy-paste slip. */
export const uniqueWidget: FileRule = {
  name: 'unique-widget',
  check(ctx) {
    const fields = record(ctx.value.fields) ?? {};
    checkMap(ctx, ['fields'], fields, 'field');
    for (const [name, field] of Object.entries(fields)) {
      const columns = record(record(field)?.columns);
      if (columns) checkMap(ctx, ['fields', name, 'columns'], columns, 'column');
    }
  },
};

function checkMap(ctx: RuleContext, path: string[], entries: Record<string, unknown>, what: string): void {
  const seen = new Map<string, string>();
  for (const [name, entry] of Object.entries(entries)) {
    const widget = record(record(entry)?.widget);
    if (!widget) continue;
    const [kind, ref] = Object.entries(widget)[0] ?? [];
    if (typeof kind !== 'string' || typeof ref !== 'string') continue;
    const id = `${kind}=${ref}`;
    const earlier = seen.get(id);
    if (earlier !== undefined) {
      ctx.report(
        [...path, name, 'widget', kind],
        'value',
        `widget ${kind} "${ref}" is already mapped to ${what} "${earlier}" at ${ctx.where([...path, earlier, 'widget', kind])}; map each widget once`,
      );
    } else {
      seen.set(id, name);
    }
  }
}
