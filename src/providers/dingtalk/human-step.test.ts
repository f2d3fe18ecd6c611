import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getTicketByInstance } from '../../store/sql/get-ticket-by-instance.ts';
import { ticketHistory } from '../../store/sql/ticket-history.ts';
import { FakeBusiness } from '../../testing/business.ts';
import { DATA_CHANGE_IM, dataChangeImPipeline, dataChangeImProcess, dingTalkEnv } from '../../testing/dingtalk.ts';
import { until } from '../../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../../testing/runtime.ts';
import { startDingTalkSimulator, type DingTalkSimulator } from './simulator/server.ts';

const PROCESS = DATA_CHANGE_IM.processCode;
const AGENT = 3_000_000_042;
const values = [
  { name: '工单类型', value: '数据变更' },
  { name: '工单标题', value: 'fix order 7' },
  { name: '关联实例', value: 'db-prod-1' },
  { name: '实例类型', value: 'MySQL' },
  { name: '关联库', value: 'orders' },
  { name: '预计影响行数', value: '1' },
  { name: 'SQL内容', value: 'UPDATE t SET a = 1 WHERE id = 2;' },
];

describe('the human step on DingTalk: work notifications to the pending approvers, then the instance terminated', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  let ding: DingTalkSimulator;
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    // Terminate refuses instances younger than 15 s on DingTalk; the test's expire within seconds.
    ding = await startDingTalkSimulator({ retryDelaysMs: [100, 200, 400, 800], agentId: AGENT, terminateMinAgeMs: 0 });
    ding.model.addUser('dev-zhang', 'dba-li', 'dba-wang');
    ding.model.defineProcess(dataChangeImProcess());
    stack = await startStack({
      business: business.url,
      env: { ...dingTalkEnv(ding), DINGTALK_AGENT_ID: String(AGENT) },
      extra: dataChangeImPipeline({ business: business.url, edit: (text) => text.replace(/\nfields:/, '\napproval:\n  remind_after: 1s\n  remind_every: 2s\n  expire_after: 4s\nfields:') }),
    });
    ding.setCallbackUrl(`${stack.runtime.url}/api/v1/dingtalk/callback`);
  });
  after(async () => {
    await stack?.close();
    await ding?.close();
    await business?.close();
  });

  test('reminders are work notifications linking to the task, never the same text twice; expiry comments, then terminates as the system', async () => {
    const id = ding.model.start({ processCode: PROCESS, originatorUserId: 'dev-zhang', formComponentValues: values }).processInstanceId;
    const ticket = await until('in approval', async () => {
      const t = await getTicketByInstance(stack.runtime.pool, 'dingtalk', id);
      return t?.state === 'in_approval' ? t : undefined;
    });
    const mine = () => ding.notifications.filter((n) => JSON.stringify(n.msg).includes(id));
    await until('two reminders', () => mine().length >= 2);
    const [first, second] = mine();
    // One call reaches both pending DBAs: their tasks open the same page.
    assert.deepEqual(first!.delivered.sort(), ['dba-li', 'dba-wang']);
    assert.deepEqual(second!.delivered.sort(), ['dba-li', 'dba-wang'], 'the second reminder reads differently, so DingTalk delivers it too');
    assert.deepEqual(first!.dropped, []);
    const task = ding.model.instance(id).tasks.find((t) => t.userId === 'dba-li' && t.status === 'RUNNING')!;
    const oa = first!.msg.oa as { message_url: string; pc_message_url: string; head: { text: string }; body: { title: string; content: string } };
    assert.equal(first!.msg.msgtype, 'oa');
    assert.equal(first!.agent_id, AGENT);
    assert.equal(oa.message_url, `https://aflow.dingtalk.com/dingtalk/mobile/homepage.htm#/approval?procInstId=${id}`);
    assert.equal(oa.pc_message_url, `https://aflow.dingtalk.com/dingtalk/pc/query/pchomepage.htm#/approval?procInstId=${id}`);
    assert.match(oa.body.content, /dev-zhang 的申请「clouddm-data-change-im/);
    assert.match(oa.body.content, /第 1 次提醒/);
    assert.ok(task, 'the DBA task is the one reminded of');
    assert.equal(mine().filter((n) => n.delivered.includes('dt-assistant')).length, 0, 'never the assistant');

    await until('expired', async () => (await getTicketByInstance(stack.runtime.pool, 'dingtalk', id))?.state === 'expired', 15_000);
    await until('terminated', () => ding.model.instance(id).status === 'TERMINATED');
    const remarks = ding.model.instance(id).operationRecords.filter((r) => r.userId === 'dt-assistant' && r.type === 'ADD_REMARK').map((r) => r.remark);
    assert.equal(remarks.length, 1);
    assert.match(remarks[0]!, /该申请已过期：进入审批后 4 秒内无人处理/);
    const terminate = ding.calls.find((c) => c.path === '/v1.0/workflow/processInstances/terminate')!;
    assert.equal(terminate.status, 200);
    assert.deepEqual({ ...(terminate.body as object), remark: undefined }, { processInstanceId: id, isSystem: true, remark: undefined, operatingUserId: 'dev-zhang' });
    const comment = ding.calls.findIndex((c) => c.path === '/v1.0/workflow/processInstances/comments');
    assert.ok(comment >= 0 && comment < ding.calls.indexOf(terminate), 'the comment before the end');
    await until('the end in the history', async () => (await ticketHistory(stack.runtime.pool, ticket.id)).audit.some((a) => a.event === 'instance_ended'));
    const metrics = await (await fetch(`${stack.runtime.url}/metrics`)).text();
    assert.ok(Number(/^ticketflow_im_api_calls_total\{provider="dingtalk",api="topapi\/message\/corpconversation\/asyncsend_v2",outcome="ok"\} (\d+)$/m.exec(metrics)?.[1]) >= 2);
    assert.match(metrics, /^ticketflow_im_api_calls_total\{provider="dingtalk",api="v1.0\/workflow\/processInstances\/terminate",outcome="ok"\} 1$/m);
  });
});
