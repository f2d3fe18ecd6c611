import type { FieldType, Pipeline, WidgetRef } from '../pipeline/pipeline.generated.ts';
import { suggest } from '../pipeline/suggest.ts';
import { imName } from '../providers/im-name.ts';

/** An IM approval definition as doctor compares it: its widgets and its nodes in order. */
export interface DefinitionView {
  provider: 'lark' | 'dingtalk' | 'wecom';
  widgets: Array<{ id: string; customId?: string; label: string; type: string }>;
  /** Approver nodes in flow order (no start/end). `approvers` only where the IM exposes them. */
  nodes: Array<{ key?: string; name: string; approvers?: string[] }>;
}

export interface Finding {
  problem: string;
  remedy: string;
  /** What the finding is about: a form widget (`form`) or the approval flow's nodes (`flow`). */
  about?: 'form' | 'flow';
}

/** Per IM and field type, the widget types a field may map to; the first is the one `ticketflow apply` creates. */
export const compatible: Record<'lark' | 'dingtalk' | 'wecom', Record<FieldType, string[]>> = {
  lark: {
    text: ['input', 'textarea'],
    textarea: ['textarea', 'input'],
    address: ['address', 'input'],
    number: ['number', 'formula'],
    amount: ['amount', 'number', 'formula'],
    date: ['date'],
    datetime: ['date'],
    date_range: ['dateInterval'],
    datetime_range: ['dateInterval'],
    person: ['contact'],
    people: ['contact'],
    department: ['department'],
    departments: ['department'],
    option: ['radioV2', 'radio'],
    options: ['checkboxV2', 'checkbox'],
    attachments: ['attachmentV2', 'image'],
    table: ['fieldList'],
    phone: ['telephone'],
    document: ['document'],
  },
  dingtalk: {
    // CloudDM's guide builds every control as 单行/多行输入框: text controls may carry any simple value.
    text: ['TextField', 'TextareaField'],
    textarea: ['TextareaField', 'TextField'],
    address: ['TextField', 'TextareaField'],
    number: ['NumberField', 'TextField'],
    amount: ['MoneyField', 'NumberField', 'TextField'],
    date: ['DDDateField', 'TextField'],
    datetime: ['DDDateField', 'TextField'],
    date_range: ['DDDateRangeField'],
    datetime_range: ['DDDateRangeField'],
    person: ['InnerContactField'],
    people: ['InnerContactField'],
    department: ['DepartmentField'],
    departments: ['DepartmentField'],
    option: ['DDSelectField', 'TextField'],
    options: ['DDMultiSelectField'],
    attachments: ['DDAttachment', 'DDPhotoField'],
    table: ['TableField'],
    phone: ['PhoneField', 'TextField'],
    document: ['TextField'],
  },
  // WeCom's control types (the appendix of 提交审批申请, https://developer.work.weixin.qq.com/document/path/91853), as
  // its create can fill them (src/providers/wecom/form.ts); a Selector's type and a Contact's mode are part of the
  // name (src/doctor/definitions.ts). A File takes media ids uploaded first, which Ticketflow does not do, and the
  // PhoneNumber control's value is not documented: validate refuses attachments and document fields on WeCom.
  wecom: {
    text: ['Text', 'Textarea'],
    textarea: ['Textarea', 'Text'],
    address: ['Text', 'Textarea'],
    number: ['Number', 'Money', 'Text'],
    amount: ['Money', 'Number'],
    date: ['Date'],
    datetime: ['Date'],
    date_range: ['DateRange'],
    datetime_range: ['DateRange'],
    person: ['Contact/user'],
    people: ['Contact/user'],
    department: ['Contact/department'],
    departments: ['Contact/department'],
    option: ['Selector/single', 'Selector/multi'],
    options: ['Selector/multi'],
    attachments: ['File'],
    table: ['Table'],
    phone: ['Text'],
    document: ['Text'],
  },
};

const describe = (ref: WidgetRef) => (ref.custom_id !== undefined ? `custom id "${ref.custom_id}"` : ref.id !== undefined ? `id "${ref.id}"` : `title "${ref.label}"`);

/** Every mismatch between a pipeline and the IM definition it names, each with a remedy. Pure. */
export function diagnose(pipeline: Pipeline, view: DefinitionView, assistant: string): Finding[] {
  const findings: Finding[] = [];
  const im = imName(view.provider);
  for (const [name, field] of Object.entries(pipeline.fields)) {
    const ref = field.widget;
    const widget = view.widgets.find((w) => (ref.id !== undefined ? w.id === ref.id : ref.custom_id !== undefined ? w.customId === ref.custom_id : w.label === ref.label));
    if (!widget) {
      const wanted = ref.custom_id ?? ref.id ?? ref.label!;
      const candidates = view.widgets.map((w) => (ref.custom_id !== undefined ? (w.customId ?? '') : ref.id !== undefined ? w.id : w.label)).filter(Boolean);
      const close = suggest(wanted, candidates);
      findings.push({
        problem: `field "${name}": the ${im} form has no widget with ${describe(ref)}${close ? `; there is "${close}"` : ''}`,
        remedy: close ? `rename the widget back to "${wanted}" in the ${im} form designer, or map the field to "${close}"` : `add the widget to the ${im} form, or fix fields.${name}.widget`,
        about: 'form',
      });
      continue;
    }
    const ok = compatible[view.provider][field.type];
    if (!ok.includes(widget.type)) {
      findings.push({ problem: `field "${name}" is ${field.type} but its widget "${widget.label}" is a ${widget.type}`, remedy: `use a ${ok.join(' or ')} widget, or change fields.${name}.type`, about: 'form' });
    }
  }
  if ((pipeline.origin ?? 'im') === 'im') {
    const keyOf = (ref: { custom_id?: string; activity_id?: string; name?: string }) => ref.custom_id ?? ref.activity_id;
    for (const stage of ['check', 'execute'] as const) {
      const ref = pipeline.stages[stage]?.node;
      if (!ref) continue;
      const index = view.nodes.findIndex((n) => (keyOf(ref) !== undefined ? n.key === keyOf(ref) : n.name === ref.name));
      const label = keyOf(ref) ?? ref.name;
      if (index < 0) {
        findings.push({ problem: `the ${stage} stage's node "${label}" is not in the ${im} flow`, remedy: `add an approver node ${stage === 'check' ? 'at the start' : 'at the end'} of the flow with that ${keyOf(ref) !== undefined ? 'id' : 'name'}, assigned to ${assistant}`, about: 'flow' });
        continue;
      }
      if (stage === 'check' && index !== 0) findings.push({ problem: `the check node "${label}" is not the first node of the flow`, remedy: 'move it before every human approval, so a pointless request is stopped before anyone reviews it', about: 'flow' });
      if (stage === 'execute' && index !== view.nodes.length - 1) findings.push({ problem: `the execute node "${label}" is not the last node of the flow`, remedy: 'move it after every human approval, so the work is done only once everyone approved', about: 'flow' });
      const approvers = view.nodes[index]!.approvers;
      if (approvers && (approvers.length !== 1 || approvers[0] !== assistant)) {
        findings.push({ problem: `the ${stage} node "${label}" is approved by ${approvers.join(', ') || 'nobody'}, not the assistant ${assistant}`, remedy: `make ${assistant} (the assistant account) its only approver`, about: 'flow' });
      }
    }
  }
  return findings;
}
