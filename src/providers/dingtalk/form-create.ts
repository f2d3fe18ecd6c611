import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { NotCreatable } from '../lark/form-create.ts';

const pad = (n: number) => String(n).padStart(2, '0');

/** An RFC 3339 time as DingTalk shows it: China Standard Time, "YYYY-MM-DD HH:mm". */
function cst(value: string): string {
  const d = new Date(Date.parse(value) + 8 * 3_600_000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}`;
}

/**
 * `formComponentValues` of a DingTalk create from API fields: controls addressed by title (the CloudDM guide's
 * point: the title must match exactly), every value a string, JSON for composite ones.
 */
export function dingTalkCreateValues(pipeline: Pipeline, fields: Record<string, unknown>): Array<{ name: string; value: string }> {
  const out: Array<{ name: string; value: string }> = [];
  for (const [name, field] of Object.entries(pipeline.fields)) {
    const value = fields[name];
    if (value === undefined) continue;
    const title = field.widget.label;
    if (!title) throw new NotCreatable(`field "${name}": DingTalk addresses controls by title; map it with widget.label`);
    const label = (id: unknown) => field.options?.find((o) => o.id === id)?.label ?? String(id);
    let v: string;
    switch (field.type) {
      case 'text':
      case 'textarea':
      case 'address':
      case 'date':
        v = String(value);
        break;
      case 'number':
        v = String(value);
        break;
      case 'amount':
        v = String((value as { value: number }).value);
        break;
      case 'datetime':
        v = cst(String(value));
        break;
      case 'date_range':
        v = JSON.stringify([(value as { start: string }).start, (value as { end: string }).end]);
        break;
      case 'datetime_range':
        v = JSON.stringify([cst((value as { start: string }).start), cst((value as { end: string }).end)]);
        break;
      case 'option':
        v = label(value);
        break;
      case 'options':
        v = JSON.stringify((value as unknown[]).map(label));
        break;
      case 'person':
        v = JSON.stringify([(value as { user_id: string }).user_id]);
        break;
      case 'people':
        v = JSON.stringify((value as Array<{ user_id: string }>).map((p) => p.user_id));
        break;
      case 'phone':
        v = `${(value as { country_code: string }).country_code} ${(value as { number: string }).number}`;
        break;
      default:
        throw new NotCreatable(`field "${name}": ${field.type} fields cannot be sent when a business system creates the ticket (yet)`);
    }
    out.push({ name: title, value: v });
  }
  return out;
}
