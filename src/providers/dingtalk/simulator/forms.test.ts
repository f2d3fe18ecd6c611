import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import type { ImCallOutcome } from '../../im-health.ts';
import { silentObserver } from '../../im-health.ts';
import { ProviderError } from '../../provider.ts';
import { DingTalkApi } from '../api.ts';
import { startDingTalkSimulator, type DingTalkSimulator } from './server.ts';

/** 创建或更新审批表单模板 in the simulator, as https://open.dingtalk.com/document/development/create-an-approval-form-template says. */
describe('the DingTalk simulator creates and updates forms as the documents say', () => {
  let ding: DingTalkSimulator;
  let token: string;
  const calls: string[] = [];
  let api: DingTalkApi;
  const post = async (body: unknown, headers: Record<string, string> = { 'x-acs-dingtalk-access-token': token }) => {
    const res = await fetch(`${ding.url}/v1.0/workflow/forms`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const text = (label: string, componentId?: string) => ({ componentType: 'TextField', props: { label, ...(componentId ? { componentId } : {}) } });

  before(async () => {
    ding = await startDingTalkSimulator({ qpsLimit: 0 });
    api = new DingTalkApi({ appKey: ding.options.appKey, appSecret: ding.options.appSecret, apiBaseUrl: ding.url, observer: { ...silentObserver, call: (name: string, outcome: ImCallOutcome) => calls.push(`${name} ${outcome}`) } });
    token = ((await (await fetch(`${ding.url}/v1.0/oauth2/accessToken`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appKey: ding.options.appKey, appSecret: ding.options.appSecret }) })).json()) as { accessToken: string }).accessToken;
  });
  after(() => ding.close());

  test('create answers {result: {processCode}}; the schema read then shows the controls, option values as strings, choice as an Integer, a table\'s children and the description as memo', async () => {
    const created = await post({
      name: '出差报销审批',
      description: '用于员工差旅费用报销使用',
      formComponents: [
        { componentType: 'TextField', props: { componentId: 'TextField-abcd', label: '文本框', required: true } },
        { componentType: 'DDSelectField', props: { componentId: 'DDSelectField-1', label: '单选', options: [{ key: 'option1', value: '选项1' }, { value: '选项2' }] } },
        { componentType: 'InnerContactField', props: { componentId: 'InnerContactField-1', label: '联系人', choice: '1' } },
        { componentType: 'TableField', props: { componentId: 'TableField-1', label: '明细' }, children: [{ componentType: 'MoneyField', props: { componentId: 'MoneyField-1', label: '金额（元）' } }] },
        // The page's own example: a control with neither componentId nor bizAlias.
        { componentType: 'TextareaField', props: { placeholder: '请输入', label: '多行输入框' } },
      ],
    });
    assert.equal(created.status, 200);
    assert.deepEqual(Object.keys(created.body), ['result']);
    const code = created.body.result.processCode as string;
    assert.match(code, /^PROC-[0-9A-F-]+$/);
    const schema = await fetch(`${ding.url}/v1.0/workflow/forms/schemas/processCodes?processCode=${code}`, { headers: { 'x-acs-dingtalk-access-token': token } }).then((r) => r.json() as Promise<Record<string, any>>);
    assert.equal(schema.result.name, '出差报销审批');
    assert.equal(schema.result.memo, '用于员工差旅费用报销使用');
    const items = schema.result.schemaContent.items as Array<Record<string, any>>;
    assert.deepEqual(items.map((i) => [i.componentName, i.props.label]), [['TextField', '文本框'], ['DDSelectField', '单选'], ['InnerContactField', '联系人'], ['TableField', '明细'], ['TextareaField', '多行输入框']]);
    assert.deepEqual([items[0]!.props.id, items[0]!.props.required, items[4]!.props.required], ['TextField-abcd', true, false]);
    assert.deepEqual(items[1]!.props.options, ['选项1', '选项2']);
    assert.equal(items[2]!.props.choice, 1);
    assert.deepEqual(items[3]!.children.map((c: Record<string, any>) => [c.componentName, c.props.id, c.props.label]), [['MoneyField', 'MoneyField-1', '金额（元）']]);
    assert.match(items[4]!.props.id, /^TextareaField_/, 'an id is assigned');
    // An instance can be started on the new form, by its titles.
    ding.model.addUser('dev-zhang');
    ding.model.start({ processCode: code, originatorUserId: 'dev-zhang', formComponentValues: [{ name: '文本框', value: 'x' }] });
  });

  test('the create page\'s own request example is accepted, and answered in the shape of its answer example', async () => {
    const { request, response } = JSON.parse(readFileSync(new URL('../testdata/create-form.json', import.meta.url), 'utf8')) as { request: Record<string, unknown>; response: { result: Record<string, unknown> } };
    const answer = await post({ ...request, name: '出差报销审批（文档示例）' });
    assert.equal(answer.status, 200, JSON.stringify(answer.body));
    assert.deepEqual(Object.keys(answer.body.result), Object.keys(response.result));
    const stored = ding.model.process(answer.body.result.processCode as string).formComponents;
    assert.deepEqual(stored.map((c) => [c.componentType, c.props.label]), [['TextField', '文本框'], ['TextareaField', '多行输入框'], ['NumberField', '数字输入框'], ['TableField', '表格']]);
    assert.equal(stored[0]!.props.id, 'TextField-abcd');
    assert.deepEqual(stored[3]!.children!.map((c) => c.props.id), ['TextField_1UE1ZY1A28AO0', 'MoneyField_1S85G0', 'NumberField_1XP6A']);
  });

  test('update (processCode given) replaces the form and keeps the flow; an unknown processCode is processcode.error', async () => {
    const code = (await post({ name: '更新测试', formComponents: [text('标题', 'TextField-1')] })).body.result.processCode as string;
    ding.model.process(code).activities.push({ activityId: 'act_1', name: '审批', approvers: ['dt-assistant'] });
    const updated = await post({ processCode: code, name: '更新测试2', formComponents: [text('标题', 'TextField-1'), text('备注', 'TextField-2')] });
    assert.deepEqual(updated.body, { result: { processCode: code } });
    assert.deepEqual(ding.model.process(code).formComponents.map((c) => c.props.label), ['标题', '备注']);
    assert.equal(ding.model.process(code).name, '更新测试2');
    assert.equal(ding.model.process(code).activities.length, 1);
    const unknown = await post({ processCode: 'PROC-NOPE', name: 'x', formComponents: [text('a')] });
    assert.deepEqual([unknown.status, unknown.body.code, unknown.body.message], [400, 'processcode.error', 'processCode对应的审批流程不存在']);
  });

  test('refusals: a name in use (formName.error), string options, unknown components, long titles, a repeated id (formschema.error), no token (401)', async () => {
    await post({ name: '重名', formComponents: [text('a')] });
    const same = await post({ name: '重名', formComponents: [text('a')] });
    assert.deepEqual([same.status, same.body.code, same.body.message], [400, 'formName.error', '已有相同名称表单']);
    const cases: unknown[] = [
      { componentType: 'DDSelectField', props: { label: '单选', options: ['选项1'] } },
      { componentType: 'FancyField', props: { label: 'x' } },
      text('一二三四五六七八九十一二三四五六七八九十一'),
      { componentType: 'DDDateRangeField', props: { label: '时间段' } },
    ];
    for (const c of cases) {
      const refused = await post({ name: `n${Math.random()}`, formComponents: [c] });
      assert.deepEqual([refused.status, refused.body.code], [400, 'formschema.error'], JSON.stringify(c));
    }
    assert.equal((await post({ name: 'dup-id', formComponents: [text('a', 'X'), text('b', 'X')] })).body.code, 'formschema.error');
    assert.equal((await post({ name: 'empty', formComponents: [] })).body.code, 'formschema.error');
    assert.deepEqual((await post({ name: 'no token', formComponents: [text('a')] }, {})).status, 401);
  });

  test('a control made a branch condition can be neither retyped nor removed (formschema.error)', async () => {
    const code = (await post({ name: '条件', formComponents: [text('金额', 'TextField-amount'), text('说明', 'TextField-note')] })).body.result.processCode as string;
    ding.model.process(code).conditionComponents = ['TextField-amount'];
    const retyped = await post({ processCode: code, name: '条件', formComponents: [{ componentType: 'NumberField', props: { componentId: 'TextField-amount', label: '金额' } }, text('说明', 'TextField-note')] });
    assert.deepEqual([retyped.body.code, retyped.body.message], ['formschema.error', '流程条件分支中已使用的表单控件不可修改或删除']);
    assert.equal((await post({ processCode: code, name: '条件', formComponents: [text('说明', 'TextField-note')] })).body.code, 'formschema.error');
    assert.equal((await post({ processCode: code, name: '条件', formComponents: [text('金额', 'TextField-amount')] })).status, 200, 'removing another control is allowed');
  });

  test('DingTalkApi.saveForm and form(): counted like every call; a refusal is a ProviderError with the page\'s code', async () => {
    calls.length = 0;
    const code = await api.saveForm({ name: '客户端', description: '说明', formComponents: [{ componentType: 'TextField', props: { componentId: 'TextField_A', label: '标题', required: true } }] });
    const form = await api.form(code);
    assert.deepEqual({ name: form.name, description: form.description, labels: form.items.map((i) => i.props.label) }, { name: '客户端', description: '说明', labels: ['标题'] });
    await assert.rejects(api.saveForm({ name: '客户端', formComponents: [{ componentType: 'TextField', props: { componentId: 'TextField_A', label: '标题' } }] }), (e: unknown) => e instanceof ProviderError && e.code === 'formName.error' && !e.transient);
    assert.deepEqual(calls, ['v1.0/oauth2/accessToken ok', 'v1.0/workflow/forms ok', 'v1.0/workflow/forms/schemas/processCodes GET ok', 'v1.0/workflow/forms error']);
  });
});
