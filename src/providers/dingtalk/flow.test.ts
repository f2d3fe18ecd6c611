import { DATA_CHANGE_IM, dataChangeImPipeline, dataChangeImProcess, dingTalkEnv } from '../../testing/dingtalk.ts';
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { FakeBusiness } from '../../testing/business.ts';
import { until } from '../../testing/flow.ts';
import { startStack, testSecret, type TestStack } from '../../testing/runtime.ts';
import { getTicketByInstance } from '../../store/sql/get-ticket-by-instance.ts';
import { decryptCallback } from './crypto.ts';
import { startDingTalkSimulator, type DingTalkSimulator } from './simulator/server.ts';

const PROCESS = DATA_CHANGE_IM.processCode;
const values = (sql = 'UPDATE t SET a = 1 WHERE id = 2;') => [
  { name: '工单类型', value: '数据变更' },
  { name: '工单标题', value: 'fix order 7' },
  { name: '关联实例', value: 'db-prod-1' },
  { name: '实例类型', value: 'MySQL' },
  { name: '关联库', value: 'orders' },
  { name: '预计影响行数', value: '1' },
  { name: 'SQL内容', value: sql },
];

describe('DingTalk through HTTP push: the same pipelines and business contract', () => {
  let stack: TestStack;
  let business: FakeBusiness;
  let ding: DingTalkSimulator;
  before(async () => {
    business = await new FakeBusiness(testSecret).start();
    ding = await startDingTalkSimulator({ retryDelaysMs: [100, 200, 400, 800] });
    ding.model.defineProcess(dataChangeImProcess());
    stack = await startStack({
      business: business.url,
      extra: dataChangeImPipeline({ business: business.url }),
      env: dingTalkEnv(ding),
    });
    ding.setCallbackUrl(`${stack.runtime.url}/api/v1/dingtalk/callback`);
  });
  after(async () => {
    await stack.close();
    await ding.close();
    await business.close();
  });

  const dba = (id: string) => ding.model.instance(id).tasks.find((t) => t.status === 'RUNNING' && t.userId.startsWith('dba'));
  const ticket = (id: string) => getTicketByInstance(stack.runtime.pool, 'dingtalk', id);

  test('check → DBA approval → async execute → completed, with typed fields and the same contract as Lark', async () => {
    business.reply = (c) => (c.body.stage === 'execute' ? { status: 202, body: {} } : { status: 200, body: { ticket_id: c.body.ticket_id, result: true, msg: 'SQL looks safe' } });
    const id = ding.model.start({ processCode: PROCESS, originatorUserId: 'dev-zhang', formComponentValues: values() }).processInstanceId;
    await until('the DBA task', () => dba(id));
    const task = dba(id)!;
    ding.model.execute({ processInstanceId: id, taskId: task.taskId, actionerUserId: task.userId, result: 'agree' });
    const waiting = await until('awaiting the execute callback', async () => ((await ticket(id))?.state === 'awaiting_execute_callback' ? ticket(id) : undefined));
    const [check] = business.callsFor('check', waiting!.id);
    assert.ok(check!.signatureOk);
    assert.deepEqual(check!.body.fields, { ticket_type: '数据变更', title: 'fix order 7', instance: 'db-prod-1', instance_type: 'MySQL', database: 'orders', estimated_rows: 1, sql: 'UPDATE t SET a = 1 WHERE id = 2;' });
    assert.deepEqual(check!.body.provider, { type: 'dingtalk', process_code: PROCESS, instance_code: id, serial_number: ding.model.instance(id).businessId });
    assert.deepEqual(check!.body.applicant, { user_id: 'dev-zhang', department_id: '1' });
    const cb = await business.callback(`${stack.runtime.url}/api/v1/callback/execute`, { ticket_id: waiting!.id, result: true, msg: '1 row affected' });
    assert.equal(cb.status, 200);
    await until('DingTalk completed', () => ding.model.instance(id).status === 'COMPLETED' && ding.model.instance(id).result === 'agree');
    assert.deepEqual(ding.model.instance(id).operationRecords.filter((r) => r.userId === 'dt-assistant').map((r) => r.remark), ['SQL looks safe', '1 row affected']);
    assert.equal((await ticket(id))!.state, 'completed');
  });

  test('a check rejection refuses at the check activity with the business error', async () => {
    business.reply = (c) => ({ status: 200, body: { ticket_id: c.body.ticket_id, result: false, error: 'UPDATE without WHERE is not allowed' } });
    const id = ding.model.start({ processCode: PROCESS, originatorUserId: 'dev-zhang', formComponentValues: values('UPDATE t SET a = 1;') }).processInstanceId;
    await until('refused', () => ding.model.instance(id).result === 'refuse');
    assert.equal((await ticket(id))!.state, 'rejected_by_check');
    assert.ok(ding.model.instance(id).operationRecords.some((r) => r.remark === 'UPDATE without WHERE is not allowed'));
  });

  test('events delivered again and again: each stage is called once', async () => {
    business.reply = (c) => ({ status: 200, body: { ticket_id: c.body.ticket_id, result: true, msg: 'ok' } });
    const id = ding.model.start({ processCode: PROCESS, originatorUserId: 'dev-li', formComponentValues: values() }).processInstanceId;
    await until('the DBA task', () => dba(id));
    for (const d of ding.pusher.deliveries.filter((x) => x.instanceCode === id)) for (let i = 0; i < 5; i++) ding.pusher.redeliver(d.uuid);
    const task = dba(id)!;
    ding.model.execute({ processInstanceId: id, taskId: task.taskId, actionerUserId: task.userId, result: 'agree' });
    const waiting = await until('awaiting the execute callback', async () => ((await ticket(id))?.state === 'awaiting_execute_callback' ? ticket(id) : undefined));
    assert.equal((await business.callback(`${stack.runtime.url}/api/v1/callback/execute`, { ticket_id: waiting!.id, result: true })).status, 200);
    await until('completed', async () => (await ticket(id))?.state === 'completed');
    for (const d of ding.pusher.deliveries.filter((x) => x.instanceCode === id)) ding.pusher.redeliver(d.uuid);
    await ding.pusher.idle();
    const t = (await ticket(id))!;
    assert.equal(business.callsFor('check', t.id).length, 1);
    assert.equal(business.callsFor('execute', t.id).length, 1);
  });

  test('a stage may name its node: the activity name comes from the process forecast', async () => {
    const file = `${stack.pipelinesDir}/${DATA_CHANGE_IM.file}`;
    const { readFile, writeFile } = await import('node:fs/promises');
    const text = await readFile(file, 'utf8');
    await writeFile(file, text.replace('version: 1', 'version: 2').replace('node: { activity_id: act_sql_check }', 'node: { name: SQL 检查 }'));
    await until('version 2 live', () => stack.runtime.registry.get(DATA_CHANGE_IM.name)?.version === 2);
    business.reply = (c) => ({ status: 200, body: { ticket_id: c.body.ticket_id, result: false, error: 'checked by name' } });
    const id = ding.model.start({ processCode: PROCESS, originatorUserId: 'dev-zhang', formComponentValues: values() }).processInstanceId;
    await until('refused', () => ding.model.instance(id).result === 'refuse');
    assert.equal((await ticket(id))!.state, 'rejected_by_check');
  });

  test("DingTalk's QPS limit: refused calls wait a second and are retried, and the ticket completes", async () => {
    business.reply = (c) => ({ status: 200, body: { ticket_id: c.body.ticket_id, result: true, msg: 'ok' } });
    const before = ding.calls.length;
    ding.rateLimitNext(3);
    const id = ding.model.start({ processCode: PROCESS, originatorUserId: 'dev-li', formComponentValues: values() }).processInstanceId;
    await until('the DBA task', () => dba(id), 15_000);
    const task = dba(id)!;
    ding.model.execute({ processInstanceId: id, taskId: task.taskId, actionerUserId: task.userId, result: 'agree' });
    const waiting = await until('awaiting the execute callback', async () => ((await ticket(id))?.state === 'awaiting_execute_callback' ? ticket(id) : undefined), 15_000);
    assert.equal((await business.callback(`${stack.runtime.url}/api/v1/callback/execute`, { ticket_id: waiting!.id, result: true })).status, 200);
    await until('completed in DingTalk', () => ding.model.instance(id).status === 'COMPLETED', 15_000);
    const refused = ding.calls.slice(before).filter((c) => c.status === 403);
    assert.equal(refused.length, 3);
    const t = (await ticket(id))!;
    assert.equal(business.callsFor('check', t.id).length, 1);
    assert.equal(business.callsFor('execute', t.id).length, 1);
  });

  test('a forged push is refused with 401 and nothing stored; the URL check gets the encrypted success', async () => {
    const url = `${stack.runtime.url}/api/v1/dingtalk/callback`;
    const sealed = ding.pusher.sealFor(url, JSON.stringify({ EventType: 'bpms_instance_change', processInstanceId: 'forged', processCode: PROCESS, type: 'finish', result: 'agree' }));
    const forged = new URL(sealed.url);
    forged.searchParams.set('msg_signature', 'f'.repeat(40));
    const res = await fetch(forged, { method: 'POST', body: sealed.body, headers: sealed.headers });
    assert.equal(res.status, 401);
    const { rows } = await stack.runtime.pool.query("SELECT count(*)::int AS n FROM inbound_events WHERE instance_code = 'forged'");
    assert.equal(rows[0].n, 0);
    const check = ding.pusher.sealFor(url, JSON.stringify({ EventType: 'check_url' }));
    const answer = (await (await fetch(check.url, { method: 'POST', body: check.body, headers: check.headers })).json()) as { encrypt: string };
    assert.equal(decryptCallback(ding.options.aesKey, answer.encrypt).message, 'success');
  });
});
