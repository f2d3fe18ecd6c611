import type { Column, Field, FieldType, Pipeline, WidgetRef } from '../pipeline/pipeline.generated.ts';
import { definitionForPipeline } from '../providers/lark/simulator/from-pipeline.ts';
import type { SimWidget } from '../providers/lark/simulator/model.ts';

/** One option as the Playground shows it. */
export interface PlaygroundOption {
  id: string;
  label: string;
  label_en?: string;
}

/** One input of the Playground's form: a pipeline field (or a column of a table field), as its YAML declares it. */
export interface PlaygroundControl {
  name: string;
  /** The Lark widget's label when the pipeline names it, else the field's name. */
  label: string;
  description?: string;
  type: FieldType;
  required: boolean;
  options?: PlaygroundOption[];
  /** The field's options come from its options source; `options` is what the source answered, if it did. */
  external?: boolean;
  currency?: string;
  default?: unknown;
  columns?: PlaygroundControl[];
}

/** What the browser sends for one control: text, the chosen ids, a range, or the rows of a table. */
export type RawValue = string | string[] | { start?: unknown; end?: unknown } | Array<Record<string, unknown>> | undefined;

export type ProblemCode = 'required' | 'number' | 'date' | 'datetime' | 'range' | 'option' | 'user' | 'url' | 'phone' | 'shape';

export interface FormProblem {
  field: string;
  problem: ProblemCode;
  /** For a table: the 1-based row and the column. */
  row?: number;
  column?: string;
}

/** One item of `POST /_sim/instances`'s `form`: the definition's control id and its create-time value. */
export interface CreateItem {
  id: string;
  value: unknown;
  currency?: string;
}

/** The controls of a pipeline's form, in the pipeline's order; `external` holds what each options source answered. */
export function playgroundControls(pipeline: Pipeline, external: Record<string, PlaygroundOption[] | undefined> = {}): PlaygroundControl[] {
  return Object.entries(pipeline.fields).map(([name, field]) => ({
    ...control(name, field),
    ...(field.options_source ? { external: true, options: external[name] } : {}),
    ...(field.default !== undefined ? { default: field.default } : {}),
    ...(field.columns ? { columns: Object.entries(field.columns).map(([col, column]) => control(col, column)) } : {}),
  }));
}

function control(name: string, entry: Field | Column): PlaygroundControl {
  return {
    name,
    label: entry.widget.label ?? name,
    ...(entry.description ? { description: entry.description } : {}),
    type: entry.type,
    // The simulator's definition marks these widgets required (from-pipeline.ts), and refuses an instance without them.
    required: entry.required !== false,
    ...(entry.options ? { options: entry.options.map((o) => ({ id: o.id, label: o.label, ...(o.label_en ? { label_en: o.label_en } : {}) })) } : {}),
    ...(entry.type === 'amount' ? { currency: entry.currency ?? 'CNY' } : {}),
  };
}

/**
 * The `form` of `POST /_sim/instances` from what the Playground's form holds: each field's widget id in the
 * approval definition the sandbox gave the pipeline, and each value in Lark's create shape (the form control
 * parameters page, as the simulator checks it): option keys, RFC 3339 dates, date intervals with their length in
 * days, amounts with their currency, user ids, telephones as {countryCode, nationalNumber}.
 */
export function playgroundCreateForm(pipeline: Pipeline, values: Record<string, unknown>): { form: CreateItem[]; problems: FormProblem[] } {
  const definition = definitionForPipeline(pipeline, '').form;
  const form: CreateItem[] = [];
  const problems: FormProblem[] = [];
  for (const [name, field] of Object.entries(pipeline.fields)) {
    const widget = definition.find((w) => matches(w, field.widget))!;
    const raw = values[name] as RawValue;
    if (field.type === 'table') {
      const rows = tableRows(name, field, raw, problems);
      if (rows.length) form.push({ id: widget.id, value: rows });
      else if (field.required !== false && !problems.some((p) => p.field === name)) problems.push({ field: name, problem: 'required' });
      continue;
    }
    if (isEmpty(raw)) {
      if (field.required !== false) problems.push({ field: name, problem: 'required' });
      continue;
    }
    const converted = createValue(field, raw, widget);
    if ('problem' in converted) problems.push({ field: name, problem: converted.problem });
    else form.push({ id: widget.id, ...converted });
  }
  return { form, problems };
}

/** The widget a reference names, by the rule of the runtime's own mapping (findWidget). */
function matches(w: { id?: string; custom_id?: string; name?: string }, ref: WidgetRef): boolean {
  if (ref.id !== undefined) return w.id === ref.id;
  if (ref.custom_id !== undefined) return w.custom_id === ref.custom_id;
  return w.name === ref.label;
}

function isEmpty(raw: unknown): boolean {
  if (raw === undefined || raw === null) return true;
  if (typeof raw === 'string') return raw.trim() === '';
  if (Array.isArray(raw)) return raw.length === 0;
  if (typeof raw === 'object') return Object.values(raw).every(isEmpty);
  return false;
}

/** A fieldList's value: one list of cells per row that holds anything, each cell named as the column's widget. */
function tableRows(name: string, field: Field, raw: RawValue, problems: FormProblem[]): Array<Array<Record<string, unknown>>> {
  if (raw === undefined) return [];
  if (!Array.isArray(raw) || raw.some((r) => typeof r !== 'object' || r === null || Array.isArray(r))) {
    problems.push({ field: name, problem: 'shape' });
    return [];
  }
  const rows: Array<Array<Record<string, unknown>>> = [];
  (raw as Array<Record<string, unknown>>).forEach((row, i) => {
    if (isEmpty(row)) return;
    const cells: Array<Record<string, unknown>> = [];
    for (const [col, column] of Object.entries(field.columns ?? {})) {
      const value = row[col];
      const ref = column.widget;
      if (isEmpty(value)) {
        if (column.required !== false) problems.push({ field: name, problem: 'required', row: i + 1, column: col });
        continue;
      }
      const converted = createValue(column, value as RawValue);
      if ('problem' in converted) problems.push({ field: name, problem: converted.problem, row: i + 1, column: col });
      else cells.push({ id: ref.id ?? ref.custom_id ?? `widget_${col}`, ...(ref.custom_id ? { custom_id: ref.custom_id } : {}), name: ref.label ?? col, ...converted });
    }
    rows.push(cells);
  });
  return rows;
}

type Converted = { value: unknown; currency?: string } | { problem: ProblemCode };

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MINUTE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2})?$/;
const USER = /^[\w.@-]{1,64}$/;
/** The sandbox plays a tenant in China Standard Time, as the runtime's own create mapping does (form-create.ts). */
const OFFSET = '+08:00';

function createValue(entry: Field | Column, raw: RawValue, widget?: SimWidget): Converted {
  const text = typeof raw === 'string' ? raw.trim() : undefined;
  switch (entry.type) {
    case 'text':
    case 'textarea':
    case 'address':
      return text !== undefined ? { value: raw } : { problem: 'shape' };
    case 'number': {
      const n = text ? Number(text) : NaN;
      return Number.isFinite(n) ? { value: n } : { problem: 'number' };
    }
    case 'amount': {
      const n = text ? Number(text) : NaN;
      return Number.isFinite(n) ? { value: n, currency: entry.currency ?? 'CNY' } : { problem: 'number' };
    }
    case 'date':
      return text && DAY.test(text) && validDate(text) ? { value: `${text}T00:00:00${OFFSET}` } : { problem: 'date' };
    case 'datetime':
      return text && MINUTE.test(text) && validDate(text) ? { value: dateTime(text) } : { problem: 'datetime' };
    case 'date_range':
    case 'datetime_range': {
      const r = raw as { start?: unknown; end?: unknown };
      if (typeof r !== 'object' || r === null || Array.isArray(r) || typeof r.start !== 'string' || typeof r.end !== 'string') return { problem: 'range' };
      const day = entry.type === 'date_range';
      const ok = (s: string) => (day ? DAY : MINUTE).test(s) && validDate(s);
      if (!ok(r.start) || !ok(r.end)) return { problem: day ? 'date' : 'datetime' };
      const [start, end] = day ? [`${r.start}T00:00:00${OFFSET}`, `${r.end}T00:00:00${OFFSET}`] : [dateTime(r.start), dateTime(r.end)];
      if (Date.parse(end) < Date.parse(start)) return { problem: 'range' };
      // A dateInterval's `interval` is its length in days, a float ("时长（天）").
      return { value: { start, end, interval: Math.round(((Date.parse(end) - Date.parse(start)) / 86_400_000) * 1000) / 1000 } };
    }
    case 'person':
    case 'people':
    case 'department':
    case 'departments': {
      const ids = text !== undefined ? text.split(/[\s,，]+/).filter(Boolean) : undefined;
      const one = entry.type === 'person' || entry.type === 'department';
      if (!ids || ids.length === 0 || ids.some((id) => !USER.test(id)) || (one && ids.length !== 1)) return { problem: 'user' };
      return { value: entry.type === 'person' || entry.type === 'people' ? ids : ids.map((id) => ({ open_id: id })) };
    }
    case 'option':
    case 'options': {
      const chosen = entry.type === 'option' ? (text !== undefined ? [text] : undefined) : Array.isArray(raw) && raw.every((x) => typeof x === 'string') ? (raw as string[]) : undefined;
      if (!chosen || (entry.type === 'option' && chosen.length !== 1)) return { problem: 'option' };
      const keys = chosen.map((id) => optionKey(entry, id, widget));
      if (keys.some((k) => k === undefined)) return { problem: 'option' };
      return { value: entry.type === 'option' ? keys[0] : keys };
    }
    case 'attachments': {
      const urls = text !== undefined ? text.split(/\s+/).filter(Boolean) : undefined;
      return urls && urls.length && urls.every(isWebUrl) ? { value: urls } : { problem: 'url' };
    }
    case 'document':
      return text && isWebUrl(text) ? { value: { title: text, url: text } } : { problem: 'url' };
    case 'phone': {
      const m = text ? /^(\+\d{1,4})?[\s-]*(\d[\d\s-]{4,19})$/.exec(text) : null;
      return m ? { value: { countryCode: m[1] ?? '+86', nationalNumber: m[2]!.replace(/[\s-]/g, '') } } : { problem: 'phone' };
    }
    case 'table':
      return { problem: 'shape' };
  }
}

/**
 * A radioV2/checkboxV2 takes the option's key in the definition (found by its label, as the runtime's create
 * does); an external option is its id; a column has no definition of its own, so its option is its id.
 */
function optionKey(entry: Field | Column, id: string, widget?: SimWidget): string | undefined {
  if (!entry.options) return id.trim() ? id : undefined;
  const label = entry.options.find((o) => o.id === id)?.label;
  if (label === undefined) return undefined;
  return widget ? widget.option?.find((o) => o.text === label)?.value : id;
}

function validDate(s: string): boolean {
  const d = new Date(`${s.slice(0, 10)}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s.slice(0, 10);
}

function dateTime(s: string): string {
  return `${s.length === 16 ? `${s}:00` : s}${OFFSET}`;
}

function isWebUrl(s: string): boolean {
  try {
    return ['http:', 'https:'].includes(new URL(s).protocol);
  } catch {
    return false;
  }
}
