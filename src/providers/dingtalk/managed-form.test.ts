import assert from 'node:assert/strict';
import { test } from 'node:test';
import { diagnose } from '../../doctor/diagnose.ts';
import { checkPipelines } from '../../pipeline/check.ts';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import type { DingTalkForm, DingTalkFormComponent, DingTalkSchemaItem } from './api.ts';
import { desiredForm, notCreatable, optionLabels, planForm, renderFormPlan } from './managed-form.ts';

const yaml = `apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: db-access, version: 1, owner: dba@example.com }
provider:
  type: dingtalk
  process_code: PROC-DB
  form: { name: 数据库权限申请, description: 申请数据库权限 }
secret_env: TICKETFLOW_SECRET_DB_ACCESS
stages:
  check: { node: { activity_id: act_check }, endpoint: https://db.example.com/check, mode: sync }
fields:
  database: { widget: { label: 数据库 }, type: text }
  level: { widget: { label: 权限 }, type: option, options: [{ label: 只读, id: read }, { label: 读写, id: write }] }
  tables: { widget: { label: 表 }, type: options, options: [{ label: 订单, id: orders }] }
  reason: { widget: { label: 申请理由 }, type: textarea, required: false }
  rows: { widget: { label: 行数 }, type: number }
  cost: { widget: { label: 费用 }, type: amount }
  day: { widget: { label: 日期 }, type: date }
  at: { widget: { label: 时间 }, type: datetime }
  window: { widget: { label: '["开始","结束"]' }, type: date_range }
  owner: { widget: { label: 负责人 }, type: person }
  reviewers: { widget: { label: 评审人 }, type: people }
  team: { widget: { label: 部门 }, type: department }
  teams: { widget: { label: 部门们 }, type: departments }
  files: { widget: { label: 附件 }, type: attachments }
  phone: { widget: { label: 电话 }, type: phone }
  place: { widget: { label: 地址 }, type: address }
  lines:
    widget: { label: 明细 }
    type: table
    columns:
      item: { widget: { label: 项目 }, type: text }
      price: { widget: { label: 金额 }, type: amount, required: false }
`;

function pipeline(edit: (text: string) => string = (t) => t): Pipeline {
  const result = checkPipelines([{ path: 'db-access.yaml', text: edit(yaml) }]);
  assert.deepEqual(result.diagnostics.filter((d) => d.severity === 'error'), []);
  return result.files[0]!.pipeline!;
}

/** What the schema read would show for a saved form (as the simulator shows it: option values, choice an Integer). */
function shown(form: { name: string; description: string; formComponents: DingTalkFormComponent[] }): DingTalkForm {
  const item = (c: DingTalkFormComponent): DingTalkSchemaItem => ({
    componentName: c.componentType,
    props: { id: c.props.componentId, label: c.props.label, required: Boolean(c.props.required), ...(c.props.format ? { format: c.props.format } : {}), ...(c.props.options ? { options: c.props.options.map((o) => o.value) } : {}), ...(c.props.choice ? { choice: Number(c.props.choice) } : {}) },
    ...(c.children ? { children: c.children.map(item) } : {}),
  });
  return { name: form.name, description: form.description, items: form.formComponents.map(item) };
}

test('desiredForm: one control per field in field order, titled by widget.label, of the type doctor prefers', () => {
  const form = desiredForm(pipeline());
  assert.equal(form.name, '数据库权限申请');
  assert.equal(form.description, '申请数据库权限');
  assert.deepEqual(
    form.formComponents.map((c) => [c.props.label, c.componentType]),
    [
      ['数据库', 'TextField'],
      ['权限', 'DDSelectField'],
      ['表', 'DDMultiSelectField'],
      ['申请理由', 'TextareaField'],
      ['行数', 'NumberField'],
      ['费用', 'MoneyField'],
      ['日期', 'DDDateField'],
      ['时间', 'DDDateField'],
      ['["开始","结束"]', 'DDDateRangeField'],
      ['负责人', 'InnerContactField'],
      ['评审人', 'InnerContactField'],
      ['部门', 'DepartmentField'],
      ['部门们', 'DepartmentField'],
      ['附件', 'DDAttachment'],
      ['电话', 'PhoneField'],
      ['地址', 'TextField'],
      ['明细', 'TableField'],
    ],
  );
  const by = (label: string) => form.formComponents.find((c) => c.props.label === label)!;
  assert.deepEqual(by('权限').props.options, [{ key: 'read', value: '只读' }, { key: 'write', value: '读写' }], 'options are SelectOption objects: key the id, value the label');
  assert.equal(by('申请理由').props.required, false);
  assert.equal(by('数据库').props.required, true, 'required by default');
  assert.deepEqual([by('日期').props.format, by('日期').props.unit, by('时间').props.format, by('时间').props.unit], ['yyyy-MM-dd', '天', 'yyyy-MM-dd HH:mm', '小时']);
  assert.deepEqual([by('负责人').props.choice, by('评审人').props.choice, by('部门').props.multiple, by('部门们').props.multiple], ['0', '1', false, true]);
  assert.equal(by('电话').props.mode, 'phone');
  assert.deepEqual(by('明细').children!.map((c) => [c.props.label, c.componentType, c.props.required]), [['项目', 'TextField', true], ['金额', 'MoneyField', false]]);
  const ids = form.formComponents.flatMap((c) => [c, ...(c.children ?? [])]).map((c) => c.props.componentId);
  assert.equal(new Set(ids).size, ids.length, 'ids are unique in the form');
  assert.ok(ids.every((id) => /^[A-Za-z]+_[0-9A-F]{12}$/.test(id) && id.length <= 64), ids.join());
  assert.deepEqual(desiredForm(pipeline()).formComponents.map((c) => c.props.componentId), form.formComponents.map((c) => c.props.componentId), 'the same ids on every run');
});

test('every created control is one doctor accepts for its field', () => {
  const p = pipeline();
  const form = desiredForm(p);
  const view = { provider: 'dingtalk' as const, widgets: form.formComponents.map((c) => ({ id: c.props.componentId, label: c.props.label, type: c.componentType })), nodes: [{ key: 'act_check', name: 'check', approvers: ['a'] }] };
  assert.deepEqual(diagnose(p, view, 'a'), []);
});

test('an existing control keeps its id when its title and type stay; a retyped one gets a new id', () => {
  const p = pipeline();
  const current = shown(desiredForm(p));
  current.items = current.items.map((i) => (i.props.label === '数据库' ? { ...i, props: { ...i.props, id: 'TextField_CONSOLE1' } } : i.props.label === '行数' ? { ...i, componentName: 'TextField', props: { ...i.props, id: 'TextField_CONSOLE2' } } : i));
  const again = desiredForm(p, current);
  const id = (label: string) => again.formComponents.find((c) => c.props.label === label)!.props.componentId;
  assert.equal(id('数据库'), 'TextField_CONSOLE1');
  assert.match(id('行数'), /^NumberField_/);
});

test('planForm: no process yet means creating the form with every control', () => {
  const p = pipeline((t) => t.replace('  process_code: PROC-DB\n', ''));
  const changes = planForm(p, undefined);
  assert.deepEqual(changes[0], { kind: 'create', name: '数据库权限申请' });
  assert.equal(changes.length, 1 + Object.keys(p.fields).length);
  const lines = renderFormPlan(changes);
  assert.equal(lines[0], '+ create the form "数据库权限申请" (DingTalk assigns its process_code)');
  assert.ok(lines.includes('+ control "申请理由": TextareaField'));
  assert.ok(lines.includes('+ control "明细": TableField, required, columns [项目, 金额]'));
});

test('planForm: a form that matches needs nothing', () => {
  const p = pipeline();
  assert.deepEqual(planForm(p, shown(desiredForm(p))), []);
});

test('planForm: additions, removals, new types, required, options, formats, choice, order, name and description, and table columns', () => {
  const before = pipeline();
  const current = shown(desiredForm(before));
  current.items.push({ componentName: 'TextareaField', props: { id: 'TextareaField_X', label: '审批意见', required: false } });
  const after = pipeline((t) =>
    t
      .replace('form: { name: 数据库权限申请, description: 申请数据库权限 }', 'form: { name: 数据库权限, description: 读写权限 }')
      .replace('  database: { widget: { label: 数据库 }, type: text }\n', '')
      .replace("{ label: 读写, id: write }] }", "{ label: 读写, id: write }, { label: 管理, id: admin }] }")
      .replace('reason: { widget: { label: 申请理由 }, type: textarea, required: false }', 'reason: { widget: { label: 申请理由 }, type: textarea }')
      .replace('rows: { widget: { label: 行数 }, type: number }', 'rows: { widget: { label: 行数 }, type: text }')
      .replace('at: { widget: { label: 时间 }, type: datetime }', 'at: { widget: { label: 时间 }, type: date }')
      .replace('reviewers: { widget: { label: 评审人 }, type: people }', 'reviewers: { widget: { label: 评审人 }, type: person }')
      .replace('      price: { widget: { label: 金额 }, type: amount, required: false }\n', '      qty: { widget: { label: 数量 }, type: number }\n')
      .replace('fields:\n', 'fields:\n  db: { widget: { label: 数据库名 }, type: text }\n')
      .replace('  place: { widget: { label: 地址 }, type: address }\n', '')
      .replace('  phone: { widget: { label: 电话 }, type: phone }\n', '  phone: { widget: { label: 电话 }, type: phone }\n  place: { widget: { label: 地址 }, type: address }\n'),
  );
  const lines = renderFormPlan(planForm(after, current));
  assert.deepEqual(lines, [
    '~ form name "数据库权限申请" → "数据库权限"',
    '~ form description "申请数据库权限" → "读写权限"',
    '+ control "数据库名": TextField, required',
    '~ control "权限": options [只读, 读写] → [只读, 读写, 管理]',
    '~ control "申请理由": optional → required',
    '~ control "行数": NumberField → TextField',
    '~ control "时间": format "yyyy-MM-dd HH:mm" → "yyyy-MM-dd"',
    '~ control "评审人": choice "1" → "0"',
    '+ control "明细" › "数量": NumberField, required',
    '- control "明细" › "金额": MoneyField, mapped by no field',
    '- control "数据库": TextField, mapped by no field',
    '- control "审批意见": TextareaField, mapped by no field',
    '  note: "数据库" → "数据库名" looks like a rename; the title is a control\'s key, so apply removes one control and adds another',
  ]);
  // Only the order changed:
  const reordered = pipeline((t) => t.replace('  database: { widget: { label: 数据库 }, type: text }\n', '').replace('fields:\n', 'fields:\n  database: { widget: { label: 数据库 }, type: text }\n').replace('  rows: { widget: { label: 行数 }, type: number }\n', '').replace('fields:\n', 'fields:\n  rows: { widget: { label: 行数 }, type: number }\n'));
  const order = planForm(reordered, current).filter((c) => c.kind === 'order');
  assert.equal(order.length, 1);
  assert.match(renderFormPlan(order)[0]!, /^~ order: 数据库, 权限, 表, 申请理由, 行数, .* → 行数, 数据库, 权限, 表, 申请理由, /);
});

test('optionLabels reads the documented strings, and JSON {key, value} strings or objects by their value', () => {
  assert.deepEqual(optionLabels(['选项1', '{"key":"option_1","value":"选项2"}', { key: 'k', value: '选项3' }, '{not json']), ['选项1', '选项2', '选项3', '{not json']);
  assert.deepEqual(optionLabels(undefined), []);
});

test('notCreatable: documents and options without a static list', () => {
  assert.match(notCreatable({ widget: { label: 'x' }, type: 'document' })!, /no document control/);
  assert.match(notCreatable({ widget: { label: 'x' }, type: 'option' })!, /static option list/);
  assert.equal(notCreatable({ widget: { label: 'x' }, type: 'option', options: [{ label: 'a', id: 'a' }] }), undefined);
  assert.equal(notCreatable({ widget: { label: 'x' }, type: 'text' }), undefined);
});
