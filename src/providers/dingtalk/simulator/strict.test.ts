import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startDingTalkSimulator, type DingTalkSimulator } from './server.ts';

/** The simulator answers as DingTalk's documents say, whatever our client expects. */
describe('the DingTalk simulator follows the documents', () => {
  let ding: DingTalkSimulator;
  let token: string;
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${ding.url}${path}`, { method, headers: { 'content-type': 'application/json', 'x-acs-dingtalk-access-token': token }, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, any> };
  };
  const oapi = async (path: string, body: unknown) => (await fetch(`${ding.url}${path}?access_token=${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })).json() as Promise<Record<string, any>>;

  before(async () => {
    ding = await startDingTalkSimulator();
    ding.model.addUser({ userid: 'dev-zhang', name: '张三', deptIds: [1] }, { userid: 'dev-li', deptIds: [7, 9] }, 'lead-wu', 'dt-assistant');
    ding.model.defineProcess({
      processCode: 'PROC-SEQ',
      name: '变更',
      formComponents: [
        { componentType: 'TextField', props: { id: 'TextField-K2AD4O5B', label: '标题', required: true } },
        { componentType: 'DDDateField', props: { id: 'DDDateField-1', label: '日期', format: 'yyyy-MM-dd' } },
      ],
      activities: [
        { activityId: 'act_check', name: '检查', approvers: ['lead-wu', 'dt-assistant'], mode: 'ONE_BY_ONE' },
        { activityId: 'act_execute', name: '执行', approvers: ['dt-assistant'] },
      ],
    });
    token = ((await (await fetch(`${ding.url}/v1.0/oauth2/accessToken`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appKey: ding.options.appKey, appSecret: ding.options.appSecret }) })).json()) as { accessToken: string }).accessToken;
  });
  after(() => ding.close());

  test('GetProcessInstance: no processCode; tasks carry processInstanceId and a numeric taskId; the root department is "-1"', async () => {
    const id = ding.model.start({ processCode: 'PROC-SEQ', originatorUserId: 'dev-zhang', formComponentValues: [{ name: '标题', value: 't' }] }).processInstanceId;
    const { status, body } = await api('GET', `/v1.0/workflow/processInstances?processInstanceId=${id}`);
    assert.equal(status, 200);
    assert.equal(body.success, 'true');
    assert.ok(!('processCode' in body.result), 'the documented result has no processCode');
    assert.equal(body.result.originatorDeptId, '-1');
    for (const t of body.result.tasks) {
      assert.equal(typeof t.taskId, 'number');
      assert.equal(t.processInstanceId, id);
      assert.ok(!('instanceId' in t));
    }
    assert.match(body.result.createTime, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}Z$/, 'yyyy-MM-ddTHH:mmZ');
    assert.equal((await api('GET', '/v1.0/workflow/processInstances?processInstanceId=nope')).body.code, 'processInstanceNotExist');
  });

  test('a sequential (ONE_BY_ONE) activity: the later approver\'s task exists as NEW and cannot be executed until its turn', async () => {
    const id = ding.model.start({ processCode: 'PROC-SEQ', originatorUserId: 'dev-zhang', formComponentValues: [{ name: '标题', value: 't' }] }).processInstanceId;
    const tasks = () => ding.model.instance(id).tasks.map((t) => [t.userId, t.status]);
    assert.deepEqual(tasks(), [['lead-wu', 'RUNNING'], ['dt-assistant', 'NEW']]);
    const assistant = ding.model.instance(id).tasks.find((t) => t.userId === 'dt-assistant')!;
    const early = await api('POST', '/v1.0/workflow/processInstances/execute', { processInstanceId: id, taskId: assistant.taskId, actionerUserId: 'dt-assistant', result: 'agree' });
    assert.deepEqual([early.status, early.body.code], [400, 'aflowProcessInstCanNotBeExecuted']);
    const started = () => ding.pusher.deliveries.filter((d) => d.instanceCode === id && d.event.type === 'start' && d.event.EventType === 'bpms_task_change').map((d) => d.event.staffId);
    assert.deepEqual(started(), ['lead-wu'], 'no start event for a NEW task');
    const lead = ding.model.instance(id).tasks.find((t) => t.userId === 'lead-wu')!;
    assert.equal((await api('POST', '/v1.0/workflow/processInstances/execute', { processInstanceId: id, taskId: lead.taskId, actionerUserId: 'lead-wu', result: 'agree' })).status, 200);
    assert.deepEqual(tasks(), [['lead-wu', 'COMPLETED'], ['dt-assistant', 'RUNNING']]);
    assert.deepEqual(started(), ['lead-wu', 'dt-assistant']);
  });

  test('execute: taskId is a Long; a numeric string is refused (invalidParameter), a number is accepted', async () => {
    const id = ding.model.start({ processCode: 'PROC-SEQ', originatorUserId: 'dev-zhang', formComponentValues: [{ name: '标题', value: 't' }] }).processInstanceId;
    const lead = ding.model.instance(id).tasks.find((t) => t.userId === 'lead-wu')!;
    const asString = await api('POST', '/v1.0/workflow/processInstances/execute', { processInstanceId: id, taskId: String(lead.taskId), actionerUserId: 'lead-wu', result: 'agree' });
    assert.deepEqual([asString.status, asString.body.code], [400, 'invalidParameter']);
    assert.equal(lead.status, 'RUNNING');
    const missing = await api('POST', '/v1.0/workflow/processInstances/execute', { processInstanceId: id, actionerUserId: 'lead-wu', result: 'agree' });
    assert.equal(missing.body.code, 'invalidInstanceExecuteTaskId');
    const ok = await api('POST', '/v1.0/workflow/processInstances/execute', { processInstanceId: id, taskId: lead.taskId, actionerUserId: 'lead-wu', result: 'agree' });
    assert.deepEqual([ok.status, ok.body], [200, { result: true, success: true }]);
  });

  test('create: deptId is required without approvers (the root sent as -1, the originator must be in it); 查询用户详情 gives dept_id_list', async () => {
    const create = (extra: Record<string, unknown>) => api('POST', '/v1.0/workflow/processInstances', { processCode: 'PROC-SEQ', originatorUserId: 'dev-li', formComponentValues: [{ name: '标题', value: 'x' }], ...extra });
    const none = await create({});
    assert.deepEqual([none.status, none.body.code], [400, 'processInstanceInvalidParameter']);
    assert.ok(none.body.message && none.body.requestid, '{code, message, requestid}');
    assert.equal((await create({ deptId: 3 })).body.code, 'processInstanceInvalidParameter', 'not her department');
    assert.equal((await create({ deptId: '7' })).body.code, 'processInstanceInvalidParameter', 'a Long, not a string');
    const made = await create({ deptId: 7 });
    assert.equal(made.status, 200);
    assert.equal(ding.model.instance(made.body.instanceId).originatorDeptId, 7);
    const root = await api('POST', '/v1.0/workflow/processInstances', { processCode: 'PROC-SEQ', originatorUserId: 'dev-zhang', deptId: -1, formComponentValues: [{ name: '标题', value: 'x' }] });
    assert.equal(root.status, 200);
    assert.deepEqual(await oapi('/topapi/v2/user/get', { userid: 'dev-li' }).then((r) => [r.errcode, r.result.dept_id_list]), [0, [7, 9]]);
    assert.deepEqual(await oapi('/topapi/v2/user/get', { userid: 'nobody' }).then((r) => r.errcode), 33012);
  });

  test('create: a date control takes yyyy-MM-dd only', async () => {
    const create = (value: string) => api('POST', '/v1.0/workflow/processInstances', { processCode: 'PROC-SEQ', originatorUserId: 'dev-zhang', deptId: -1, formComponentValues: [{ name: '标题', value: 'x' }, { name: '日期', value }] });
    assert.equal((await create('2026-12-31')).status, 200);
    assert.equal((await create('2026-12-31 10:00')).body.code, 'formConverterError');
  });

  test('the form schema identifies controls by props.id; the forecast lists approvers as {workNo, userName} and needs deptId', async () => {
    const schema = await api('GET', '/v1.0/workflow/forms/schemas/processCodes?processCode=PROC-SEQ');
    const props = schema.body.result.schemaContent.items[0].props;
    assert.equal(props.id, 'TextField-K2AD4O5B');
    assert.ok(!('componentId' in props));
    const noDept = await api('POST', '/v1.0/workflow/processes/forecast', { processCode: 'PROC-SEQ', userId: 'dev-zhang', formComponentValues: [] });
    assert.equal(noDept.body.code, 'invalidParameter');
    const forecast = await api('POST', '/v1.0/workflow/processes/forecast', { processCode: 'PROC-SEQ', userId: 'dev-zhang', deptId: 1, formComponentValues: [] });
    const rule = forecast.body.result.workflowActivityRules[0];
    assert.deepEqual(rule.workflowActor.actorSelectionRange.approvals, [{ workNo: 'lead-wu', userName: 'lead-wu' }, { workNo: 'dt-assistant', userName: 'dt-assistant' }]);
    assert.deepEqual([rule.workflowActor.approvalType, rule.workflowActor.approvalMethod], ['MANUAL', 'ONE_BY_ONE']);
  });

  test('tokens: a wrong secret is 400 invalidClientIdOrSecret; no token 401, an expired one 400 InvalidAuthentication', async () => {
    const wrong = await fetch(`${ding.url}/v1.0/oauth2/accessToken`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appKey: ding.options.appKey, appSecret: 'nope' }) });
    assert.deepEqual([wrong.status, ((await wrong.json()) as { code: string }).code], [400, 'invalidClientIdOrSecret']);
    const bare = await fetch(`${ding.url}/v1.0/workflow/processInstances?processInstanceId=x`);
    assert.equal(bare.status, 401);
    ding.expireTokens();
    const expired = await api('GET', '/v1.0/workflow/processInstances?processInstanceId=x');
    assert.deepEqual([expired.status, expired.body.code], [400, 'InvalidAuthentication']);
  });
});
