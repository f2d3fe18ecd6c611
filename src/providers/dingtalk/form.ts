import type { Column, Field, Pipeline } from '../../pipeline/pipeline.generated.ts';
import { findWidget } from '../lark/form.ts';
import { mapFormFields, type MappedFields } from '../map-fields.ts';

/** One value of a DingTalk instance's `formComponentValues`: every value is a string (JSON for composite ones). */
export interface DingTalkValue {
  id?: string;
  name?: string;
  value?: string;
  componentType?: string;
  extValue?: string;
}

class Malformed extends Error {}
const malformed = (what: string): never => {
  throw new Malformed(what);
};

/**
 * Maps a DingTalk form onto the pipeline's API fields in the same shapes as Lark's, so a business service cannot
 * tell the IMs apart (person fields keep the shape, with DingTalk's user ids). Controls are found by component id
 * or by title (`label`), as DingTalk addresses them.
 */
export function mapDingTalkForm(pipeline: Pipeline, values: DingTalkValue[], now: Date): MappedFields {
  return mapFormFields(pipeline, {
    find: (ref) => findWidget(values, ref),
    isEmpty: (w) => w.value === undefined || w.value === '' || w.value === '[]' || w.value === 'null',
    convert: (field, w) => convert(field, w, now),
    describe: (ref) => (ref.label ? `control "${ref.label}"` : `control ${ref.id ?? ref.custom_id}`),
  });
}

function json(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return malformed(`is not valid JSON (${JSON.stringify(v.slice(0, 40))})`);
  }
}

/** DingTalk shows times in China Standard Time and reports them without an offset. */
function dateTime(v: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})[ T](\d{2}:\d{2})(:\d{2})?$/.exec(v.trim());
  if (m) return `${m[1]}T${m[2]}${m[3] ?? ':00'}+08:00`;
  return Number.isNaN(Date.parse(v)) ? malformed(`is not a date-time (${JSON.stringify(v)})`) : v;
}

function date(v: string): string {
  const m = /^(\d{4}-\d{2}-\d{2})/.exec(v.trim());
  return m ? m[1]! : malformed(`is not a date (${JSON.stringify(v)})`);
}

function optionId(entry: Field | Column, chosen: string): string {
  if (!entry.options) return chosen;
  const o = entry.options.find((x) => x.label === chosen || x.label_en === chosen || x.id === chosen);
  return o ? o.id : malformed(`has an option "${chosen}" that the pipeline does not list`);
}

function list(v: string): unknown[] {
  const parsed = v.trim().startsWith('[') ? json(v) : v.split(',').map((s) => s.trim());
  return Array.isArray(parsed) ? parsed : malformed('is not a list');
}

function convert(entry: Field | Column, w: DingTalkValue, now: Date): unknown {
  const v = w.value!;
  switch (entry.type) {
    case 'text':
    case 'textarea':
    case 'address':
      return v;
    case 'number': {
      const n = Number(v);
      return Number.isFinite(n) ? n : malformed(`is not a number (${JSON.stringify(v)})`);
    }
    case 'amount': {
      const n = Number(v);
      return Number.isFinite(n) ? { value: n, currency: entry.currency ?? 'CNY' } : malformed(`is not an amount (${JSON.stringify(v)})`);
    }
    case 'date':
      return date(v);
    case 'datetime':
      return dateTime(v);
    case 'date_range':
    case 'datetime_range': {
      const [start, end] = list(v).map(String);
      if (!start || !end) return malformed('is not a date range');
      const conv = entry.type === 'date_range' ? date : dateTime;
      return { start: conv(start), end: conv(end) };
    }
    case 'person':
    case 'people': {
      const people = list(w.extValue || v).map((p) => ({ user_id: typeof p === 'string' ? p : String((p as { emplId?: unknown; userId?: unknown }).emplId ?? (p as { userId?: unknown }).userId ?? '') }));
      if (people.some((p) => !p.user_id)) malformed('is not a list of users');
      if (entry.type === 'person' && people.length !== 1) malformed(`holds ${people.length} people where one is expected`);
      return entry.type === 'person' ? people[0] : people;
    }
    case 'department':
    case 'departments': {
      const ds = list(w.extValue || v).map((d) => ({ id: typeof d === 'string' ? d : String((d as { id?: unknown }).id ?? '') }));
      if (entry.type === 'department' && ds.length !== 1) malformed(`holds ${ds.length} departments where one is expected`);
      return entry.type === 'department' ? ds[0] : ds;
    }
    case 'option':
      return optionId(entry, v);
    case 'options':
      return list(v).map((x) => optionId(entry, String(x)));
    case 'attachments': {
      const expires = new Date(now.getTime() + 12 * 3_600_000).toISOString();
      return list(v).map((f) => {
        const file = f as { fileName?: string; fileId?: string; spaceId?: string };
        if (!file.fileId) malformed('is not a list of DingTalk files');
        return { name: file.fileName ?? file.fileId, url: `dingtalk://space/${file.spaceId ?? ''}/file/${file.fileId}`, expires_at: expires };
      });
    }
    case 'table': {
      const columns = (entry as Field).columns ?? {};
      return list(v).map((row, r) => {
        const cells = ((row as { rowValue?: DingTalkValue[] }).rowValue ?? []).map((c) => ({ ...c, name: (c as { label?: string }).label ?? c.name, id: (c as { key?: string }).key ?? c.id }));
        const out: Record<string, unknown> = {};
        for (const [key, column] of Object.entries(columns)) {
          const cell = findWidget(cells, column.widget);
          if (cell && cell.value !== undefined && cell.value !== '') out[key] = convert(column, cell, now);
          else if (column.required !== false) malformed(`row ${r + 1}: column "${key}" is required but empty`);
        }
        return out;
      });
    }
    case 'phone': {
      const m = /^(\+\d{1,3})?[-\s]?(\d[\d\s-]{4,})$/.exec(v.trim());
      return m ? { country_code: m[1] ?? '+86', number: m[2]!.replace(/[\s-]/g, '') } : malformed(`is not a phone number (${JSON.stringify(v)})`);
    }
    case 'document': {
      const d = json(v) as { title?: string; url?: string };
      return d?.url ? { title: d.title ?? '', url: d.url } : malformed('is not a document link');
    }
  }
}
