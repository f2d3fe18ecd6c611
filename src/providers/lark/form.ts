import type { Column, Field, FieldType, Pipeline, WidgetRef } from '../../pipeline/pipeline.generated.ts';
import { mapFormFields, type MappedFields } from '../map-fields.ts';

export type { MappedFields };

/** One widget of a Lark instance's `form` (a JSON string of these). */
export interface LarkWidget {
  id: string;
  custom_id?: string;
  name?: string;
  type?: string;
  value?: unknown;
  ext?: unknown;
  open_ids?: string[];
}

class Malformed extends Error {}

/** Lark attachment links live 12 hours from the read. */
const ATTACHMENT_TTL_MS = 12 * 3_600_000;

/**
 * Maps a Lark form onto the pipeline's API fields in the IM-neutral shapes of the business contract.
 * Pure: `now` dates attachment expiry.
 */
export function mapLarkForm(pipeline: Pipeline, form: LarkWidget[], now: Date): MappedFields {
  return mapFormFields(pipeline, {
    find: (ref) => findWidget(form, ref),
    isEmpty: (w) => isEmpty(w.value),
    convert: (field, w) => convert(field, w, now),
    describe: describeWidget,
  });
}

export function findWidget<T extends { id?: string; custom_id?: string; name?: string }>(form: readonly T[], ref: WidgetRef): T | undefined {
  if (ref.id !== undefined) return form.find((w) => w.id === ref.id);
  if (ref.custom_id !== undefined) return form.find((w) => w.custom_id === ref.custom_id);
  return form.find((w) => w.name === ref.label);
}

function describeWidget(ref: WidgetRef): string {
  if (ref.custom_id !== undefined) return `widget custom id ${ref.custom_id}`;
  if (ref.id !== undefined) return `widget ${ref.id}`;
  return `widget "${ref.label}"`;
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

function convert(entry: Field | Column, widget: LarkWidget, now: Date): unknown {
  const v = widget.value;
  const type: FieldType = entry.type;
  switch (type) {
    case 'text':
    case 'textarea':
    case 'address':
      return typeof v === 'string' ? v : malformed('is not text');
    case 'number':
      return toNumber(v);
    case 'amount':
      return { value: toNumber(v), currency: currencyOf(widget.ext) ?? entry.currency ?? 'CNY' };
    case 'date':
      return toDate(v);
    case 'datetime':
      return toDateTime(v);
    case 'date_range':
    case 'datetime_range': {
      const r = v as { start?: unknown; end?: unknown };
      if (typeof r !== 'object' || r === null) malformed('is not a date range');
      const conv = type === 'date_range' ? toDate : toDateTime;
      return { start: conv(r.start), end: conv(r.end) };
    }
    case 'person':
    case 'people': {
      const ids = Array.isArray(v) ? v : [v];
      const people = ids.map((id, i) => {
        if (typeof id !== 'string') malformed('is not a list of users');
        const openId = widget.open_ids?.[i];
        return openId ? { user_id: id, open_id: openId } : { user_id: id };
      });
      if (type === 'person' && people.length !== 1) malformed(`holds ${people.length} people where one is expected`);
      return type === 'person' ? people[0] : people;
    }
    case 'department':
    case 'departments': {
      const list = (Array.isArray(v) ? v : [v]).map((d) => {
        const id = typeof d === 'string' ? d : (d as { open_id?: unknown; id?: unknown })?.open_id ?? (d as { id?: unknown })?.id;
        if (typeof id !== 'string') malformed('is not a list of departments');
        return { id };
      });
      if (type === 'department' && list.length !== 1) malformed(`holds ${list.length} departments where one is expected`);
      return type === 'department' ? list[0] : list;
    }
    case 'option':
    case 'options': {
      const chosen = Array.isArray(v) ? v : [v];
      const ids = chosen.map((c) => optionId(entry, c));
      if (type === 'option' && ids.length !== 1) malformed(`holds ${ids.length} options where one is expected`);
      return type === 'option' ? ids[0] : ids;
    }
    case 'attachments': {
      if (!Array.isArray(v)) malformed('is not a list of attachments');
      const names = attachmentNames(widget.ext);
      const expires = new Date(now.getTime() + ATTACHMENT_TTL_MS).toISOString();
      return (v as unknown[]).map((url, i) => {
        if (typeof url !== 'string') malformed('is not a list of attachment links');
        return { name: names[i] ?? fileNameOf(url as string), url, expires_at: expires };
      });
    }
    case 'table': {
      if (!Array.isArray(v)) malformed('is not a table');
      const columns = (entry as Field).columns ?? {};
      return (v as unknown[]).map((row, r) => {
        if (!Array.isArray(row)) malformed(`row ${r + 1} is not a list of cells`);
        const cells = row as LarkWidget[];
        const out: Record<string, unknown> = {};
        for (const [key, column] of Object.entries(columns)) {
          const cell = findWidget(cells, column.widget);
          if (cell && !isEmpty(cell.value)) out[key] = convert(column, cell, now);
          else if (column.required !== false) malformed(`row ${r + 1}: column "${key}" is required but empty`);
        }
        return out;
      });
    }
    case 'phone': {
      // Create takes {countryCode, nationalNumber} (form control parameters page); the read-back shape of a
      // telephone is not documented, so both spellings are read.
      const p = v as { country_code?: unknown; national_number?: unknown; countryCode?: unknown; nationalNumber?: unknown };
      if (typeof p !== 'object' || p === null) return malformed('is not a phone number');
      const national = p.nationalNumber ?? p.national_number;
      const country = p.countryCode ?? p.country_code;
      if (typeof national !== 'string') return malformed('is not a phone number');
      const cc = typeof country === 'string' && country !== '' ? country : '+86';
      return { country_code: cc.startsWith('+') ? cc : `+${cc}`, number: national };
    }
    case 'document': {
      const d = v as { title?: unknown; url?: unknown };
      if (typeof d !== 'object' || d === null || typeof d.url !== 'string') return malformed('is not a document link');
      return { title: typeof d.title === 'string' ? d.title : '', url: d.url };
    }
  }
}

function malformed(what: string): never {
  throw new Malformed(what);
}

function toNumber(v: unknown): number {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : malformed(`is not a number (${JSON.stringify(v)})`);
}

/** RFC 3339 as Lark gives it → the calendar date in the offset Lark gave. */
function toDate(v: unknown): string {
  if (typeof v !== 'string') return malformed('is not a date');
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(v);
  return m ? m[1]! : malformed(`is not a date (${JSON.stringify(v)})`);
}

function toDateTime(v: unknown): string {
  if (typeof v !== 'string' || Number.isNaN(Date.parse(v))) return malformed(`is not a date-time (${JSON.stringify(v)})`);
  return v;
}

/** A static option is reported by its label and mapped to the declared id; an external option arrives as its id. */
function optionId(entry: Field | Column, chosen: unknown): string {
  if (typeof chosen !== 'string') return malformed('is not an option');
  if (!entry.options) return chosen;
  const byLabel = entry.options.find((o) => o.label === chosen || o.label_en === chosen);
  if (byLabel) return byLabel.id;
  if (entry.options.some((o) => o.id === chosen)) return chosen;
  return malformed(`has an option "${chosen}" that the pipeline does not list`);
}

function currencyOf(ext: unknown): string | undefined {
  const c = (ext as { currency?: unknown } | undefined)?.currency;
  return typeof c === 'string' && /^[A-Z]{3}$/.test(c) ? c : undefined;
}

/**
 * Instance get (控件值说明): "attachmentV2 … ext 为附件名字、value 为附件地址，按逗号分隔", with the example
 * `"ext": "'Item 1 name','Item 2 name'"`: each name in single quotes. How a name holding a quote or a comma is
 * written is not documented; names are split at the quote-comma-quote boundaries.
 */
export function attachmentNames(ext: unknown): string[] {
  if (typeof ext === 'string') {
    const s = ext.trim();
    if (s.length >= 2 && s.startsWith("'") && s.endsWith("'")) return s.slice(1, -1).split(/'\s*,\s*'/);
    return s.split(',').map((x) => x.trim()).filter(Boolean);
  }
  if (Array.isArray(ext)) return ext.map((e) => (typeof e === 'string' ? e : String((e as { name?: unknown })?.name ?? '')));
  return [];
}

function fileNameOf(url: string): string {
  try {
    return decodeURIComponent(new URL(url).pathname.split('/').pop() || 'attachment');
  } catch {
    return 'attachment';
  }
}
