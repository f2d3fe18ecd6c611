import assert from 'node:assert/strict';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { finalStates } from '../engine/ticket.ts';
import { checkPipelines } from '../pipeline/check.ts';
import { collectPipelineFiles, readSources } from '../pipeline/files.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { mapLarkForm, type LarkWidget } from '../providers/lark/form.ts';
import { definitionForPipeline } from '../providers/lark/simulator/from-pipeline.ts';
import { LarkModel } from '../providers/lark/simulator/model.ts';
import { repoRoot } from '../testing/cli.ts';
import { playgroundControls, playgroundCreateForm } from './playground-form.ts';
import { watchPage, type WatchView } from './playground-pages.ts';

describe('the Playground form of a pipeline', () => {
  const pipelines = new Map<string, Pipeline>();
  before(async () => {
    const { files } = checkPipelines(await readSources(await collectPipelineFiles([join(repoRoot, 'pipelines')])));
    for (const f of files) if (f.pipeline) pipelines.set(f.pipeline.metadata.name, f.pipeline);
  });

  /** Creates the instance in a simulator that has the sandbox's definition, and maps it back as the runtime does. */
  function roundTrip(p: Pipeline, values: Record<string, unknown>) {
    const { form, problems } = playgroundCreateForm(p, values);
    assert.deepEqual(problems, []);
    const model = new LarkModel(() => undefined);
    model.defineApproval(definitionForPipeline(p, 'assistant'));
    const instance = model.createInstance({ approval_code: p.provider.approval_code!, user_id: 'alice', form: JSON.stringify(form) });
    return mapLarkForm(p, JSON.parse(instance.form) as LarkWidget[], new Date('2026-05-01T00:00:00Z'));
  }

  test('has one control per field, with its widget label, its type, its options with their labels, and whether it is required', () => {
    const controls = playgroundControls(pipelines.get('admin-permission')!, { system: [{ id: 'crm', label: 'CRM' }] });
    assert.deepEqual(
      controls.map((c) => [c.name, c.label, c.type, c.required]),
      [
        ['system', 'system', 'option', true],
        ['roles', 'roles', 'options', true],
        ['until', 'until', 'date', false],
        ['reason', '申请理由', 'textarea', true],
      ],
    );
    assert.deepEqual(controls[1]!.options, [
      { id: 'viewer', label: '只读', label_en: 'Viewer' },
      { id: 'editor', label: '编辑', label_en: 'Editor' },
      { id: 'admin', label: '管理员', label_en: 'Administrator' },
    ]);
    assert.equal(controls[0]!.external, true, 'options from the options source');
    assert.deepEqual(controls[0]!.options, [{ id: 'crm', label: 'CRM' }]);
    assert.equal(controls[1]!.description, 'Roles requested in that system.');
    const expense = playgroundControls(pipelines.get('travel-expense')!);
    const lines = expense.find((c) => c.name === 'lines')!;
    assert.deepEqual(lines.columns!.map((c) => [c.name, c.type, c.required]), [['category', 'option', true], ['amount', 'amount', true], ['note', 'text', false]]);
    assert.equal(expense.find((c) => c.name === 'total')!.currency, 'CNY');
  });

  test('admin-permission: the values the simulator takes, read back by the runtime as the typed fields', () => {
    const mapped = roundTrip(pipelines.get('admin-permission')!, { system: 'crm', roles: ['editor', 'admin'], until: '2026-12-31', reason: 'on call' });
    assert.deepEqual(mapped, { fields: { system: 'crm', roles: ['editor', 'admin'], until: '2026-12-31', reason: 'on call' }, problems: [] });
  });

  test('sql-change: a date-time, people and a static option', () => {
    const mapped = roundTrip(pipelines.get('sql-change')!, { instance: 'db-prod-1', database: 'orders', change_type: 'ddl', sql: 'ALTER TABLE t ADD c int;', run_after: '2026-06-01T22:30', reviewers: 'bob, carol', reason: 'new column' });
    assert.deepEqual(mapped.problems, []);
    assert.equal(mapped.fields.change_type, 'ddl');
    assert.equal(mapped.fields.run_after, '2026-06-01T22:30:00+08:00');
    assert.deepEqual((mapped.fields.reviewers as Array<{ user_id: string }>).map((p) => p.user_id), ['bob', 'carol']);
  });

  test('travel-expense: a date range, a department, an amount, a table, attachments and a phone', () => {
    const mapped = roundTrip(pipelines.get('travel-expense')!, {
      trip: { start: '2026-04-01', end: '2026-04-03' },
      cost_center: 'od-finance',
      total: '1280.5',
      lines: [{ category: 'lodging', amount: '880.5', note: 'hotel' }, { category: '', amount: '', note: '' }, { category: 'transport', amount: '400' }],
      receipts: 'https://files.example.com/r/hotel.pdf\nhttps://files.example.com/r/train.pdf',
      contact_phone: '+86 138 0013 8000',
    });
    assert.deepEqual(mapped.problems, []);
    assert.deepEqual(mapped.fields.trip, { start: '2026-04-01', end: '2026-04-03' });
    assert.deepEqual(mapped.fields.cost_center, { id: 'od-finance' });
    assert.deepEqual(mapped.fields.total, { value: 1280.5, currency: 'CNY' });
    assert.deepEqual(mapped.fields.lines, [
      { category: 'lodging', amount: { value: 880.5, currency: 'CNY' }, note: 'hotel' },
      { category: 'transport', amount: { value: 400, currency: 'CNY' } },
    ]);
    assert.deepEqual((mapped.fields.receipts as Array<{ name: string }>).map((r) => r.name), ['hotel.pdf', 'train.pdf']);
    assert.deepEqual(mapped.fields.contact_phone, { country_code: '+86', number: '13800138000' });
  });

  test('names every missing required field and every malformed value, and sends nothing the pipeline does not list', () => {
    const { form, problems } = playgroundCreateForm(pipelines.get('admin-permission')!, { system: 'crm', roles: ['superuser'], until: '2026-02-30', smuggled: 'x' });
    assert.deepEqual(problems, [
      { field: 'roles', problem: 'option' },
      { field: 'until', problem: 'date' },
      { field: 'reason', problem: 'required' },
    ]);
    assert.deepEqual(form.map((w) => w.id), ['widget_system']);
    const table = playgroundCreateForm(pipelines.get('travel-expense')!, { lines: [{ note: 'taxi' }] }).problems.filter((p) => p.field === 'lines');
    assert.deepEqual(table, [
      { field: 'lines', problem: 'required', row: 1, column: 'category' },
      { field: 'lines', problem: 'required', row: 1, column: 'amount' },
    ]);
  });
});

describe('the Playground page of a ticket that has ended', () => {
  /** The watch page of a ticket that went from in_approval to `state`, in `lang`. */
  const page = (state: string, lang: 'zh' | 'en') => {
    const at = new Date('2026-05-01T00:00:00Z');
    const audit = [
      { at, actor: 'runtime', event: 'opened', from_state: null, to_state: 'checking', detail: null },
      { at, actor: 'business', event: 'business_result', from_state: 'checking', to_state: 'in_approval', detail: null },
      { at, actor: 'runtime', event: 'ended', from_state: 'in_approval', to_state: state, detail: null },
    ];
    const view: WatchView = {
      pipeline: 'admin-permission',
      stages: ['check', 'execute'],
      instance: { approval_code: 'CODE', instance_code: 'inst-1', user_id: 'alice', status: 'PENDING', task_list: [] },
      assistant: 'assistant',
      ticket: { id: 'tk_1', state, stage: null, fields: {}, field_problems: [] },
      audit,
      calls: [],
      done: true,
    };
    const html = watchPage({ lang, sandbox: true, path: '/playground/instances/inst-1' }, view);
    return [...html.matchAll(/<li class="pg-step (\w+)" data-step="(\w+)">([^<]*)</g)].map((m) => `${m[3]}:${m[1]}`);
  };

  test('an expired or a canceled ticket shows its last step ended with the state\'s name, where it stopped as ended too', () => {
    assert.deepEqual(page('expired', 'en'), ['Check:done', 'Approval:ended', 'Execute:todo', 'Expired:ended']);
    assert.deepEqual(page('canceled', 'en'), ['Check:done', 'Approval:ended', 'Execute:todo', 'Canceled:ended']);
    assert.deepEqual(page('expired', 'zh'), ['检查:done', '审批:ended', '执行:todo', '已过期:ended']);
    assert.deepEqual(page('canceled', 'zh'), ['检查:done', '审批:ended', '执行:todo', '已撤销:ended']);
  });

  test('every final state names itself on the last step; a rejection fails, a completion is done', () => {
    assert.deepEqual(page('rejected_by_approver', 'en'), ['Check:done', 'Approval:failed', 'Execute:todo', 'Rejected by an approver:failed']);
    assert.deepEqual(page('rejected_by_operator', 'zh').at(-1), '操作员驳回:failed');
    for (const state of finalStates) assert.notEqual(page(state, 'en').at(-1)!.split(':')[1], 'todo', state);
  });
});
