import { DATA_CHANGE_IM, dataChangeImPipeline, dingTalkEnv } from '../../testing/dingtalk.ts';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { getTicketByInstance } from '../../store/sql/get-ticket-by-instance.ts';
import { FakeBusiness } from '../../testing/business.ts';
import { until } from '../../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../../testing/runtime.ts';
import { startDingTalkSimulator, type DingTalkSimulator } from './simulator/server.ts';

const PROCESS = DATA_CHANGE_IM.processCode;

describe('DingTalk through Stream mode (dingtalk-stream against a local gateway)', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  let ding: DingTalkSimulator;
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    ding = await startDingTalkSimulator({ mode: 'stream', retryDelaysMs: [100, 200, 400, 800] });
    ding.model.defineProcess({
      processCode: PROCESS,
      name: '数据变更工单',
      formComponents: ['工单类型', '工单标题', '关联实例', '实例类型', '关联库', 'SQL内容'].map((label, i) => ({ componentType: 'TextField', props: { id: `f${i}`, label } })),
      activities: [
        { activityId: 'act_sql_check', name: 'SQL 检查', approvers: ['dt-assistant'] },
        { activityId: 'act_dba', name: 'DBA', approvers: ['dba-li'] },
        { activityId: 'act_sql_execute', name: 'SQL 执行', approvers: ['dt-assistant'] },
      ],
    });
    stack = await startStack({
      business: business.url,
      extra: dataChangeImPipeline({ business: business.url }),
      env: dingTalkEnv(ding, 'stream'),
    });
    await until('the stream client connected', () => ding.gateway.connectedClients > 0);
  });
  after(async () => {
    await stack.close();
    await ding.close();
    await business.close();
  });

  const start = () =>
    ding.model.start({
      processCode: PROCESS,
      originatorUserId: 'dev-zhang',
      formComponentValues: [
        { name: '工单类型', value: '数据变更' },
        { name: '工单标题', value: 't' },
        { name: '关联实例', value: 'db' },
        { name: '实例类型', value: 'MySQL' },
        { name: '关联库', value: 'orders' },
        { name: 'SQL内容', value: 'DELETE FROM t WHERE id = 1;' },
      ],
    }).processInstanceId;

  test('check → approval → execute; every event acknowledged only after it was stored', async () => {
    business.reply = (c) => (c.body.stage === 'execute' ? { status: 202 } : { status: 200, body: { ticket_id: c.body.ticket_id, result: true, msg: 'ok' } });
    const id = start();
    await until('the DBA task', () => ding.model.instance(id).tasks.some((t) => t.userId === 'dba-li' && t.status === 'RUNNING'));
    const task = ding.model.instance(id).tasks.find((t) => t.userId === 'dba-li')!;
    ding.model.execute({ processInstanceId: id, taskId: task.taskId, actionerUserId: 'dba-li', result: 'agree' });
    const t = await until('awaiting execute', async () => ((await getTicketByInstance(stack.runtime.pool, 'dingtalk', id))?.state === 'awaiting_execute_callback' ? getTicketByInstance(stack.runtime.pool, 'dingtalk', id) : undefined));
    assert.equal((await business.callback(`${stack.runtime.url}/api/v1/callback/execute`, { ticket_id: t!.id, result: true, msg: 'done' })).status, 200);
    await until('completed in DingTalk', () => ding.model.instance(id).status === 'COMPLETED');
    await ding.gateway.idle();
    const acked = ding.gateway.deliveries.filter((d) => d.instance === id);
    assert.ok(acked.length >= 6 && acked.every((d) => d.status === 'acked'));
    const { rows } = await stack.runtime.pool.query('SELECT event_id FROM inbound_events WHERE instance_code = $1', [id]);
    assert.deepEqual(new Set(rows.map((r) => r.event_id)), new Set(acked.map((d) => d.eventId)), 'every acknowledged event is stored, under its eventId');
  });

  test('a check rejection, and redelivered events stored once', async () => {
    business.reply = (c) => ({ status: 200, body: { ticket_id: c.body.ticket_id, result: false, error: 'DELETE needs a backup first' } });
    const id = start();
    await until('refused', () => ding.model.instance(id).result === 'refuse');
    for (const d of ding.gateway.deliveries.filter((x) => x.instance === id)) ding.gateway.redeliver(d.eventId);
    await ding.gateway.idle();
    const t = (await getTicketByInstance(stack.runtime.pool, 'dingtalk', id))!;
    assert.equal(t.state, 'rejected_by_check');
    assert.equal(business.callsFor('check', t.id).length, 1);
    const { rows } = await stack.runtime.pool.query('SELECT count(*)::int AS n FROM inbound_events WHERE instance_code = $1', [id]);
    assert.equal(rows[0].n, ding.gateway.deliveries.filter((x) => x.instance === id).length, "each event stored once however often it came");
  });
});
