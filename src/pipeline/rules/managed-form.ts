import { COMPONENTS_PAGE, FORM_LIMITS, notCreatable } from '../../providers/dingtalk/managed-form.ts';
import type { Column } from '../pipeline.generated.ts';
import { fieldTypes } from '../schema.ts';
import { record, text, type FileRule, type RuleContext } from './rule.ts';

const ranges = new Set(['date_range', 'datetime_range']);

/**
 * `provider.form` says Ticketflow owns a DingTalk form and `ticketflow apply` writes it
 * (https://open.dingtalk.com/document/development/create-an-approval-form-template). So: DingTalk only (Lark's
 * create-definition API warns that a definition it creates can never be disabled or deleted); every field and
 * column titled by `widget.label`, as apply titles the controls and DingTalk assigns their ids; titles within the
 * documented 20 characters; no field type DingTalk's form API cannot create; name, description and control count
 * within the documented limits.
 */
export const managedForm: FileRule = {
  name: 'managed-form',
  check(ctx) {
    const provider = record(ctx.value.provider);
    const form = record(provider?.form);
    if (!provider || !form) return;
    if (provider.type !== 'dingtalk') {
      const why = provider.type === 'lark' ? ': a Lark definition created through its API can never be disabled or deleted, so Ticketflow does not create them; keep the definition in the Lark admin console and check it with ticketflow doctor' : '';
      ctx.report(['provider', 'form'], 'key', `"form" is for dingtalk providers only, not ${String(provider.type)}${why}`);
      return;
    }
    const name = text(form.name);
    if (name !== undefined && [...name].length > FORM_LIMITS.name) ctx.report(['provider', 'form', 'name'], 'value', `the form name has ${[...name].length} characters; DingTalk takes at most ${FORM_LIMITS.name}`);
    const description = text(form.description);
    if (description !== undefined && [...description].length > FORM_LIMITS.description) ctx.report(['provider', 'form', 'description'], 'value', `the form description has ${[...description].length} characters; DingTalk takes at most ${FORM_LIMITS.description}`);
    const fields = record(ctx.value.fields) ?? {};
    if (Object.keys(fields).length > FORM_LIMITS.controls) ctx.report(['fields'], 'key', `${Object.keys(fields).length} fields; a DingTalk form holds at most ${FORM_LIMITS.controls} controls`);
    for (const [field, raw] of Object.entries(fields)) {
      const entry = record(raw);
      if (!entry) continue;
      checkEntry(ctx, ['fields', field], entry, `field "${field}"`);
      for (const [column, rawColumn] of Object.entries(record(entry.columns) ?? {})) {
        const c = record(rawColumn);
        if (c) checkEntry(ctx, ['fields', field, 'columns', column], c, `column "${field}.${column}"`);
      }
    }
  },
};

function checkEntry(ctx: RuleContext, path: string[], entry: Record<string, unknown>, what: string): void {
  const widget = record(entry.widget);
  const label = text(widget?.label);
  if (widget && label === undefined) {
    const key = Object.keys(widget)[0] ?? 'widget';
    ctx.report([...path, 'widget', key], 'key', `${what} is mapped by "${key}"; with provider.form, apply titles each control by widget.label and DingTalk assigns the ids: map it with widget.label`);
  }
  if (label !== undefined) {
    const type = text(entry.type);
    // COMPONENTS_PAGE gives a date range's label as the JSON array of its two titles; whether the 20-character
    // limit applies to that string or to each title is not said: each title is checked.
    let titles = [label];
    if (type !== undefined && ranges.has(type)) {
      const two = pair(label);
      if (!two) ctx.report([...path, 'widget', 'label'], 'value', `${what} is a ${type}: DingTalk titles a date range by the JSON array of its two titles, e.g. '["开始时间","结束时间"]' (${COMPONENTS_PAGE})`);
      titles = two ?? [];
    }
    for (const t of titles) {
      if ([...t].length > FORM_LIMITS.label) ctx.report([...path, 'widget', 'label'], 'value', `${what}: the title "${t}" has ${[...t].length} characters; a DingTalk control title takes at most ${FORM_LIMITS.label} (${COMPONENTS_PAGE})`);
    }
  }
  if (!fieldTypes.has(entry.type as string)) return;
  // An option field with neither list is field-shape's to report.
  if ((entry.type === 'option' || entry.type === 'options') && !('options_source' in entry)) return;
  const why = notCreatable({ type: entry.type, options: Array.isArray(entry.options) ? entry.options : undefined } as Column);
  if (why) ctx.report([...path, 'type'], 'value', `${what} is ${String(entry.type)}, which apply cannot create in a DingTalk form: ${why}`);
}

function pair(label: string): [string, string] | undefined {
  try {
    const v = JSON.parse(label) as unknown;
    return Array.isArray(v) && v.length === 2 && v.every((x) => typeof x === 'string' && x !== '') ? [v[0], v[1]] : undefined;
  } catch {
    return undefined;
  }
}
