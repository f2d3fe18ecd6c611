import { fieldTypes } from '../schema.ts';
import { record, type FileRule } from './rule.ts';

const isString = (v: unknown) => typeof v === 'string';
const isDate = (v: unknown) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(v);

/** A default must already have the API shape of its type, since it is sent as is. */
const expectations: Record<string, [string, (v: unknown) => boolean]> = {
  text: ['a string', isString],
  textarea: ['a string', isString],
  address: ['a string', isString],
  number: ['a number', (v) => typeof v === 'number'],
  date: ['a date "YYYY-MM-DD"', isDate],
  datetime: ['an RFC 3339 date-time', (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v))],
  option: ['an option id', isString],
  options: ['a list of option ids', (v) => Array.isArray(v) && v.every(isString)],
  amount: ['{value, currency}', (v) => typeof record(v)?.value === 'number' && isString(record(v)?.currency)],
};

export const fieldDefault: FileRule = {
  name: 'field-default',
  check(ctx) {
    const fields = record(ctx.value.fields) ?? {};
    for (const [name, raw] of Object.entries(fields)) {
      const field = record(raw);
      if (!field || !('default' in field) || typeof field.type !== 'string') continue;
      const expectation = expectations[field.type];
      if (!expectation && fieldTypes.has(field.type)) {
        ctx.report(['fields', name, 'default'], 'key', `${field.type} fields cannot have a default`);
        continue;
      }
      if (!expectation) continue;
      const [shape, ok] = expectation;
      if (!ok(field.default)) {
        ctx.report(['fields', name, 'default'], 'value', `default of ${field.type} field "${name}" must be ${shape}, got ${JSON.stringify(field.default)}`);
        continue;
      }
      const ids = Array.isArray(field.options) ? field.options.map((o) => record(o)?.id) : undefined;
      const chosen = field.type === 'option' ? [field.default] : field.type === 'options' ? (field.default as unknown[]) : [];
      for (const id of ids ? chosen : []) {
        if (!ids!.includes(id)) ctx.report(['fields', name, 'default'], 'value', `default "${String(id)}" is not one of the option ids of "${name}"`);
      }
    }
  },
};
