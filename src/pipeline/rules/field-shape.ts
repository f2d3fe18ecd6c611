import { fieldTypes } from '../schema.ts';
import { record, type FileRule, type RuleContext } from './rule.ts';

const optionTypes = new Set(['option', 'options']);

/** Type-specific keys belong to their type: options to option fields, currency to amounts, columns to tables. */
export const fieldShape: FileRule = {
  name: 'field-shape',
  check(ctx) {
    const fields = record(ctx.value.fields) ?? {};
    for (const [name, raw] of Object.entries(fields)) {
      const field = record(raw);
      if (!field || !fieldTypes.has(field.type as string)) continue;
      checkEntry(ctx, ['fields', name], field, 'field');
      const columns = record(field.columns);
      if (field.type === 'table' && !columns) {
        ctx.report(['fields', name, 'type'], 'value', `table field "${name}" needs "columns": the sub-widgets of each row, keyed by the row's API key`);
      }
      for (const [column, rawColumn] of Object.entries(columns ?? {})) {
        const c = record(rawColumn);
        if (!c || !fieldTypes.has(c.type as string)) continue;
        if (c.type === 'table') {
          ctx.report(['fields', name, 'columns', column, 'type'], 'value', `column "${column}" cannot be a table: tables do not nest`);
        }
        checkEntry(ctx, ['fields', name, 'columns', column], c, 'column');
      }
    }
  },
};

function checkEntry(ctx: RuleContext, path: string[], entry: Record<string, unknown>, what: string): void {
  const type = entry.type as string;
  const name = path[path.length - 1];
  if (optionTypes.has(type)) {
    const hasStatic = 'options' in entry;
    const hasSource = 'options_source' in entry;
    if (hasStatic && hasSource) {
      ctx.report([...path, 'options_source'], 'key', `${what} "${name}" has both "options" and "options_source"; choose one`);
    } else if (!hasStatic && !hasSource && what === 'field') {
      ctx.report([...path, 'type'], 'value', `${type} field "${name}" needs "options" (static list: label → id) or "options_source" (external options URL), so the business receives option ids, not display labels`);
    } else if (!hasStatic && what === 'column') {
      ctx.report([...path, 'type'], 'value', `${type} column "${name}" needs "options" (static list: label → id)`);
    }
    if (Array.isArray(entry.options)) checkOptionList(ctx, [...path, 'options'], entry.options);
  } else {
    for (const key of ['options', 'options_source']) {
      if (key in entry) ctx.report([...path, key], 'key', `"${key}" applies only to option and options ${what}s; "${name}" is ${type}`);
    }
  }
  if ('currency' in entry && type !== 'amount') {
    ctx.report([...path, 'currency'], 'key', `"currency" applies only to amount ${what}s; "${name}" is ${type}`);
  }
  if ('columns' in entry && type !== 'table') {
    ctx.report([...path, 'columns'], 'key', `"columns" applies only to table fields; "${name}" is ${type}`);
  }
}

function checkOptionList(ctx: RuleContext, path: (string | number)[], options: unknown[]): void {
  for (const key of ['id', 'label'] as const) {
    const seen = new Map<string, number>();
    options.forEach((raw, i) => {
      const value = record(raw)?.[key];
      if (typeof value !== 'string') return;
      const earlier = seen.get(value);
      if (earlier !== undefined) {
        ctx.report([...path, i, key], 'value', `option ${key} "${value}" repeats; first at ${ctx.where([...path, earlier, key], 'value')}`);
      } else {
        seen.set(value, i);
      }
    });
  }
}
