import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { signRequestV11 } from '../business/signature.ts';
import { startDingTalkSimulator, type DingTalkSimulator } from '../providers/dingtalk/simulator/server.ts';
import { cloudDmDataChangeProcess, cloudDmPermissionProcess, dingTalkEnv } from '../testing/dingtalk.ts';
import { until } from '../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../testing/runtime.ts';
import { cloudDmClient, sampleDataChange, samplePermission, startNotifyReceiver, type CloudDmClient, type NotifyReceiver } from './clouddm-client.ts';
import { startExampleService, type ExampleService } from './example-service.ts';

/** CloudDM's guide, 表单设计, word for word: the data change form's twelve control titles and the permission form's nine. */
const GUIDE_DATA_CHANGE = ['工单类型', '工单标题', '备注信息', '关联实例', '关联实例信息', '实例类型', '关联库', '预计影响行数', '分析的SQL数量', '分析的SQL结果汇总', 'SQL内容', '审批意见'];
const GUIDE_PERMISSION = ['工单类型', '工单标题', '备注信息', '关联实例', '关联实例信息', '实例类型', '关联库', '申请的权限', '审批意见'];

const MOBILE = '13800000001';
const secrets = { TICKETFLOW_SECRET_CLOUDDM_DATA_CHANGE: testSecret, TICKETFLOW_SECRET_CLOUDDM_PERMISSION: 'p'.repeat(40) };
const clientSecrets = { 'clouddm-data-change': secrets.TICKETFLOW_SECRET_CLOUDDM_DATA_CHANGE, 'clouddm-permission': secrets.TICKETFLOW_SECRET_CLOUDDM_PERMISSION };

/**
 * The CloudDM examples end to end on the DingTalk simulator, as CloudDM's guide runs them: the example client
 * (CloudDM) creates tickets for a mobile number, the example business service answers check and execute, DBAs
 * decide in DingTalk, and the client receives the signed notify.
 */
describe('CloudDM on DingTalk: the example client creates tickets by mobile number and hears how they ended', () => {
  let ding: DingTalkSimulator;
  let service: ExampleService;
  let receiver: NotifyReceiver;
  let stack: TestStack;
  let client: CloudDmClient;
  const said: Array<{ line: string; at: number }> = [];
  before(async () => {
    ding = await startDingTalkSimulator({ retryDelaysMs: [100, 200, 400, 800] });
    ding.model.defineProcess(cloudDmDataChangeProcess());
    ding.model.defineProcess(cloudDmPermissionProcess());
    ding.model.addUser({ userid: 'dev-zhang', mobile: MOBILE, deptIds: [4] }, 'dba-li', 'dba-wang', 'dt-assistant');
    service = await startExampleService({ secret: (name) => secrets[name as keyof typeof secrets] ?? testSecret, callbackDelayMs: 10, say: (line) => said.push({ line, at: Date.now() }) });
    receiver = await startNotifyReceiver({ secrets: clientSecrets });
    stack = await startStack({
      business: service.url,
      // The notify goes to CloudDM's receiver, the stage calls to its service (both at https://clouddm.example.com).
      edit: (_name, text) => text.replace(/^notify_url: http:\/\/[^/\s]+/m, `notify_url: ${receiver.url}`),
      env: { ...dingTalkEnv(ding), ...secrets },
    });
    ding.setCallbackUrl(`${stack.runtime.url}/api/v1/dingtalk/callback`);
    client = cloudDmClient({ ticketflowUrl: stack.runtime.url, secrets: clientSecrets });
  });
  after(async () => {
    await stack?.close();
    await receiver?.close();
    await service?.close();
    await ding?.close();
  });

  const creates = () => ding.calls.filter((c) => c.method === 'POST' && c.path === '/v1.0/workflow/processInstances');
  const instanceOf = async (pipeline: 'clouddm-data-change' | 'clouddm-permission', ticketId: string) => {
    const code = await until('the DingTalk instance', async () => (await client.read(pipeline, ticketId)).instance_code);
    return ding.model.instance(code);
  };
  const decide = (instanceId: string, result: 'agree' | 'refuse') => {
    const task = ding.model.instance(instanceId).tasks.find((t) => t.status === 'RUNNING' && t.userId.startsWith('dba'))!;
    ding.model.execute({ processInstanceId: instanceId, taskId: task.taskId, actionerUserId: task.userId, result });
  };

  test('a data change: mobile → userid, the check before the instance, the twelve controls titled as the guide, approved, executed, notified completed', async () => {
    const body = sampleDataChange(MOBILE);
    const answer = await client.create('clouddm-data-change', 'cdm-change-1', body);
    assert.ok(answer.ok, JSON.stringify(answer));
    assert.equal(answer.status, 201);
    assert.equal(answer.ticket.state, 'in_approval');
    assert.equal(answer.ticket.results.check?.msg, 'Analysed 1 statement(s) on db-prod-1/orders: nothing flagged.', 'the check answered before the create did');
    const instance = await instanceOf('clouddm-data-change', answer.ticket.ticket_id);
    const again = await client.create('clouddm-data-change', 'cdm-change-1', body);
    assert.deepEqual(again.ok && [again.status, again.ticket.ticket_id], [200, answer.ticket.ticket_id], 'the same key and body: the same ticket');

    // The originator was found by mobile number (通讯录手机号获取userid), and the instance is theirs.
    assert.ok(ding.calls.some((c) => c.path === '/topapi/v2/user/getbymobile' && (c.body as { mobile?: string }).mobile === MOBILE));
    assert.equal(instance.originatorUserId, 'dev-zhang');
    // The check ran before DingTalk was asked to create anything.
    const checked = said.find((s) => s.line.startsWith(`clouddm-data-change check of ${answer.ticket.ticket_id} → ok`))!;
    assert.equal(creates().length, 1, 'one instance');
    const created = creates()[0]!;
    assert.ok(checked && created && checked.at <= created.at, 'check, then create');
    // The create names the guide's controls by their exact titles: every one but 审批意见, the approvers'.
    const sent = (created.body as { formComponentValues: Array<{ name: string; value: string }> }).formComponentValues;
    assert.deepEqual(sent.map((v) => v.name), GUIDE_DATA_CHANGE.filter((t) => t !== '审批意见'));
    assert.deepEqual(instance.formComponentValues.map((v) => v.name), GUIDE_DATA_CHANGE);
    assert.deepEqual(Object.fromEntries(instance.formComponentValues.map((v) => [v.name, v.value])), {
      工单类型: '数据变更',
      工单标题: 'Close stuck orders',
      备注信息: '关闭 2025 年前未完成的订单',
      关联实例: 'db-prod-1',
      关联实例信息: '订单主库',
      实例类型: 'MySQL',
      关联库: 'orders',
      预计影响行数: '42',
      分析的SQL数量: '0',
      分析的SQL结果汇总: '分析 1 条 SQL：未发现问题',
      SQL内容: "UPDATE orders SET status = 'closed' WHERE created_at < '2025-01-01';",
      审批意见: '',
    });

    decide(instance.processInstanceId, 'agree');
    const notify = await receiver.outcome(answer.ticket.ticket_id, 20_000);
    assert.deepEqual({ ...notify }, { ticket_id: answer.ticket.ticket_id, pipeline: 'clouddm-data-change', state: 'completed', result: true, msg: 'Executed 1 statement(s) on db-prod-1/orders.', error: null });
    assert.equal((await client.read('clouddm-data-change', answer.ticket.ticket_id)).state, 'completed');
    assert.equal(ding.model.instance(instance.processInstanceId).result, 'agree');
  });

  test('a permission request: the nine controls titled as the guide, approved, granted, notified completed (signed with its own secret)', async () => {
    const answer = await client.create('clouddm-permission', 'cdm-perm-1', samplePermission(MOBILE));
    assert.ok(answer.ok && answer.status === 201, JSON.stringify(answer));
    const instance = await instanceOf('clouddm-permission', answer.ticket.ticket_id);
    assert.equal(instance.processCode, 'PROC-CLOUDDM-PERMISSION');
    assert.equal(instance.originatorUserId, 'dev-zhang');
    assert.deepEqual(instance.formComponentValues.map((v) => v.name), GUIDE_PERMISSION);
    assert.deepEqual(Object.fromEntries(instance.formComponentValues.map((v) => [v.name, v.value])), {
      工单类型: '权限申请',
      工单标题: 'Fix order statuses',
      备注信息: '修正订单状态需要写权限',
      关联实例: 'db-prod-1',
      关联实例信息: '订单主库',
      实例类型: 'MySQL',
      关联库: 'orders',
      申请的权限: 'UPDATE',
      审批意见: '',
    });
    decide(instance.processInstanceId, 'agree');
    const notify = await receiver.outcome(answer.ticket.ticket_id, 20_000);
    assert.deepEqual([notify.pipeline, notify.state, notify.result, notify.msg], ['clouddm-permission', 'completed', true, 'Granted UPDATE on db-prod-1/orders.']);
  });

  test('the DBA refuses in DingTalk: nothing is executed, the notify says rejected_by_approver', async () => {
    const answer = await client.create('clouddm-data-change', 'cdm-change-2', { ...sampleDataChange(MOBILE), fields: { ...sampleDataChange(MOBILE).fields, title: 'Purge old orders', sql: "DELETE FROM orders WHERE created_at < '2020-01-01';", estimated_rows: 5000 } });
    assert.ok(answer.ok, JSON.stringify(answer));
    const instance = await instanceOf('clouddm-data-change', answer.ticket.ticket_id);
    decide(instance.processInstanceId, 'refuse');
    const notify = await receiver.outcome(answer.ticket.ticket_id, 20_000);
    assert.deepEqual([notify.state, notify.result], ['rejected_by_approver', false]);
    assert.ok(!said.some((s) => s.line.startsWith(`clouddm-data-change execute of ${answer.ticket.ticket_id}`)), 'no execute call');
  });

  test('the check refuses (a privilege already held): 422 check_failed, nothing in DingTalk, the notify says rejected_by_check', async () => {
    const before = creates().length;
    const body = samplePermission(MOBILE);
    const answer = await client.create('clouddm-permission', 'cdm-perm-2', { ...body, fields: { ...body.fields, privileges: 'SELECT' } });
    assert.ok(!answer.ok);
    assert.deepEqual([answer.status, answer.code, answer.message], [422, 'check_failed', 'dev-zhang already holds SELECT on db-prod-1/orders; nothing to approve.']);
    const notify = await receiver.outcome(answer.ticket_id!, 20_000);
    assert.deepEqual([notify.state, notify.result, notify.error], ['rejected_by_check', false, 'dev-zhang already holds SELECT on db-prod-1/orders; nothing to approve.']);
    assert.equal(creates().length, before);
  });

  test('a mobile number nobody in DingTalk has: 422 unknown_originator; the business is not called, no instance is created', async () => {
    const [lines, instances] = [said.length, creates().length];
    const answer = await client.create('clouddm-data-change', 'cdm-change-3', sampleDataChange('13999999999'));
    assert.ok(!answer.ok);
    assert.deepEqual([answer.status, answer.code, answer.message], [422, 'unknown_originator', 'no dingtalk user with mobile 13999999999']);
    assert.deepEqual([said.length, creates().length], [lines, instances]);
  });

  test('the receiver takes only what Ticketflow signed with the pipeline\'s own secret', async () => {
    const raw = JSON.stringify({ ticket_id: 'tk_forged', pipeline: 'clouddm-permission', state: 'completed', result: true });
    const path = '/api/ticketflow/permissions/notify';
    const send = (headers: Record<string, string>) => fetch(`${receiver.url}${path}`, { method: 'POST', body: raw, headers: { 'content-type': 'application/json', 'idempotency-key': 'tk_forged:notify', ...headers } });
    assert.equal((await send({})).status, 401, 'unsigned');
    assert.equal((await send(signRequestV11(clientSecrets['clouddm-data-change'], { method: 'POST', path, idempotencyKey: 'tk_forged:notify', rawBody: raw }))).status, 401, "the other pipeline's secret");
    assert.equal(receiver.outcomes.has('tk_forged'), false);
    assert.equal((await send(signRequestV11(clientSecrets['clouddm-permission'], { method: 'POST', path, idempotencyKey: 'tk_forged:notify', rawBody: raw }))).status, 204);
  });
});
