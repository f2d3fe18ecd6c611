import type { Pipeline } from '../../pipeline/pipeline.generated.ts';

/** A widget of the approval definition (GET approvals/:code → form), with its option keys. */
export interface DefinitionWidget {
  id: string;
  custom_id?: string;
  name: string;
  type: string;
  option?: Array<{ value: string; text: string }>;
}

export class NotCreatable extends Error {}

/**
 * The `form` of a Lark create-instance call from API fields: the reverse of mapLarkForm. Create-time values
 * differ from read-time ones: a static option is sent as its Lark option key (found by its label in the
 * definition), dates as RFC 3339, people as user ids.
 */
export function larkCreateForm(pipeline: Pipeline, fields: Record<string, unknown>, definition: DefinitionWidget[]): Array<{ id: string; type: string; value: unknown }> {
  const out: Array<{ id: string; type: string; value: unknown }> = [];
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
    switch (field.type) {
      case 'text':
      case 'textarea':
      case 'address':
      case 'number':
      case 'datetime':
        v = value;
        break;
      case 'amount':
        v = (value as { value: number }).value;
        break;
      case 'date':
        v = day(value);
        break;
      case 'date_range':
        v = { start: day((value as { start: string }).start), end: day((value as { end: string }).end) };
        break;
      case 'datetime_range':
        v = value;
        break;
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
        v = { country_code: (value as { country_code: string }).country_code, national_number: (value as { number: string }).number };
        break;
      default:
        throw new NotCreatable(`field "${name}": ${field.type} fields cannot be sent when a business system creates the ticket (yet)`);
    }
    out.push({ id: widget.id, type: widget.type, value: v });
  }
  return out;
}
