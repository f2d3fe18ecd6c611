import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signRequestV11 } from '../../business/signature.ts';
import { checkPipelines } from '../../pipeline/check.ts';
import { getTicket } from '../../store/sql/get-ticket.ts';
import { FakeBusiness } from '../../testing/business.ts';
import { dingTalkEnv } from '../../testing/dingtalk.ts';
import { until } from '../../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../../testing/runtime.ts';
import { DingTalkApi } from './api.ts';
import { dingTalkProvider } from './provider.ts';
import { startDingTalkSimulator, type DingTalkSimulator } from './simulator/server.ts';

const text = `apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: clouddm-api, version: 1, owner: dba }
provider: { type: dingtalk, process_code: PROC-API }
origin: api
notify_url: BUSINESS/notify
secret_env: TICKETFLOW_SECRET_ADMIN_PERMISSION
stages:
  check: { endpoint: BUSINESS/check, mode: sync }
  execute: { endpoint: BUSINESS/execute, mode: sync }
fields:
  title: { widget: { label: 工单标题 }, type: text }
  sql: { widget: { label: SQL内容 }, type: textarea }
  kind: { widget: { label: 工单类型 }, type: option, options: [{ label: 数据变更, id: dml }, { label: 权限申请, id: grant }] }
`;

describe('tickets born in a business system, on DingTalk', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  let ding: DingTalkSimulator;
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    business.reply = (c) => (c.path === '/notify' ? { status: 200 } : { status: 200, body: { ticket_id: c.body.ticket_id, result: true, msg: `${c.body.stage} ok` } });
    ding = await startDingTalkSimulator();
    ding.model.defineProcess({
      processCode: 'PROC-API',
      name: '数据变更工单',
      formComponents: ['工单类型', '工单标题', 'SQL内容'].map((label, i) => ({ componentType: 'TextField', props: { id: `f${i}`, label, required: true } })),
      activities: [{ activityId: 'act_dba', name: 'DBA', approvers: ['dba-li'] }],
    });
    ding.model.addUser({ userid: 'dev-zhang', mobile: '13900000002', deptIds: [4] }, 'dev-li', 'dev-wang');
    stack = await startStack({ business: business.url, extra: { 'clouddm-api.yaml': text }, env: dingTalkEnv(ding) });
    ding.setCallbackUrl(`${stack.runtime.url}/api/v1/dingtalk/callback`);
  });
  after(async () => {
    await stack.close();
    await ding.close();
    await business.close();
  });

  test('created with the exact control titles, approved, executed, notified; the originator found by mobile', async () => {
    const raw = JSON.stringify({ fields: { title: 'fix order 7', sql: 'UPDATE o SET s = 1 WHERE id = 7;', kind: 'dml' }, originator: { mobile: '13900000002' } });
    const path = '/api/v1/pipelines/clouddm-api/tickets';
    const res = await fetch(`${stack.runtime.url}${path}`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', 'idempotency-key': 'd-1', ...signRequestV11(testSecret, { method: 'POST', path, idempotencyKey: 'd-1', rawBody: raw }) } });
    const body = (await res.json()) as { ticket_id: string; state: string };
    assert.equal(res.status, 201, JSON.stringify(body));
    const ticket = await until('the DingTalk instance', async () => ((await getTicket(stack.runtime.pool, body.ticket_id))!.instanceCode.startsWith('pending:') ? undefined : getTicket(stack.runtime.pool, body.ticket_id)));
    const instance = ding.model.instance(ticket!.instanceCode);
    assert.equal(instance.originatorUserId, 'dev-zhang');
    assert.deepEqual(instance.formComponentValues.map((v) => [v.name, v.value]), [['工单类型', '数据变更'], ['工单标题', 'fix order 7'], ['SQL内容', 'UPDATE o SET s = 1 WHERE id = 7;']]);
    const task = instance.tasks.find((t) => t.status === 'RUNNING')!;
    ding.model.execute({ processInstanceId: instance.processInstanceId, taskId: task.taskId, actionerUserId: 'dba-li', result: 'agree' });
    const notify = await until('notified', () => business.calls.find((c) => c.path === '/notify' && c.body.ticket_id === body.ticket_id));
    assert.equal(notify.body.state, 'completed');
    assert.deepEqual(business.callsFor('execute', body.ticket_id)[0]!.body.fields, { title: 'fix order 7', sql: 'UPDATE o SET s = 1 WHERE id = 7;', kind: 'dml' });
  });

  const post = async (body: unknown, key: string, secret = testSecret) => {
    const raw = JSON.stringify(body);
    const path = '/api/v1/pipelines/clouddm-api/tickets';
    const res = await fetch(`${stack.runtime.url}${path}`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', 'idempotency-key': key, ...(secret ? signRequestV11(secret, { method: 'POST', path, idempotencyKey: key, rawBody: raw }) : {}) } });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const request = { fields: { title: 't', sql: 'DELETE FROM o;', kind: 'dml' }, originator: { user_id: 'dev-li' } };

  test('a check rejection answers 422 and creates nothing in DingTalk; one Idempotency-Key makes one instance; unsigned 401', async () => {
    business.reply = (c) => (c.body.stage === 'check' && (c.body.fields as { sql: string }).sql.startsWith('DELETE') ? { status: 200, body: { ticket_id: c.body.ticket_id, result: false, error: 'DELETE without WHERE' } } : { status: 200, body: { ticket_id: c.body.ticket_id, result: true } });
    const before = ding.model.instances.size;
    const rejected = await post(request, 'd-rej');
    assert.equal(rejected.status, 422);
    assert.deepEqual(rejected.body.error, { code: 'check_failed', message: 'DELETE without WHERE' });
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(ding.model.instances.size, before);

    const ok = { ...request, fields: { ...request.fields, sql: 'UPDATE o SET a = 1 WHERE id = 1;' } };
    const first = await post(ok, 'd-idem');
    const again = await post(ok, 'd-idem');
    assert.deepEqual([first.status, again.status], [201, 200]);
    await until('linked', async () => !(await getTicket(stack.runtime.pool, String(first.body.ticket_id)))!.instanceCode.startsWith('pending:'));
    assert.equal([...ding.model.instances.values()].filter((i) => i.originatorUserId === 'dev-li').length, 1);
    assert.equal((await post({ ...ok, fields: { ...ok.fields, title: 'other' } }, 'd-idem')).status, 409);
    assert.equal((await post(ok, 'd-unsigned', '')).status, 401);
  });

  test('a crash between DingTalk\'s create and our commit: the retry adopts the instance instead of creating a second', async () => {
    const [f] = checkPipelines([{ path: 'clouddm-api.yaml', text: text.replaceAll('BUSINESS', business.url) }]).files;
    const provider = dingTalkProvider(new DingTalkApi({ appKey: ding.options.appKey, appSecret: ding.options.appSecret, apiBaseUrl: ding.url, oapiBaseUrl: ding.url }), 'dt-assistant');
    const ticket = { id: 'tk_crash', fields: { title: 'crash', sql: 'SELECT 1;', kind: 'grant' }, originator: 'dev-wang', openedAt: new Date() };
    const first = await provider.createInstance!(f!.pipeline!, ticket); // the process died before committing this
    const retry = await provider.createInstance!(f!.pipeline!, ticket);
    assert.equal(retry.instanceCode, first.instanceCode);
    assert.equal([...ding.model.instances.values()].filter((i) => i.originatorUserId === 'dev-wang').length, 1);
    const other = await provider.createInstance!(f!.pipeline!, { ...ticket, id: 'tk_other', fields: { ...ticket.fields, sql: 'SELECT 2;' } });
    assert.notEqual(other.instanceCode, first.instanceCode, 'a different form is a different instance');
  });

  test('two tickets with the same form from the same originator get an instance each: one linked to another ticket is never adopted', async () => {
    const twin = { fields: { title: 'same twice', sql: 'UPDATE o SET a = 2 WHERE id = 2;', kind: 'dml' }, originator: { user_id: 'dev-zhang' } };
    const linked = (id: unknown) => until('linked', async () => {
      const t = await getTicket(stack.runtime.pool, String(id));
      return t && !t.instanceCode.startsWith('pending:') ? t : undefined;
    });
    const a = await linked((await post(twin, 'd-twin-a')).body.ticket_id);
    const b = await post(twin, 'd-twin-b');
    assert.equal(b.status, 201, JSON.stringify(b.body));
    assert.notEqual((await linked(b.body.ticket_id))!.instanceCode, a!.instanceCode);
  });
});
