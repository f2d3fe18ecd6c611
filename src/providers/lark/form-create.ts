import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { NotCreatable } from '../not-creatable.ts';

/** A widget of the approval definition (GET approvals/:code → form), with its option keys. */
export interface DefinitionWidget {
  id: string;
  custom_id?: string;
  name: string;
  type: string;
  option?: Array<{ value: string; text: string }>;
}

/** One item of the create call's `form`; an amount carries its currency beside the value. */
export interface CreateWidget {
  id: string;
  type: string;
  value: unknown;
  currency?: string;
}

/** A dateInterval's `interval`: its length in days, a float ("时长（天）"). */
const days = (start: string, end: string) => Math.round(((Date.parse(end) - Date.parse(start)) / 86_400_000) * 1000) / 1000;

/**
 * The `form` of a Lark create-instance call from API fields: the reverse of mapLarkForm. Create-time values
 * differ from read-time ones: a static option is sent as its Lark option key (found by its label in the
 * definition), dates as RFC 3339, people as user ids.
 */
export function larkCreateForm(pipeline: Pipeline, fields: Record<string, unknown>, definition: DefinitionWidget[]): CreateWidget[] {
  const out: CreateWidget[] = [];
  for (const [name, field] of Object.entries(pipeline.fields)) {
    const value = fields[name];
    if (value === undefined) continue;
    const ref = field.widget;
    const widget = definition.find((w) => (ref.id !== undefined ? w.id === ref.id : ref.custom_id !== undefined ? w.custom_id === ref.custom_id : w.name === ref.label));
    if (!widget) throw new NotCreatable(`field "${name}": the approval definition has no such widget`);
    const optionKey = (id: unknown) => {
      const label = field.options?.find((o) => o.id === id)?.label;
      if (field.options && !label) throw new NotCreatable(`field "${name}": "${String(id)}" is not one of its options`);
      if (!label) return id; // external options: the id is what the form holds
      const key = widget.option?.find((o) => o.text === label)?.value;
      if (!key) throw new NotCreatable(`field "${name}": the widget has no option labelled "${label}"`);
      return key;
    };
    const day = (d: unknown) => `${String(d)}T00:00:00+08:00`;
    let v: unknown;
    let currency: string | undefined;
    // Shapes of https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/approval-v4/instance/approval-instance-form-control-parameters
    switch (field.type) {
      case 'text':
      case 'textarea':
      case 'number':
      case 'datetime':
        v = value;
        break;
      case 'amount':
        // "value": 1234.5678, "currency": "USD"
        v = (value as { value: number }).value;
        currency = (value as { currency?: string }).currency ?? field.currency ?? 'CNY';
        break;
      case 'date':
        v = day(value);
        break;
      case 'date_range':
      case 'datetime_range': {
        // {"start", "end", "interval"}: all three required.
        const r = value as { start: string; end: string };
        const [start, end] = field.type === 'date_range' ? [day(r.start), day(r.end)] : [r.start, r.end];
        v = { start, end, interval: days(start, end) };
        break;
      }
      case 'person':
        v = [(value as { user_id: string }).user_id];
        break;
      case 'people':
        v = (value as Array<{ user_id: string }>).map((p) => p.user_id);
        break;
      case 'department':
        v = [{ open_id: (value as { id: string }).id }];
        break;
      case 'departments':
        v = (value as Array<{ id: string }>).map((d) => ({ open_id: d.id }));
        break;
      case 'option':
        v = optionKey(value);
        break;
      case 'options':
        v = (value as unknown[]).map(optionKey);
        break;
      case 'phone':
        v = { countryCode: (value as { country_code: string }).country_code, nationalNumber: (value as { number: string }).number };
        break;
      case 'address':
        // Create takes a region id of Lark's geographic library plus a detail line, not a text address; validate
        // refuses address fields for origin: api Lark pipelines (rule create-fields).
        throw new NotCreatable(`field "${name}": Lark's create API takes an address as a region id of its geographic library, not text`);
      default:
        throw new NotCreatable(`field "${name}": ${field.type} fields cannot be sent when a business system creates the ticket (yet)`);
    }
    out.push({ id: widget.id, type: widget.type, value: v, ...(currency ? { currency } : {}) });
  }
  return out;
}
