import assert from 'node:assert/strict';
import { test } from 'node:test';
import { checkPipelines } from '../../pipeline/check.ts';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { weComTemplate } from '../../testing/wecom.ts';
import { NotCreatable } from '../not-creatable.ts';
import { mapWeComForm, sameContents, weComCreateContents } from './form.ts';
import { WeComModel } from './simulator/model.ts';

const text = `apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: wecom-form, version: 1, owner: t }
provider: { type: wecom, template_id: TPL-FORM }
origin: api
notify_url: https://svc.example.com/notify
secret_env: TICKETFLOW_SECRET_DEMO
stages:
  check: { endpoint: https://svc.example.com/check, mode: sync }
fields:
  title: { widget: { id: Text-1569573760849 }, type: text }
  rows: { widget: { label: 影响行数 }, type: number }
  cost: { widget: { label: 费用 }, type: amount }
  day: { widget: { label: 执行日期 }, type: date }
  window: { widget: { label: 时间窗口 }, type: date_range }
  env: { widget: { label: 环境 }, type: option, options: [{ label: 生产, id: prod }, { label: 测试, id: test }] }
  roles: { widget: { label: 权限 }, type: options, options: [{ label: 只读, id: viewer }, { label: 编辑, id: editor }] }
  owner: { widget: { label: 负责人 }, type: person }
  sql: { widget: { label: SQL内容 }, type: textarea, required: false }
  start: { widget: { label: 开始时间 }, type: datetime, required: false }
  depts: { widget: { label: 部门 }, type: departments, required: false }
  items:
    widget: { label: 明细 }
    type: table
    required: false
    columns:
      name: { widget: { label: 项目 }, type: text }
      amount: { widget: { id: Money-1569573760865 }, type: amount }
`;
const pipeline = checkPipelines([{ path: 'wecom-form.yaml', text }]).files[0]!.pipeline as Pipeline;
const template = weComTemplate('TPL-FORM');
const fields = {
  title: '迁移订单表',
  rows: 1200,
  cost: { value: 88.5, currency: 'CNY' },
  day: '2026-12-31',
  window: { start: '2026-12-01', end: '2026-12-03' },
  env: 'prod',
  roles: ['viewer', 'editor'],
  owner: { user_id: 'u-wang' },
  sql: 'UPDATE o SET s = 1 WHERE id = 7;',
  start: '2026-12-31T09:30:00+08:00',
  depts: [{ id: '4' }, { id: '7' }],
  items: [{ name: '服务器', amount: { value: 480, currency: 'CNY' } }],
};

test('fields → apply_data.contents, per control type, shaped by the template (ids, option keys, date types)', () => {
  assert.ok(pipeline, 'the pipeline is valid');
  const contents = weComCreateContents(pipeline, template.controls, fields);
  const day = (d: string) => Date.parse(`${d}T00:00:00+08:00`) / 1000;
  assert.deepEqual(contents, [
    { control: 'Text', id: 'Text-1569573760849', value: { text: '迁移订单表' } },
    { control: 'Number', id: 'Number-1569573760850', value: { new_number: '1200' } },
    { control: 'Money', id: 'Money-1569573760851', value: { new_money: '88.5' } },
    { control: 'Date', id: 'Date-1569573760852', value: { date: { type: 'day', s_timestamp: String(day('2026-12-31')) } } },
    { control: 'DateRange', id: 'DateRange-1569573760853', value: { date_range: { type: 'halfday', new_begin: day('2026-12-01'), new_end: day('2026-12-03'), new_duration: 2 * 86_400 } } },
    { control: 'Selector', id: 'Selector-1569573760854', value: { selector: { type: 'single', options: [{ key: 'option-1569573760854' }] } } },
    { control: 'Selector', id: 'Selector-1569573760856', value: { selector: { type: 'multi', options: [{ key: 'option-1569573760857' }, { key: 'option-1569573760858' }] } } },
    { control: 'Contact', id: 'Contact-1569573760859', value: { members: [{ userid: 'u-wang' }] } },
    { control: 'Textarea', id: 'Textarea-1569573760860', value: { text: 'UPDATE o SET s = 1 WHERE id = 7;' } },
    { control: 'Date', id: 'Date-1569573760861', value: { date: { type: 'hour', s_timestamp: String(Date.parse('2026-12-31T09:30:00+08:00') / 1000) } } },
    { control: 'Contact', id: 'Contact-1569573760862', value: { departments: [{ openapi_id: '4' }, { openapi_id: '7' }] } },
    { control: 'Table', id: 'Table-1569573760863', value: { children: [{ list: [{ control: 'Text', id: 'Text-1569573760864', value: { text: '服务器' } }, { control: 'Money', id: 'Money-1569573760865', value: { new_money: '480' } }] }] } },
  ]);
});

test('getapprovaldetail\'s apply_data → the same fields (a round trip through the simulator\'s strict create and read)', () => {
  const model = new WeComModel(() => undefined);
  model.addUser({ userid: 'dev-zhang', name: '张' }, { userid: 'u-wang', name: '王' });
  model.defineTemplate(template);
  const contents = weComCreateContents(pipeline, template.controls, fields);
  const i = model.apply({ creator_userid: 'dev-zhang', template_id: 'TPL-FORM', use_template_approver: 1, apply_data: { contents } });
  const shown = model.shownContents(i);
  assert.deepEqual(shown[5]!.value, { selector: { type: 'single', options: [{ key: 'option-1569573760854', value: [{ text: '生产', lang: 'zh_CN' }] }] } }, 'the read adds option texts');
  assert.deepEqual(shown[7]!.value, { members: [{ userid: 'u-wang', name: '王' }] }, 'and names');
  const mapped = mapWeComForm(pipeline, shown, new Date());
  assert.deepEqual(mapped.problems, []);
  assert.deepEqual(mapped.fields, fields);
  assert.ok(sameContents(contents, shown), 'the read carries exactly what was sent');
  const other = weComCreateContents(pipeline, template.controls, { ...fields, roles: ['viewer'] });
  assert.ok(!sameContents(other, shown));
});

test('read: a datetime in +08:00 whatever the offset sent, an option the pipeline does not list is named, a required field missing is named', () => {
  const contents = weComCreateContents(pipeline, template.controls, { ...fields, start: '2026-12-31T01:30:00Z' });
  const model = new WeComModel(() => undefined);
  model.addUser('dev-zhang', 'u-wang');
  model.defineTemplate(template);
  const shown = model.shownContents(model.apply({ creator_userid: 'dev-zhang', template_id: 'TPL-FORM', use_template_approver: 1, apply_data: { contents } }));
  assert.equal(mapWeComForm(pipeline, shown, new Date()).fields.start, '2026-12-31T09:30:00+08:00');
  const odd = shown.map((c) => (c.id === 'Selector-1569573760854' ? { ...c, value: { selector: { type: 'single', options: [{ key: 'option-x', value: [{ text: '预发', lang: 'zh_CN' }] }] } } } : c)).filter((c) => c.id !== 'Number-1569573760850');
  assert.deepEqual(mapWeComForm(pipeline, odd, new Date()).problems, ['"rows" (control "影响行数") is required but not in the form', '"env" (control "环境") has an option "预发" that the pipeline does not list']);
});

test('what the create cannot carry is refused at once: a control missing, a field of another kind, a file', () => {
  assert.throws(() => weComCreateContents(pipeline, template.controls.filter((c) => c.property.id !== 'Number-1569573760850'), fields), (e: Error) => e instanceof NotCreatable && /"rows": the WeCom template has no control "影响行数"/.test(e.message));
  const retyped = template.controls.map((c) => (c.property.id === 'Number-1569573760850' ? { ...c, property: { ...c.property, control: 'Date' } } : c));
  assert.throws(() => weComCreateContents(pipeline, retyped, fields), /a number field cannot be sent to the WeCom Date control/);
  const noOption = template.controls.map((c) => (c.property.id === 'Selector-1569573760854' ? { ...c, config: { selector: { type: 'single' as const, options: [] } } } : c));
  assert.throws(() => weComCreateContents(pipeline, noOption, fields), /has no option "生产"/);
});
