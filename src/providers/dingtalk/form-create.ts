import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { NotCreatable } from '../not-creatable.ts';

/** The create page takes dates as yyyy-MM-dd only: a time of day cannot be sent (validate refuses such pipelines). */
const NO_TIMES = 'DingTalk\'s create takes dates as yyyy-MM-dd only (https://open.dingtalk.com/document/development/create-an-approval-instance)';

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
      case 'date_range':
        v = JSON.stringify([(value as { start: string }).start, (value as { end: string }).end]);
        break;
      case 'datetime':
      case 'datetime_range':
        throw new NotCreatable(`field "${name}": ${field.type} fields cannot be sent: ${NO_TIMES}`);
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
