import { createHash } from 'node:crypto';
import { compatible } from '../../doctor/diagnose.ts';
import type { Column, Field, FieldType, Pipeline } from '../../pipeline/pipeline.generated.ts';
import type { DingTalkForm, DingTalkFormComponent, DingTalkSchemaItem } from './api.ts';

/**
 * A DingTalk form owned by a pipeline (`provider.form`): what `ticketflow apply` sends to 创建或更新审批表单模板 and
 * what it would change. Pure. The pages followed:
 * - FORM_PAGE: the request (`processCode?`, `name` ≤ 200, `description` ≤ 300, `formComponents` ≤ 200 controls),
 *   the answer `{result: {processCode}}`, the error codes.
 * - COMPONENTS_PAGE (补充参数说明, FormComponent参数说明): each control's props; the limits (label ≤ 20 characters,
 *   componentId ≤ 64, "与bizAlias二选一"); options as `{value, key}` objects, matching the SDK's `SelectOption`.
 * - SCHEMA_PAGE: what reading the form back shows (`componentName`, `props.id`, `options` as strings, `choice` an
 *   Integer), which is what the plan compares.
 */
export const FORM_PAGE = 'https://open.dingtalk.com/document/development/create-an-approval-form-template';
export const COMPONENTS_PAGE = 'https://open.dingtalk.com/document/development/oa-formcomponent-message';
export const SCHEMA_PAGE = 'https://open.dingtalk.com/document/development/obtain-the-form-schema';

/** The documented limits (FORM_PAGE and COMPONENTS_PAGE). */
export const FORM_LIMITS = { name: 200, description: 300, controls: 200, label: 20 } as const;

/** The body of one save: the whole form, exactly the pipeline's fields in their order. */
export interface DesiredForm {
  name: string;
  description: string;
  formComponents: DingTalkFormComponent[];
}

type Entry = Field | Column;

/** Why a field or column cannot become a DingTalk control through the form API, or undefined when it can. */
export function notCreatable(entry: Entry): string | undefined {
  if (entry.type === 'document') return 'DingTalk has no document control (the create page lists none), and a text control would make requesters type JSON';
  if ((entry.type === 'option' || entry.type === 'options') && !entry.options?.length) return 'the form API takes a static option list (props.options); options_source cannot be given to DingTalk';
  return undefined;
}

/** The component apply creates for a field type: the first DingTalk entry of doctor's table, so doctor accepts it. */
export const componentTypeOf = (type: FieldType): string => compatible.dingtalk[type][0]!;

/**
 * A control id of our own making, the same on every run: the type, then a hash of the title (and of its table's).
 * COMPONENTS_PAGE: "componentId：控件id，表单内唯一 … 最大长度64字符"; the examples look like `TextField_17EZKEGSOCTC0`.
 */
const generatedId = (componentType: string, path: string) => `${componentType}_${createHash('sha256').update(path).digest('hex').slice(0, 12).toUpperCase()}`;

/**
 * The form the pipeline declares: one control per field, titled by `widget.label`, in field order. A control that
 * already exists with the same title and type keeps its id (the pages do not say what a new id for an existing
 * title does on update, so apply never finds out); a new or retyped control gets a generated id.
 */
export function desiredForm(pipeline: Pipeline, current?: DingTalkForm): DesiredForm {
  const form = pipeline.provider.form;
  if (!form) throw new Error(`pipeline "${pipeline.metadata.name}" declares no provider.form`);
  const formComponents = Object.entries(pipeline.fields).map(([name, field]) => {
    const label = labelOf(field, `field "${name}"`);
    const existing = current?.items.find((i) => i.props.label === label);
    const children = field.type === 'table'
      ? Object.entries(field.columns ?? {}).map(([key, column]) => {
          const title = labelOf(column, `column "${name}.${key}"`);
          return component(column, title, `${label}/${title}`, existing?.children?.find((c) => c.props.label === title));
        })
      : undefined;
    return component(field, label, label, existing, children);
  });
  return { name: form.name, description: form.description ?? '', formComponents };
}

function labelOf(entry: Entry, what: string): string {
  const label = entry.widget.label;
  // validate's managed-form rule refuses this first; here it would be a bug.
  if (label === undefined) throw new Error(`${what}: a managed DingTalk form titles its controls by widget.label`);
  return label;
}

function component(entry: Entry, label: string, path: string, existing: DingTalkSchemaItem | undefined, children?: DingTalkFormComponent[]): DingTalkFormComponent {
  const why = notCreatable(entry);
  if (why) throw new Error(`control "${label}": ${why}`);
  const componentType = componentTypeOf(entry.type);
  const componentId = existing && existing.componentName === componentType && existing.props.id ? existing.props.id : generatedId(componentType, path);
  const props: DingTalkFormComponent['props'] = { componentId, label, required: entry.required !== false };
  switch (entry.type) {
    // COMPONENTS_PAGE: "unit: 日期格式，枚举值（小时、天）"; its comment gives "yyyy-MM-dd HH:mm" for both units,
    // which we take for a slip: the SDK's example format is "yyyy-MM-dd", and the create page's date values are days.
    case 'date':
    case 'date_range':
      props.format = 'yyyy-MM-dd';
      props.unit = '天';
      break;
    case 'datetime':
    case 'datetime_range':
      props.format = 'yyyy-MM-dd HH:mm';
      props.unit = '小时';
      break;
    case 'person':
    case 'people':
      props.choice = entry.type === 'people' ? '1' : '0';
      break;
    case 'department':
    case 'departments':
      props.multiple = entry.type === 'departments';
      break;
    case 'option':
    case 'options':
      // The option's id is its key ("控件内唯一key，非必填"); DingTalk reports a choice by its value, the label.
      props.options = entry.options!.map((o) => ({ key: o.id, value: o.label }));
      break;
    case 'phone':
      // The create page's sample sends mode "phone"; no page lists the modes.
      props.mode = 'phone';
      break;
    case 'table':
      props.tableViewMode = 'table';
      break;
  }
  return { componentType, props, ...(children ? { children } : {}) };
}

/** One difference between the form in DingTalk and the pipeline's; `table` names the table a column belongs to. */
export type FormChange =
  | { kind: 'create'; name: string }
  | { kind: 'name' | 'description'; from: string; to: string }
  | { kind: 'add'; control: string; componentType: string; required: boolean; columns?: string[]; table?: string }
  | { kind: 'remove'; control: string; componentType: string; table?: string }
  | { kind: 'type'; control: string; from: string; to: string; table?: string }
  | { kind: 'required'; control: string; from: boolean; to: boolean; table?: string }
  | { kind: 'options'; control: string; from: string[]; to: string[]; table?: string }
  | { kind: 'setting'; control: string; setting: 'format' | 'choice'; from: string; to: string; table?: string }
  | { kind: 'order'; from: string[]; to: string[]; table?: string };

/**
 * What `ticketflow apply` would change: the form created (`current` undefined: no process yet), or the differences
 * between the form DingTalk shows and the pipeline's. The title is the key: a changed title is a removal and an
 * addition. Compared: presence, component type, required, static options, date format and the contact control's
 * single/multiple choice; DepartmentField's `multiple` is sent but cannot be compared (the schema does not show it).
 */
export function planForm(pipeline: Pipeline, current: DingTalkForm | undefined): FormChange[] {
  const desired = desiredForm(pipeline, current);
  if (!current) {
    return [{ kind: 'create', name: desired.name }, ...desired.formComponents.map((d) => added(d))];
  }
  const changes: FormChange[] = [];
  if (current.name !== desired.name) changes.push({ kind: 'name', from: current.name, to: desired.name });
  if (current.description !== desired.description) changes.push({ kind: 'description', from: current.description, to: desired.description });
  return [...changes, ...compare(desired.formComponents, current.items)];
}

const added = (d: DingTalkFormComponent, table?: string): FormChange => ({
  kind: 'add',
  control: d.props.label,
  componentType: d.componentType,
  required: d.props.required !== false,
  ...(d.children ? { columns: d.children.map((c) => c.props.label) } : {}),
  ...(table ? { table } : {}),
});

function compare(desired: DingTalkFormComponent[], current: DingTalkSchemaItem[], table?: string): FormChange[] {
  const changes: FormChange[] = [];
  const at = table ? { table } : {};
  for (const d of desired) {
    const control = d.props.label;
    const c = current.find((i) => i.props.label === control);
    if (!c) {
      changes.push(added(d, table));
      continue;
    }
    if (c.componentName !== d.componentType) {
      // A new type replaces the control: its other settings are the new control's.
      changes.push({ kind: 'type', control, from: c.componentName, to: d.componentType, ...at });
      continue;
    }
    const required = d.props.required !== false;
    if (Boolean(c.props.required) !== required) changes.push({ kind: 'required', control, from: Boolean(c.props.required), to: required, ...at });
    if (d.props.options) {
      const from = optionLabels(c.props.options);
      const to = d.props.options.map((o) => o.value);
      if (from.join('\u0000') !== to.join('\u0000')) changes.push({ kind: 'options', control, from, to, ...at });
    }
    if (d.props.format !== undefined && (c.props.format ?? '') !== d.props.format) changes.push({ kind: 'setting', control, setting: 'format', from: c.props.format ?? '', to: d.props.format, ...at });
    if (d.props.choice !== undefined && String(c.props.choice ?? '0') !== d.props.choice) changes.push({ kind: 'setting', control, setting: 'choice', from: String(c.props.choice ?? '0'), to: d.props.choice, ...at });
    if (d.children) changes.push(...compare(d.children, c.children ?? [], control));
  }
  for (const c of current) {
    if (!desired.some((d) => d.props.label === c.props.label)) changes.push({ kind: 'remove', control: c.props.label, componentType: c.componentName, ...at });
  }
  const to = desired.map((d) => d.props.label).filter((l) => current.some((c) => c.props.label === l));
  const from = current.map((c) => c.props.label).filter((l) => to.includes(l));
  if (from.join('\u0000') !== to.join('\u0000')) changes.push({ kind: 'order', from, to, ...at });
  return changes;
}

/**
 * The option labels of a schema control. SCHEMA_PAGE types `options` as "Array of String" with the example
 * `["选项1"]`; it does not say whether a string is the bare label or the `{key, value}` object the create took,
 * so a string holding a JSON object is read by its `value`, and an object (never documented here) too.
 */
export function optionLabels(raw: unknown[] | undefined): string[] {
  return (raw ?? []).map((o) => {
    let v: unknown = o;
    if (typeof o === 'string' && o.trim().startsWith('{')) {
      try {
        v = JSON.parse(o);
      } catch {
        v = o;
      }
    }
    return typeof v === 'object' && v !== null && 'value' in v ? String((v as { value: unknown }).value) : String(v);
  });
}

const named = (control: string, table?: string) => (table ? `"${table}" › "${control}"` : `"${control}"`);
const listed = (xs: string[]) => `[${xs.join(', ')}]`;

/** The plan as lines: `+` created or added, `-` removed, `~` changed; a likely rename gets a note. */
export function renderFormPlan(changes: FormChange[]): string[] {
  const lines = changes.map((c) => {
    switch (c.kind) {
      case 'create':
        return `+ create the form "${c.name}" (DingTalk assigns its process_code)`;
      case 'name':
        return `~ form name "${c.from}" → "${c.to}"`;
      case 'description':
        return `~ form description "${c.from}" → "${c.to}"`;
      case 'add':
        return `+ control ${named(c.control, c.table)}: ${c.componentType}${c.required ? ', required' : ''}${c.columns ? `, columns ${listed(c.columns)}` : ''}`;
      case 'remove':
        return `- control ${named(c.control, c.table)}: ${c.componentType}, mapped by no field`;
      case 'type':
        return `~ control ${named(c.control, c.table)}: ${c.from} → ${c.to}`;
      case 'required':
        return `~ control ${named(c.control, c.table)}: ${c.from ? 'required' : 'optional'} → ${c.to ? 'required' : 'optional'}`;
      case 'options':
        return `~ control ${named(c.control, c.table)}: options ${listed(c.from)} → ${listed(c.to)}`;
      case 'setting':
        return `~ control ${named(c.control, c.table)}: ${c.setting} "${c.from}" → "${c.to}"`;
      case 'order':
        return `~ order${c.table ? ` of "${c.table}"` : ''}: ${c.from.join(', ')} → ${c.to.join(', ')}`;
    }
  });
  for (const r of changes) {
    if (r.kind !== 'remove') continue;
    const a = changes.find((x): x is Extract<FormChange, { kind: 'add' }> => x.kind === 'add' && x.componentType === r.componentType && x.table === r.table);
    if (a) lines.push(`  note: "${r.control}" → "${a.control}" looks like a rename; the title is a control's key, so apply removes one control and adds another`);
  }
  return lines;
}
