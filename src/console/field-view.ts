import type { Column, Field, StaticOption } from '../pipeline/pipeline.generated.ts';
import { timeTag } from './format.ts';
import { html, type Html } from './html.ts';
import { t, type Lang } from './i18n.ts';

/** One field of a ticket as a person reads it: the pipeline's label for it and its value in words. */
export interface FieldView {
  name: string;
  label: string;
  description?: string;
  value: Html;
}

/**
 * A ticket's fields read with the pipeline version the ticket is pinned to: option ids become their labels,
 * people, amounts, dates and tables their plain text. Fields the pipeline does not (or no longer) know are shown
 * as they are.
 */
export function fieldViews(values: Record<string, unknown>, fields: Record<string, Field> | undefined, lang: Lang): FieldView[] {
  const known = fields ?? {};
  const names = [...Object.keys(known).filter((n) => n in values), ...Object.keys(values).filter((n) => !(n in known))];
  return names.map((name) => {
    const spec = known[name];
    return { name, label: spec?.widget.label ?? name, description: spec?.description, value: valueView(values[name], spec, lang) };
  });
}

export function valueView(v: unknown, spec: Pick<Field, 'type' | 'options' | 'columns'> | Column | undefined, lang: Lang): Html {
  if (v === undefined || v === null || v === '' || (Array.isArray(v) && v.length === 0)) return html`<span class="muted">${t(lang, 'noValue')}</span>`;
  const type = spec?.type;
  const locale = lang === 'zh' ? 'zh-CN' : 'en-US';
  const list = (items: unknown[], one: (x: unknown) => Html | string) => html`${items.map((x, i) => html`${i ? ', ' : ''}${one(x)}`)}`;
  const record = (x: unknown) => (x && typeof x === 'object' && !Array.isArray(x) ? (x as Record<string, unknown>) : undefined);
  switch (type) {
    case 'text':
    case 'textarea':
    case 'address':
    case 'date':
      if (typeof v === 'string') return html`<span class="text">${v}</span>`;
      break;
    case 'number':
      if (typeof v === 'number') return html`${v.toLocaleString(locale)}`;
      break;
    case 'amount': {
      const a = record(v);
      if (a && typeof a.value === 'number') return html`${a.value.toLocaleString(locale, { minimumFractionDigits: 2, maximumFractionDigits: 2 })} ${String(a.currency ?? '')}`;
      break;
    }
    case 'datetime':
      if (typeof v === 'string' && !Number.isNaN(Date.parse(v))) return timeTag(v);
      break;
    case 'date_range':
    case 'datetime_range': {
      const r = record(v);
      if (r && typeof r.start === 'string' && typeof r.end === 'string') {
        const end = (s: string) => (type === 'datetime_range' && !Number.isNaN(Date.parse(s)) ? timeTag(s) : s);
        return html`${end(r.start)} → ${end(r.end)}`;
      }
      break;
    }
    case 'person':
    case 'people':
      return list(Array.isArray(v) ? v : [v], (p) => String(record(p)?.user_id ?? JSON.stringify(p)));
    case 'department':
    case 'departments':
      return list(Array.isArray(v) ? v : [v], (p) => String(record(p)?.id ?? JSON.stringify(p)));
    case 'option':
    case 'options':
      return list(Array.isArray(v) ? v : [v], (id) => optionLabel(String(id), spec?.options, lang));
    case 'attachments':
      if (Array.isArray(v)) return list(v, (f) => link(String(record(f)?.url ?? ''), String(record(f)?.name ?? JSON.stringify(f))));
      break;
    case 'document': {
      const d = record(v);
      if (d) return link(String(d.url ?? ''), String(d.title ?? d.url ?? ''));
      break;
    }
    case 'phone': {
      const p = record(v);
      if (p) return html`${String(p.country_code ?? '')} ${String(p.number ?? '')}`;
      break;
    }
    case 'table': {
      const columns = (spec as Field | undefined)?.columns;
      if (Array.isArray(v) && columns) {
        const keys = Object.keys(columns);
        return html`<div class="scroll"><table class="inner"><tr>${keys.map((k) => html`<th>${columns[k]!.widget.label ?? k}</th>`)}</tr>${v.map((row) => html`<tr>${keys.map((k) => html`<td>${valueView(record(row)?.[k], columns[k], lang)}</td>`)}</tr>`)}</table></div>`;
      }
      break;
    }
  }
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return html`<span class="text">${String(v)}</span>`;
  return html`<code>${JSON.stringify(v)}</code>`;
}

function optionLabel(id: string, options: StaticOption[] | undefined, lang: Lang): Html {
  const o = options?.find((x) => x.id === id);
  if (!o) return html`${id}`;
  return html`<span title="${id}">${lang === 'en' ? (o.label_en ?? o.label) : o.label}</span>`;
}

/** A link only to http(s): an attachment URL comes from the IM, and a `javascript:` one must not become clickable. */
function link(url: string, text: string): Html {
  return /^https?:\/\//i.test(url) ? html`<a href="${url}" rel="noreferrer noopener" target="_blank">${text}</a>` : html`${text}`;
}
