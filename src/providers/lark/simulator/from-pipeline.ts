import type { Field, Pipeline } from '../../../pipeline/pipeline.generated.ts';
import type { SimDefinition, SimNode, SimWidget } from './model.ts';

const widgetTypes: Record<string, string> = {
  text: 'input',
  textarea: 'textarea',
  address: 'address',
  number: 'number',
  amount: 'amount',
  date: 'date',
  datetime: 'date',
  date_range: 'dateInterval',
  datetime_range: 'dateInterval',
  person: 'contact',
  people: 'contact',
  department: 'department',
  departments: 'department',
  option: 'radioV2',
  options: 'checkboxV2',
  attachments: 'attachmentV2',
  table: 'fieldList',
  phone: 'telephone',
  document: 'document',
};

/**
 * A Lark approval definition that matches a pipeline: its widgets, the check node first and the execute node
 * last (both assigned to the assistant) and human approver nodes between. Sandbox mode and the demo define
 * these in the simulator so a pipeline can be tried without a Lark tenant.
 */
export function definitionForPipeline(pipeline: Pipeline, assistant: string, approvers: string[] = ['manager']): Omit<SimDefinition, 'subscribed'> {
  const form: SimWidget[] = Object.entries(pipeline.fields).map(([name, field]) => widgetFor(name, field));
  const stageNode = (stage: 'check' | 'execute'): SimNode[] => {
    const node = pipeline.stages[stage]?.node;
    if (!node) return [];
    return [{ node_id: `node_${stage}`, custom_node_id: node.custom_id, name: node.name ?? `${stage}_node`, approvers: [assistant] }];
  };
  return {
    approval_code: pipeline.provider.approval_code ?? pipeline.metadata.name,
    approval_name: pipeline.metadata.description ?? pipeline.metadata.name,
    form,
    nodes: [...stageNode('check'), { node_id: 'node_approve', name: 'approve', approvers, mode: 'OR' }, ...stageNode('execute')],
  };
}

function widgetFor(name: string, field: Field): SimWidget {
  const w = field.widget;
  return {
    id: w.id ?? `widget_${name}`,
    custom_id: w.custom_id,
    name: w.label ?? name,
    type: widgetTypes[field.type] ?? 'input',
    required: field.required !== false,
    ...(field.options ? { option: field.options.map((o) => ({ value: o.id, text: o.label })) } : {}),
  };
}
