import { dingTalkEnv } from '../testing/dingtalk.ts';
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { definitionForPipeline } from '../providers/lark/simulator/from-pipeline.ts';
import { startDingTalkSimulator, type DingTalkSimulator } from '../providers/dingtalk/simulator/server.ts';
import { getTicketByInstance } from '../store/sql/get-ticket-by-instance.ts';
import { FakeBusiness } from '../testing/business.ts';
import { until } from '../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../testing/runtime.ts';
import { checkPipelines } from '../pipeline/check.ts';
import type { Pipeline } from '../pipeline/pipeline.generated.ts';
import { signRequestV11 } from '../business/signature.ts';
import { startWeComSimulator, type WeComSimulator } from '../providers/wecom/simulator/server.ts';
import { WeComApi, type WeComControl } from '../providers/wecom/api.ts';
import { weComInstance } from '../providers/wecom/provider.ts';
import { getTicket } from '../store/sql/get-ticket.ts';
import { weComEnv } from '../testing/wecom.ts';

const fields = (w: (label: string, id: string) => string) => `fields:
  title: { widget: ${w('标题', 'title')}, type: text }
  rows: { widget: ${w('影响行数', 'rows')}, type: number }
  cost: { widget: ${w('费用', 'cost')}, type: amount }
  day: { widget: ${w('执行日期', 'day')}, type: date }
  window: { widget: ${w('时间窗口', 'window')}, type: date_range }
  env: { widget: ${w('环境', 'env')}, type: option, options: [{ label: 生产, id: prod }, { label: 测试, id: test }] }
  roles: { widget: ${w('权限', 'roles')}, type: options, options: [{ label: 只读, id: viewer }, { label: 编辑, id: editor }] }
  owner: { widget: ${w('负责人', 'owner')}, type: person }
`;
const pipeline = (name: string, provider: string, node: (n: string) => string, w: (label: string, id: string) => string) => `apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: ${name}, version: 1, owner: t }
provider: ${provider}
secret_env: TICKETFLOW_SECRET_ADMIN_PERMISSION
stages:
  check: { node: ${node('check')}, endpoint: BUSINESS/check, mode: sync }
  execute: { node: ${node('execute')}, endpoint: BUSINESS/execute, mode: sync }
${fields(w)}`;

let stack: TestStack;
let business: FakeBusiness;
let ding: DingTalkSimulator;
let wecom: WeComSimulator;
const larkText = pipeline('contract-lark', '{ type: lark, approval_code: CONTRACT-LARK }', (n) => `{ custom_id: ${n}_node }`, (_l, id) => `{ custom_id: ${id} }`);
const dingText = pipeline('contract-ding', '{ type: dingtalk, process_code: CONTRACT-DING }', (n) => `{ activity_id: act_${n} }`, (label) => `{ label: ${label} }`);
// WeCom has no API to approve a task: the same shape as origin: api (no nodes, a notify URL), controls by title.
const weComText = pipeline('contract-wecom', '{ type: wecom, template_id: CONTRACT-WECOM }\norigin: api\nnotify_url: BUSINESS/notify', () => '', (label) => `{ label: ${label} }`).replaceAll('{ node: , ', '{ ');
const zh = (text: string) => [{ text, lang: 'zh_CN' }];
const weComControl = (control: string, n: number, label: string, config?: WeComControl['config']): WeComControl => ({ property: { control, id: `${control}-15695737608${n}`, title: zh(label), require: 0, un_print: 0 }, ...(config ? { config } : {}) });

before(async () => {
  business = await new FakeBusiness(testSecret).start();
  // The WeCom ticket's check passes (its instance is created after it) and its execute stops it.
  business.reply = (c) => (c.path === '/notify' ? { status: 200 } : { status: 200, body: { ticket_id: c.body.ticket_id, result: (c.body.pipeline as { name: string }).name === 'contract-wecom' && c.body.stage === 'check', error: 'contract test stops here' } });
  ding = await startDingTalkSimulator();
  wecom = await startWeComSimulator();
  wecom.model.addUser('u-zhang', 'u-wang');
  wecom.model.defineTemplate({
    templateId: 'CONTRACT-WECOM',
    name: '契约',
    controls: [
      weComControl('Text', 1, '标题'),
      weComControl('Number', 2, '影响行数'),
      weComControl('Money', 3, '费用'),
      weComControl('Date', 4, '执行日期', { date: { type: 'day' } }),
      weComControl('DateRange', 5, '时间窗口'),
      weComControl('Selector', 6, '环境', { selector: { type: 'single', options: [{ key: 'option-prod', value: zh('生产') }, { key: 'option-test', value: zh('测试') }] } }),
      weComControl('Selector', 7, '权限', { selector: { type: 'multi', options: [{ key: 'option-viewer', value: zh('只读') }, { key: 'option-editor', value: zh('编辑') }] } }),
      weComControl('Contact', 8, '负责人', { contact: { type: 'single', mode: 'user' } }),
    ],
    nodes: [{ attr: 1, approvers: ['u-lead'] }],
  });
  ding.model.defineProcess({
    processCode: 'CONTRACT-DING',
    name: '契约',
    formComponents: ['标题', '影响行数', '费用', '执行日期', '时间窗口', '环境', '权限', '负责人'].map((label, i) => ({ componentType: 'TextField', props: { id: `c${i}`, label } })),
    activities: [
      { activityId: 'act_check', name: 'check', approvers: ['dt-assistant'] },
      { activityId: 'act_execute', name: 'execute', approvers: ['dt-assistant'] },
    ],
  });
  stack = await startStack({
    business: business.url,
    extra: { 'contract-lark.yaml': larkText, 'contract-ding.yaml': dingText, 'contract-wecom.yaml': weComText },
    env: { ...dingTalkEnv(ding), ...weComEnv(wecom) },
  });
  ding.setCallbackUrl(`${stack.runtime.url}/api/v1/dingtalk/callback`);
  wecom.setCallbackUrl(`${stack.runtime.url}/api/v1/wecom/callback`);
  const [lark] = checkPipelines([{ path: 'contract-lark.yaml', text: larkText.replaceAll('BUSINESS', business.url) }]).files;
  stack.lark.model.defineApproval(definitionForPipeline(lark!.pipeline!, 'assistant'));
});
after(async () => {
  await stack.close();
  await ding.close();
  await wecom.close();
  await business.close();
});

test('one business service receives the same fields from a Lark ticket and a DingTalk ticket of the same shape', async () => {
  const larkCode = stack.lark.model.createInstance({
    approval_code: 'CONTRACT-LARK',
    user_id: 'u-zhang',
    form: JSON.stringify([
      { id: 'title', value: '迁移订单表' },
      { id: 'rows', value: 1200 },
      { id: 'cost', value: 88.5 },
      { id: 'day', value: '2026-12-31T00:00:00+08:00' },
      { id: 'window', value: { start: '2026-12-01T00:00:00+08:00', end: '2026-12-03T00:00:00+08:00', interval: 2 } },
      { id: 'env', value: 'prod' },
      { id: 'roles', value: ['viewer', 'editor'] },
      { id: 'owner', value: ['u-wang'] },
    ]),
  }).instance_code;
  const dingId = ding.model.start({
    processCode: 'CONTRACT-DING',
    originatorUserId: 'u-zhang',
    formComponentValues: [
      { name: '标题', value: '迁移订单表' },
      { name: '影响行数', value: '1200' },
      { name: '费用', value: '88.5' },
      { name: '执行日期', value: '2026-12-31' },
      { name: '时间窗口', value: '["2026-12-01","2026-12-03"]' },
      { name: '环境', value: '生产' },
      { name: '权限', value: '["只读","编辑"]' },
      { name: '负责人', value: '[{"name":"王","emplId":"u-wang"}]' },
    ],
  }).processInstanceId;
  const larkTicket = await until('lark ticket checked', async () => ((await getTicketByInstance(stack.runtime.pool, 'lark', larkCode))?.state === 'rejected_by_check' ? getTicketByInstance(stack.runtime.pool, 'lark', larkCode) : undefined));
  const dingTicket = await until('dingtalk ticket checked', async () => ((await getTicketByInstance(stack.runtime.pool, 'dingtalk', dingId))?.state === 'rejected_by_check' ? getTicketByInstance(stack.runtime.pool, 'dingtalk', dingId) : undefined));
  const fromLark = business.callsFor('check', larkTicket!.id)[0]!.body.fields;
  const fromDing = business.callsFor('check', dingTicket!.id)[0]!.body.fields;
  const { owner: larkOwner, ...larkRest } = fromLark as Record<string, unknown>;
  const { owner: dingOwner, ...dingRest } = fromDing as Record<string, unknown>;
  assert.deepEqual(dingRest, larkRest);
  assert.deepEqual(larkRest, { title: '迁移订单表', rows: 1200, cost: { value: 88.5, currency: 'CNY' }, day: '2026-12-31', window: { start: '2026-12-01', end: '2026-12-03' }, env: 'prod', roles: ['viewer', 'editor'] });
  assert.deepEqual(dingOwner, { user_id: 'u-wang' });
  assert.equal((larkOwner as { user_id: string }).user_id, 'u-wang');
  assert.match((larkOwner as { open_id: string }).open_id, /^ou_/, 'Lark adds its open_id; the shape is the same');
});

test('the third column: a WeCom ticket of the same shape (born in the business system) gives the business the same fields, and WeCom\'s form reads back as them', async () => {
  const fields = { title: '迁移订单表', rows: 1200, cost: { value: 88.5, currency: 'CNY' }, day: '2026-12-31', window: { start: '2026-12-01', end: '2026-12-03' }, env: 'prod', roles: ['viewer', 'editor'], owner: { user_id: 'u-wang' } };
  const raw = JSON.stringify({ fields, originator: { user_id: 'u-zhang' } });
  const path = '/api/v1/pipelines/contract-wecom/tickets';
  const res = await fetch(`${stack.runtime.url}${path}`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', 'idempotency-key': 'contract-1', ...signRequestV11(testSecret, { method: 'POST', path, idempotencyKey: 'contract-1', rawBody: raw }) } });
  const { ticket_id: id } = (await res.json()) as { ticket_id: string };
  assert.equal(res.status, 201);
  const spNo = await until('the WeCom request', async () => {
    const code = (await getTicket(stack.runtime.pool, id))?.instanceCode;
    return code && !code.startsWith('pending:') ? code : undefined;
  });
  wecom.model.approve(spNo, 'u-lead');
  await until('executed', () => business.callsFor('execute', id).length > 0);
  assert.deepEqual(business.callsFor('check', id)[0]!.body.fields, fields);
  assert.deepEqual(business.callsFor('execute', id)[0]!.body.fields, fields);
  // What WeCom holds, read back through the provider's mapping, is what the Lark and DingTalk columns gave.
  const [f] = checkPipelines([{ path: 'contract-wecom.yaml', text: weComText.replaceAll('BUSINESS', business.url) }]).files;
  const api = new WeComApi({ corpId: wecom.options.corpId, appSecret: wecom.options.appSecret, baseUrl: wecom.url });
  const read = weComInstance(await api.approvalDetail(spNo), 'CONTRACT-WECOM').mapFields(f!.pipeline as Pipeline, new Date());
  assert.deepEqual(read, { fields, problems: [] });
});
