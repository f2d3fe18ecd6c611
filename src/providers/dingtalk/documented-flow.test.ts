import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getTicketByInstance } from '../../store/sql/get-ticket-by-instance.ts';
import { FakeBusiness } from '../../testing/business.ts';
import { dingTalkEnv } from '../../testing/dingtalk.ts';
import { until } from '../../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../../testing/runtime.ts';
import { startDingTalkSimulator, type DingTalkSimulator } from './simulator/server.ts';

const pipeline = (name: string, processCode: string, check: string, execute: string) => `apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: ${name}, version: 1, owner: t }
provider: { type: dingtalk, process_code: ${processCode} }
secret_env: TICKETFLOW_SECRET_ADMIN_PERMISSION
stages:
  check: { node: ${check}, endpoint: BUSINESS/check, mode: sync }
  execute: { node: ${execute}, endpoint: BUSINESS/execute, mode: sync }
fields:
  title: { widget: { label: 标题 }, type: text }
`;

/** End to end against a DingTalk that behaves as its documents say (no processCode in an instance read, NEW tasks). */
describe('DingTalk as documented, end to end', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  let ding: DingTalkSimulator;
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    business.reply = (c) => ({ status: 200, body: { ticket_id: c.body.ticket_id, result: true, msg: `${c.body.stage} ok` } });
    ding = await startDingTalkSimulator();
    const form = [{ componentType: 'TextField', props: { id: 'TextField-1', label: '标题', required: true } }];
    ding.model.defineProcess({
      processCode: 'PROC-NAMED',
      name: '按名称',
      formComponents: form,
      activities: [
        { activityId: 'sid-1a2b', name: 'SQL 检查', approvers: ['dt-assistant'] },
        { activityId: 'sid-3c4d', name: 'DBA 审批', approvers: ['dba-li'] },
        { activityId: 'sid-5e6f', name: 'SQL 执行', approvers: ['dt-assistant'] },
      ],
    });
    ding.model.defineProcess({
      processCode: 'PROC-SEQ',
      name: '依次',
      formComponents: form,
      activities: [
        { activityId: 'act_check', name: '组长与检查', approvers: ['lead-wu', 'dt-assistant'], mode: 'ONE_BY_ONE' },
        { activityId: 'act_execute', name: '执行', approvers: ['dt-assistant'] },
      ],
    });
    stack = await startStack({
      business: business.url,
      extra: { 'named-nodes.yaml': pipeline('named-nodes', 'PROC-NAMED', '{ name: SQL 检查 }', '{ name: SQL 执行 }'), 'sequential.yaml': pipeline('sequential', 'PROC-SEQ', '{ activity_id: act_check }', '{ activity_id: act_execute }') },
      // The reconciler re-reads idle instances every half second: a NEW task it wrongly took as pending would start the check.
      env: { ...dingTalkEnv(ding), TICKETFLOW_RECONCILE_AFTER_MS: '300', TICKETFLOW_RECONCILE_EVERY_MS: '300' },
    });
    ding.setCallbackUrl(`${stack.runtime.url}/api/v1/dingtalk/callback`);
  });
  after(async () => {
    await stack.close();
    await ding.close();
    await business.close();
  });
  const ticket = (id: string) => getTicketByInstance(stack.runtime.pool, 'dingtalk', id);

  test('a pipeline naming its nodes by name reaches the business at both, through activity names from the forecast', async () => {
    const id = ding.model.start({ processCode: 'PROC-NAMED', originatorUserId: 'dev-zhang', formComponentValues: [{ name: '标题', value: 'by name' }] }).processInstanceId;
    const dba = await until('the DBA task', () => ding.model.instance(id).tasks.find((t) => t.userId === 'dba-li' && t.status === 'RUNNING'));
    ding.model.execute({ processInstanceId: id, taskId: dba.taskId, actionerUserId: 'dba-li', result: 'agree' });
    await until('completed in DingTalk', () => ding.model.instance(id).status === 'COMPLETED');
    const t = (await ticket(id))!;
    assert.equal(t.state, 'completed');
    assert.deepEqual([business.callsFor('check', t.id).length, business.callsFor('execute', t.id).length], [1, 1]);
    assert.equal(ding.model.instance(id).result, 'agree');
  });

  test("a sequential activity: the assistant's not-yet-reached (NEW) task does not start the check; its turn does", async () => {
    const id = ding.model.start({ processCode: 'PROC-SEQ', originatorUserId: 'dev-zhang', formComponentValues: [{ name: '标题', value: 'one by one' }] }).processInstanceId;
    const t = await until('the ticket', () => ticket(id));
    await new Promise((r) => setTimeout(r, 2_000)); // several reconciler passes over the idle ticket
    const { rows } = await stack.runtime.pool.query('SELECT reconciled_at FROM tickets WHERE id = $1', [t.id]);
    assert.ok(rows[0].reconciled_at, 'the reconciler did read the instance');
    assert.deepEqual(business.callsFor('check', t.id), [], 'no check while the lead has not signed');
    assert.deepEqual(ding.model.instance(id).tasks.map((x) => [x.userId, x.status]), [['lead-wu', 'RUNNING'], ['dt-assistant', 'NEW']]);
    const lead = ding.model.instance(id).tasks.find((x) => x.userId === 'lead-wu')!;
    ding.model.execute({ processInstanceId: id, taskId: lead.taskId, actionerUserId: 'lead-wu', result: 'agree' });
    await until('completed in DingTalk', () => ding.model.instance(id).status === 'COMPLETED');
    assert.equal((await ticket(id))!.state, 'completed');
    assert.equal(business.callsFor('check', t.id).length, 1);
  });
});
