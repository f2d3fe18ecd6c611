import { LarkApiError, type SimWidget } from './model.ts';

/**
 * Checks the `form` of an instance create call as Lark's create API does, per its form control parameters page
 * (https://open.feishu.cn/document/uAjLw4CM/ukTMukTMukTM/reference/approval-v4/instance/approval-instance-form-control-parameters):
 * each item's `id` is the control id of the definition, and each value has the type's create shape. What the
 * page does not say (the exact message of each refusal) is ours: Lark answers 1390001 "param is invalid" for a
 * malformed form (create page's error table).
 */
export function checkCreateForm(definition: SimWidget[], form: Array<{ id?: unknown; type?: unknown; value?: unknown; currency?: unknown }>): void {
  const invalid = (why: string): never => {
    throw new LarkApiError(1390001, `param is invalid: ${why}`);
  };
  for (const item of form) {
    const widget = definition.find((w) => w.id === item.id);
    if (!widget) invalid(`form: no control with id ${JSON.stringify(item.id)} (the id must be the definition's control id)`);
    const v = item.value;
    const rfc3339 = (x: unknown) => typeof x === 'string' && /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/.test(x);
    switch (widget!.type) {
      case 'input':
      case 'textarea':
        if (typeof v !== 'string') invalid(`${widget!.id}: a ${widget!.type} value is a string`);
        break;
      case 'number':
      case 'formula':
        if (typeof v !== 'number') invalid(`${widget!.id}: a number value is a number`);
        break;
      case 'amount':
        // "value": 1234.5678, "currency": "USD" — the currency sits beside the value.
        if (typeof v !== 'number' || typeof item.currency !== 'string') invalid(`${widget!.id}: an amount is {"value": <number>, "currency": "<code>"}`);
        break;
      case 'date':
        if (!rfc3339(v)) invalid(`${widget!.id}: a date is an RFC 3339 string`);
        break;
      case 'dateInterval': {
        // {"start", "end", "interval"}: all three required, interval the length in days (a float).
        const r = v as { start?: unknown; end?: unknown; interval?: unknown } | null;
        if (!r || typeof r !== 'object' || !rfc3339(r.start) || !rfc3339(r.end) || typeof r.interval !== 'number') invalid(`${widget!.id}: a dateInterval is {"start", "end", "interval"} (RFC 3339, RFC 3339, days)`);
        break;
      }
      case 'telephone': {
        const t = v as { countryCode?: unknown; nationalNumber?: unknown } | null;
        if (!t || typeof t !== 'object' || typeof t.countryCode !== 'string' || typeof t.nationalNumber !== 'string') invalid(`${widget!.id}: a telephone is {"countryCode", "nationalNumber"}`);
        break;
      }
      case 'radioV2':
        if (typeof v !== 'string') invalid(`${widget!.id}: a radioV2 value is an option value`);
        if (widget!.option && !widget!.option.some((o) => o.value === v)) invalid(`${widget!.id}: ${JSON.stringify(v)} is not an option value of the control`);
        break;
      case 'checkboxV2':
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) invalid(`${widget!.id}: a checkboxV2 value is a list of option values`);
        if (widget!.option && (v as string[]).some((x) => !widget!.option!.some((o) => o.value === x))) invalid(`${widget!.id}: not every value is an option value of the control`);
        break;
      case 'contact':
        if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) invalid(`${widget!.id}: a contact value is a list of user ids`);
        break;
      case 'department':
        if (!Array.isArray(v) || v.some((x) => typeof (x as { open_id?: unknown })?.open_id !== 'string')) invalid(`${widget!.id}: a department value is [{"open_id"}]`);
        break;
      case 'address':
        // [{"id": <region id from the approval geographic library>, "detailAddress"}]
        if (!Array.isArray(v) || v.some((x) => typeof (x as { id?: unknown })?.id !== 'string')) invalid(`${widget!.id}: an address is [{"id": "<region id>", "detailAddress"}]`);
        break;
    }
  }
}
