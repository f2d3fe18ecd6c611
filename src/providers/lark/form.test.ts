import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import type { Pipeline } from '../../pipeline/pipeline.generated.ts';
import { mapLarkForm, type LarkWidget } from './form.ts';

const load = (name: string) => parse(readFileSync(new URL(`../../../pipelines/${name}.yaml`, import.meta.url), 'utf8')) as Pipeline;
const now = new Date('2026-11-23T10:00:00Z');

test('every Lark widget type maps to the contract shape', () => {
  const pipeline: Pipeline = {
    ...load('travel-expense'),
    fields: {
      text: { widget: { id: 'w1' }, type: 'text' },
      area: { widget: { id: 'w2' }, type: 'textarea' },
      num: { widget: { id: 'w3' }, type: 'number' },
      money: { widget: { id: 'w4' }, type: 'amount' },
      day: { widget: { id: 'w5' }, type: 'date' },
      at: { widget: { id: 'w6' }, type: 'datetime' },
      span: { widget: { id: 'w7' }, type: 'date_range' },
      who: { widget: { id: 'w8' }, type: 'person' },
      team: { widget: { id: 'w9' }, type: 'people' },
      dept: { widget: { id: 'w10' }, type: 'department' },
      depts: { widget: { id: 'w11' }, type: 'departments' },
      one: { widget: { id: 'w12' }, type: 'option', options: [{ label: '只读', id: 'viewer' }] },
      many: { widget: { id: 'w13' }, type: 'options', options: [{ label: '只读', id: 'viewer' }, { label: '编辑', id: 'editor' }] },
      ext: { widget: { id: 'w14' }, type: 'option', options_source: 'https://x.example.com' },
      files: { widget: { id: 'w15' }, type: 'attachments' },
      rows: { widget: { id: 'w16' }, type: 'table', columns: { what: { widget: { id: 'c1' }, type: 'text' }, cost: { widget: { id: 'c2' }, type: 'amount', currency: 'USD' } } },
      tel: { widget: { id: 'w17' }, type: 'phone' },
      addr: { widget: { id: 'w18' }, type: 'address' },
      doc: { widget: { id: 'w19' }, type: 'document' },
    },
  };
  const form: LarkWidget[] = [
    { id: 'w1', type: 'input', value: 'hello' },
    { id: 'w2', type: 'textarea', value: 'long\ntext' },
    { id: 'w3', type: 'number', value: '42.5' },
    { id: 'w4', type: 'amount', value: 1200, ext: { currency: 'CNY' } },
    { id: 'w5', type: 'date', value: '2026-12-31T00:00:00+08:00' },
    { id: 'w6', type: 'date', value: '2026-12-31T09:30:00+08:00' },
    { id: 'w7', type: 'dateInterval', value: { start: '2026-12-01T00:00:00+08:00', end: '2026-12-03T00:00:00+08:00', interval: 2 } },
    { id: 'w8', type: 'contact', value: ['u1'], open_ids: ['ou_1'] },
    { id: 'w9', type: 'contact', value: ['u1', 'u2'], open_ids: ['ou_1', 'ou_2'] },
    { id: 'w10', type: 'department', value: [{ open_id: 'od-1' }] },
    { id: 'w11', type: 'department', value: [{ open_id: 'od-1' }, { open_id: 'od-2' }] },
    { id: 'w12', type: 'radioV2', value: '只读' },
    { id: 'w13', type: 'checkboxV2', value: ['只读', '编辑'] },
    { id: 'w14', type: 'radioV2', value: 'crm' },
    { id: 'w15', type: 'attachmentV2', value: ['https://files.example.com/a/report.pdf'], ext: 'report.pdf' },
    { id: 'w16', type: 'fieldList', value: [[{ id: 'c1', type: 'input', value: 'taxi' }, { id: 'c2', type: 'amount', value: 30 }]] },
    { id: 'w17', type: 'telephone', value: { country_code: '+86', national_number: '13800000000' } },
    { id: 'w18', type: 'address', value: '上海市' },
    { id: 'w19', type: 'document', value: { token: 'doc1', type: 'docx', title: 'Plan', url: 'https://x.feishu.cn/docx/doc1' } },
  ];
  const { fields, problems } = mapLarkForm(pipeline, form, now);
  assert.deepEqual(problems, []);
  assert.deepEqual(fields, {
    text: 'hello',
    area: 'long\ntext',
    num: 42.5,
    money: { value: 1200, currency: 'CNY' },
    day: '2026-12-31',
    at: '2026-12-31T09:30:00+08:00',
    span: { start: '2026-12-01', end: '2026-12-03' },
    who: { user_id: 'u1', open_id: 'ou_1' },
    team: [{ user_id: 'u1', open_id: 'ou_1' }, { user_id: 'u2', open_id: 'ou_2' }],
    dept: { id: 'od-1' },
    depts: [{ id: 'od-1' }, { id: 'od-2' }],
    one: 'viewer',
    many: ['viewer', 'editor'],
    ext: 'crm',
    files: [{ name: 'report.pdf', url: 'https://files.example.com/a/report.pdf', expires_at: '2026-11-23T22:00:00.000Z' }],
    rows: [{ what: 'taxi', cost: { value: 30, currency: 'USD' } }],
    tel: { country_code: '+86', number: '13800000000' },
    addr: '上海市',
    doc: { title: 'Plan', url: 'https://x.feishu.cn/docx/doc1' },
  });
});

test('missing and malformed required fields are named; optional ones are omitted; defaults apply', () => {
  const pipeline = load('admin-permission');
  const withDefault: Pipeline = { ...pipeline, fields: { ...pipeline.fields, until: { ...pipeline.fields.until!, default: '2099-12-31' } } };
  const { fields, problems } = mapLarkForm(withDefault, [
    { id: 'w-system', custom_id: 'system', type: 'radioV2', value: 'crm' },
    { id: 'w-roles', custom_id: 'roles', type: 'checkboxV2', value: ['超级管理员'] },
  ], now);
  assert.deepEqual(problems, [
    '"roles" (widget custom id roles) has an option "超级管理员" that the pipeline does not list',
    '"reason" (widget "申请理由") is required but not in the form',
  ]);
  assert.deepEqual(fields, { system: 'crm', until: '2099-12-31' });
});
