import type { Column, Field, Pipeline, WidgetRef } from '../../pipeline/pipeline.generated.ts';
import { mapFormFields, type MappedFields } from '../map-fields.ts';
import { NotCreatable } from '../not-creatable.ts';
import type { WeComContent, WeComControl, WeComText } from './api.ts';

/**
 * Fields ↔ WeCom's `apply_data.contents` (`[{control, id, value}]`), per control type. The value shapes are those of
 * the official appendix "附录：各控件apply_data/contents/value参数介绍" of 提交审批申请 (oa/applyevent,
 * https://developer.work.weixin.qq.com/document/path/91853; getapprovaldetail reads them back the same way,
 * https://developer.work.weixin.qq.com/document/path/91983): Text/Textarea `{text}`, Number `{new_number}` and Money
 * `{new_money}` (strings), Date `{date: {type, s_timestamp}}` (seconds, as a string; `type` must be the template's),
 * DateRange `{date_range: {new_begin, new_end, new_duration}}`, Selector `{selector: {type, options: [{key}]}}` (keys
 * from gettemplatedetail), Contact `{members: [{userid, name}]}` or `{departments: [{openapi_id, name}]}`, File
 * `{files: [{file_id}]}`, Table `{children: [{list: [contents]}]}`.
 *
 * Where the pages are silent:
 * - Time zone: a Date of type "day" is a Unix time, and no page says which midnight. We send and read 00:00 China
 *   Standard Time (+08:00), WeCom's own zone; a datetime is read back with +08:00.
 * - `new_duration` of a day range: not defined for whole days; we send `new_end - new_begin`.
 * - Contact `name`: the appendix's example sends it beside `userid`; no page says it is required. We send the user id
 *   only (Ticketflow does not know names); the read gives WeCom's.
 * - DateRange `type`: the appendix's shape carries none; the template's `config.date_range.type` is sent when it has
 *   one.
 */

const CST = 8 * 3_600_000;

class Malformed extends Error {}
const malformed = (what: string): never => {
  throw new Malformed(what);
};

/** A title in the form's language: zh_CN first, else the first. */
export function textOf(t: WeComText | undefined): string {
  if (!Array.isArray(t) || t.length === 0) return '';
  return (t.find((x) => x.lang === 'zh_CN') ?? t[0]!).text ?? '';
}

const titles = (t: WeComText | undefined): string[] => (Array.isArray(t) ? t.map((x) => x.text) : []);

/** A control of the template by the field's widget: `id` is the control id ("Text-1569573760849"), `label` its title. */
export function findControl(controls: readonly WeComControl[], ref: WidgetRef): WeComControl | undefined {
  if (ref.id !== undefined) return controls.find((c) => c.property.id === ref.id);
  if (ref.label !== undefined) return controls.find((c) => titles(c.property.title).includes(ref.label!));
  return undefined;
}

const describe = (ref: WidgetRef) => (ref.id !== undefined ? `control ${ref.id}` : `control "${ref.label ?? ref.custom_id}"`);

/** Seconds of 00:00 +08:00 on a YYYY-MM-DD day. */
function dayStart(day: string): number {
  const t = Date.parse(`${day}T00:00:00+08:00`);
  if (Number.isNaN(t)) throw new NotCreatable(`"${day}" is not a date`);
  return Math.floor(t / 1000);
}

function instant(value: string): number {
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new NotCreatable(`"${value}" is not a date-time`);
  return Math.floor(t / 1000);
}

const cstDay = (seconds: number) => new Date(seconds * 1000 + CST).toISOString().slice(0, 10);
const cstDateTime = (seconds: number) => `${new Date(seconds * 1000 + CST).toISOString().slice(0, 19)}+08:00`;

/**
 * `apply_data.contents` of a create from the ticket's API fields, each shaped by its control in the template.
 * Throws NotCreatable for a field the create cannot carry (a control missing or of another kind, a File: WeCom takes
 * media ids uploaded beforehand, which Ticketflow does not do).
 */
export function weComCreateContents(pipeline: Pipeline, controls: readonly WeComControl[], fields: Record<string, unknown>): WeComContent[] {
  const out: WeComContent[] = [];
  for (const [name, field] of Object.entries(pipeline.fields)) {
    const value = fields[name];
    if (value === undefined) continue;
    const control = findControl(controls, field.widget);
    if (!control) throw new NotCreatable(`field "${name}": the WeCom template has no ${describe(field.widget)} (ticketflow doctor compares them)`);
    out.push(content(name, field, control, value));
  }
  return out;
}

function content(name: string, entry: Field | Column, control: WeComControl, value: unknown): WeComContent {
  const { control: kind, id } = control.property;
  const item = (v: Record<string, unknown>): WeComContent => ({ control: kind, id, value: v });
  const refuse = (why: string): never => {
    throw new NotCreatable(`field "${name}": ${why}`);
  };
  switch (entry.type) {
    case 'text':
    case 'textarea':
    case 'address':
      if (kind === 'Text' || kind === 'Textarea') return item({ text: String(value) });
      break;
    case 'number':
      if (kind === 'Number') return item({ new_number: String(value) });
      if (kind === 'Money') return item({ new_money: String(value) });
      if (kind === 'Text' || kind === 'Textarea') return item({ text: String(value) });
      break;
    case 'amount': {
      const v = String((value as { value: number }).value);
      if (kind === 'Money') return item({ new_money: v });
      if (kind === 'Number') return item({ new_number: v });
      break;
    }
    case 'date':
    case 'datetime':
      if (kind === 'Date') {
        const type = control.config?.date?.type ?? (entry.type === 'date' ? 'day' : 'hour');
        const seconds = entry.type === 'date' ? dayStart(String(value)) : instant(String(value));
        return item({ date: { type, s_timestamp: String(seconds) } });
      }
      break;
    case 'date_range':
    case 'datetime_range':
      if (kind === 'DateRange') {
        const r = value as { start: string; end: string };
        const begin = entry.type === 'date_range' ? dayStart(r.start) : instant(r.start);
        const end = entry.type === 'date_range' ? dayStart(r.end) : instant(r.end);
        const type = (control.config?.date_range as { type?: string } | undefined)?.type;
        return item({ date_range: { ...(type ? { type } : {}), new_begin: begin, new_end: end, new_duration: end - begin } });
      }
      break;
    case 'option':
    case 'options':
      if (kind === 'Selector') {
        const chosen = entry.type === 'option' ? [value] : (value as unknown[]);
        const options = control.config?.selector?.options ?? [];
        const keys = chosen.map((optionId) => {
          const label = entry.options?.find((o) => o.id === optionId);
          const wanted = label ? [label.label, ...(label.label_en ? [label.label_en] : [])] : [String(optionId)];
          const option = options.find((o) => titles(o.value).some((t) => wanted.includes(t))) ?? options.find((o) => o.key === optionId);
          return option ? { key: option.key } : refuse(`the WeCom selector ${id} has no option "${wanted[0]}"`);
        });
        const type = control.config?.selector?.type ?? (entry.type === 'option' ? 'single' : 'multi');
        if (type === 'single' && keys.length > 1) refuse(`the WeCom selector ${id} takes one option, not ${keys.length}`);
        return item({ selector: { type, options: keys } });
      }
      break;
    case 'person':
    case 'people':
      if (kind === 'Contact' && (control.config?.contact?.mode ?? 'user') === 'user') {
        const people = entry.type === 'person' ? [value] : (value as unknown[]);
        return item({ members: people.map((p) => ({ userid: (p as { user_id: string }).user_id })) });
      }
      break;
    case 'department':
    case 'departments':
      if (kind === 'Contact' && control.config?.contact?.mode === 'department') {
        const ds = entry.type === 'department' ? [value] : (value as unknown[]);
        return item({ departments: ds.map((d) => ({ openapi_id: String((d as { id: string }).id) })) });
      }
      break;
    case 'table':
      if (kind === 'Table') {
        const children = control.config?.table?.children ?? [];
        const columns = (entry as Field).columns ?? {};
        const rows = (value as Array<Record<string, unknown>>).map((row) => ({
          list: Object.entries(columns).flatMap(([key, column]) => {
            if (row[key] === undefined) return [];
            const child = findControl(children, column.widget);
            return child ? [content(`${name}.${key}`, column, child, row[key])] : refuse(`column "${key}": the table ${id} has no ${describe(column.widget)}`);
          }),
        }));
        return item({ children: rows });
      }
      break;
    case 'phone':
      // The PhoneNumber control's value shape is not in the appendix: only a Text control can carry a phone.
      if (kind === 'Text') return item({ text: `${(value as { country_code: string }).country_code} ${(value as { number: string }).number}` });
      break;
    case 'attachments':
      return refuse('a File control takes media ids uploaded beforehand (media/upload), which Ticketflow does not do');
    case 'document':
      return refuse('WeCom has no document control');
  }
  return refuse(`a ${entry.type} field cannot be sent to the WeCom ${kind} control ${id}`);
}

/**
 * Whether an instance's form carries exactly the contents we would create (a crash between WeCom's create and our
 * commit is recovered by adopting it): compared per control on what the value means (text, number, time, option
 * keys, user ids), since WeCom's read adds names and option texts.
 */
export function sameContents(ours: readonly WeComContent[], theirs: readonly WeComContent[]): boolean {
  return ours.every((o) => {
    const t = theirs.find((x) => x.id === o.id);
    return t !== undefined && JSON.stringify(meaning(o)) === JSON.stringify(meaning(t));
  });
}

function meaning(c: WeComContent): unknown {
  const v = c.value as Record<string, unknown>;
  const num = (x: unknown) => (x === undefined || x === '' ? undefined : Number(x));
  switch (c.control) {
    case 'Text':
    case 'Textarea':
      return v.text;
    case 'Number':
      return num(v.new_number);
    case 'Money':
      return num(v.new_money);
    case 'Date':
      return num((v.date as { s_timestamp?: unknown } | undefined)?.s_timestamp);
    case 'DateRange': {
      const r = (v.date_range ?? {}) as { new_begin?: unknown; new_end?: unknown };
      return [num(r.new_begin), num(r.new_end)];
    }
    case 'Selector':
      return (((v.selector as { options?: Array<{ key: string }> } | undefined)?.options ?? []).map((o) => o.key)).sort();
    case 'Contact':
      return [((v.members as Array<{ userid: string }> | undefined) ?? []).map((m) => m.userid).sort(), ((v.departments as Array<{ openapi_id: string }> | undefined) ?? []).map((d) => String(d.openapi_id)).sort()];
    case 'Table':
      return ((v.children as Array<{ list?: WeComContent[] }> | undefined) ?? []).map((row) => (row.list ?? []).map((x) => [x.id, meaning(x)]).sort());
    default:
      return v;
  }
}

/**
 * Maps an instance's form (getapprovaldetail's `apply_data.contents`) onto the pipeline's API fields, in the same
 * shapes as Lark's and DingTalk's: a business service cannot tell the IMs apart (person fields keep the shape, with
 * WeCom's user ids). Controls are found by id or by title. Pure: `now` dates attachment links.
 */
export function mapWeComForm(pipeline: Pipeline, contents: readonly WeComContent[], now: Date): MappedFields {
  const find = (list: readonly WeComContent[], ref: WidgetRef) => (ref.id !== undefined ? list.find((c) => c.id === ref.id) : list.find((c) => titles(c.title).includes(ref.label ?? '')));
  return mapFormFields(pipeline, {
    find: (ref) => find(contents, ref),
    isEmpty: (c) => isEmpty(c),
    convert: (field, c) => read(field, c, now, find),
    describe,
  });
}

function isEmpty(c: WeComContent): boolean {
  const v = (c.value ?? {}) as Record<string, unknown>;
  switch (c.control) {
    case 'Text':
    case 'Textarea':
      return !v.text;
    case 'Number':
      return v.new_number === undefined || v.new_number === '';
    case 'Money':
      return v.new_money === undefined || v.new_money === '';
    case 'Date':
      return !(v.date as { s_timestamp?: unknown } | undefined)?.s_timestamp || String((v.date as { s_timestamp: unknown }).s_timestamp) === '0';
    case 'DateRange':
      return !(v.date_range as { new_begin?: unknown } | undefined)?.new_begin;
    case 'Selector':
      return !((v.selector as { options?: unknown[] } | undefined)?.options?.length);
    case 'Contact':
      return !((v.members as unknown[] | undefined)?.length || (v.departments as unknown[] | undefined)?.length);
    case 'File':
      return !((v.files as unknown[] | undefined)?.length);
    case 'Table':
      return !((v.children as unknown[] | undefined)?.length);
    default:
      return Object.keys(v).length === 0;
  }
}

function read(entry: Field | Column, c: WeComContent, now: Date, find: (list: readonly WeComContent[], ref: WidgetRef) => WeComContent | undefined): unknown {
  const v = (c.value ?? {}) as Record<string, unknown>;
  const number = (x: unknown) => {
    const n = Number(x);
    return typeof x === 'string' || typeof x === 'number' ? (Number.isFinite(n) && String(x).trim() !== '' ? n : malformed(`is not a number (${JSON.stringify(x)})`)) : malformed('is not a number');
  };
  const seconds = (x: unknown) => {
    const n = Number(x);
    return Number.isInteger(n) && n > 0 ? n : malformed(`is not a Unix time (${JSON.stringify(x)})`);
  };
  const wrong = (): never => malformed(`is a WeCom ${c.control} control, which a ${entry.type} field cannot read`);
  switch (entry.type) {
    case 'text':
    case 'textarea':
    case 'address':
      return c.control === 'Text' || c.control === 'Textarea' ? String(v.text) : wrong();
    case 'number':
      return c.control === 'Number' ? number(v.new_number) : c.control === 'Money' ? number(v.new_money) : c.control === 'Text' || c.control === 'Textarea' ? number(v.text) : wrong();
    case 'amount': {
      const n = c.control === 'Money' ? number(v.new_money) : c.control === 'Number' ? number(v.new_number) : wrong();
      // A Money control has no currency: the field's, else CNY.
      return { value: n, currency: entry.currency ?? 'CNY' };
    }
    case 'date':
    case 'datetime': {
      if (c.control !== 'Date') return wrong();
      const s = seconds((v.date as { s_timestamp?: unknown }).s_timestamp);
      return entry.type === 'date' ? cstDay(s) : cstDateTime(s);
    }
    case 'date_range':
    case 'datetime_range': {
      if (c.control !== 'DateRange') return wrong();
      const r = v.date_range as { new_begin?: unknown; new_end?: unknown };
      const conv = entry.type === 'date_range' ? cstDay : cstDateTime;
      return { start: conv(seconds(r.new_begin)), end: conv(seconds(r.new_end)) };
    }
    case 'option':
    case 'options': {
      if (c.control !== 'Selector') return wrong();
      const chosen = ((v.selector as { options?: Array<{ key: string; value?: WeComText }> }).options ?? []).map((o) => {
        const texts = titles(o.value);
        const known = entry.options?.find((x) => texts.includes(x.label) || (x.label_en !== undefined && texts.includes(x.label_en)) || x.id === o.key);
        if (entry.options && !known) malformed(`has an option "${texts[0] ?? o.key}" that the pipeline does not list`);
        return known ? known.id : o.key;
      });
      if (entry.type === 'option' && chosen.length !== 1) malformed(`holds ${chosen.length} options where one is expected`);
      return entry.type === 'option' ? chosen[0] : chosen;
    }
    case 'person':
    case 'people': {
      if (c.control !== 'Contact') return wrong();
      const people = ((v.members as Array<{ userid?: unknown }> | undefined) ?? []).map((m) => ({ user_id: typeof m.userid === 'string' && m.userid ? m.userid : malformed('is not a list of users') }));
      if (entry.type === 'person' && people.length !== 1) malformed(`holds ${people.length} people where one is expected`);
      return entry.type === 'person' ? people[0] : people;
    }
    case 'department':
    case 'departments': {
      if (c.control !== 'Contact') return wrong();
      const ds = ((v.departments as Array<{ openapi_id?: unknown }> | undefined) ?? []).map((d) => ({ id: d.openapi_id !== undefined && d.openapi_id !== '' ? String(d.openapi_id) : malformed('is not a list of departments') }));
      if (entry.type === 'department' && ds.length !== 1) malformed(`holds ${ds.length} departments where one is expected`);
      return entry.type === 'department' ? ds[0] : ds;
    }
    case 'attachments': {
      if (c.control !== 'File') return wrong();
      // A file's `file_id` is a media id (media/get downloads it with a token); the pages give no lifetime for it in
      // an approval: reported like DingTalk's files, as a reference Ticketflow does not download, for 12 hours.
      const expires = new Date(now.getTime() + 12 * 3_600_000).toISOString();
      return ((v.files as Array<{ file_id?: unknown }> | undefined) ?? []).map((f) => {
        if (typeof f.file_id !== 'string' || !f.file_id) malformed('is not a list of WeCom files');
        return { name: String(f.file_id), url: `wecom://media/${String(f.file_id)}`, expires_at: expires };
      });
    }
    case 'table': {
      if (c.control !== 'Table') return wrong();
      const columns = (entry as Field).columns ?? {};
      return ((v.children as Array<{ list?: WeComContent[] }> | undefined) ?? []).map((row, r) => {
        const out: Record<string, unknown> = {};
        for (const [key, column] of Object.entries(columns)) {
          const cell = find(row.list ?? [], column.widget);
          if (cell && !isEmpty(cell)) out[key] = read(column, cell, now, find);
          else if (column.required !== false) malformed(`row ${r + 1}: column "${key}" is required but empty`);
        }
        return out;
      });
    }
    case 'phone': {
      if (c.control !== 'Text') return wrong();
      const m = /^(\+\d{1,3})?[-\s]?(\d[\d\s-]{4,})$/.exec(String(v.text).trim());
      return m ? { country_code: m[1] ?? '+86', number: m[2]!.replace(/[\s-]/g, '') } : malformed(`is not a phone number (${JSON.stringify(v.text)})`);
    }
    case 'document':
      return wrong();
  }
}
