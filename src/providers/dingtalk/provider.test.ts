import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { checkPipelines } from '../../pipeline/check.ts';
import { ProviderError } from '../provider.ts';
import { DingTalkApi } from './api.ts';
import { dingTalkProvider } from './provider.ts';
import { startDingTalkSimulator, type DingTalkSimulator } from './simulator/server.ts';

const pipelineText = `apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: created, version: 1, owner: t }
provider: { type: dingtalk, process_code: PROC-SEQ }
origin: api
notify_url: https://svc.example.com/notify
secret_env: TICKETFLOW_SECRET_EXAMPLE
stages:
  check: { endpoint: https://svc.example.com/check, mode: sync }
fields:
  title: { widget: { label: 标题 }, type: text }
`;

describe('the DingTalk provider against a simulator that follows the documents', () => {
  let ding: DingTalkSimulator;
  const provider = () => dingTalkProvider(new DingTalkApi({ appKey: ding.options.appKey, appSecret: ding.options.appSecret, apiBaseUrl: ding.url, oapiBaseUrl: ding.url }), 'dt-assistant');
  before(async () => {
    ding = await startDingTalkSimulator();
    ding.model.addUser({ userid: 'dev-li', deptIds: [7, 9] }, 'dev-root', 'lead-wu', 'dt-assistant');
    ding.model.defineProcess({
      processCode: 'PROC-SEQ',
      name: '变更',
      formComponents: [{ componentType: 'TextField', props: { id: 'TextField-1', label: '标题' } }],
      activities: [
        { activityId: 'act_check', name: 'SQL 检查', approvers: ['lead-wu', 'dt-assistant'], mode: 'ONE_BY_ONE' },
        { activityId: 'act_execute', name: 'SQL 执行', approvers: ['dt-assistant'] },
      ],
    });
  });
  after(() => ding.close());
  const start = () => ding.model.start({ processCode: 'PROC-SEQ', originatorUserId: 'dev-li', formComponentValues: [{ name: '标题', value: 't' }] }).processInstanceId;

  test("a task's node name comes from the forecast of the ticket's own process code (GetProcessInstance has none)", async () => {
    const instance = await provider().readInstance(start(), 'PROC-SEQ');
    assert.equal(instance.definitionCode, 'PROC-SEQ');
    assert.deepEqual(instance.tasks.map((t) => [t.userId, t.nodeKey, t.nodeName]), [['lead-wu', 'act_check', 'SQL 检查'], ['dt-assistant', 'act_check', 'SQL 检查']]);
    assert.deepEqual(instance.applicant, { user_id: 'dev-li', department_id: '7' });
  });

  test("a sequential activity: the assistant's NEW (not started) task is not pending; RUNNING is", async () => {
    const id = start();
    const before = await provider().readInstance(id, 'PROC-SEQ');
    assert.deepEqual(before.tasks.map((t) => [t.userId, t.pending]), [['lead-wu', true], ['dt-assistant', false]]);
    const lead = ding.model.instance(id).tasks.find((t) => t.userId === 'lead-wu')!;
    ding.model.execute({ processInstanceId: id, taskId: lead.taskId, actionerUserId: 'lead-wu', result: 'agree' });
    const later = await provider().readInstance(id, 'PROC-SEQ');
    assert.deepEqual(later.tasks.map((t) => [t.userId, t.pending]), [['lead-wu', false], ['dt-assistant', true]]);
  });

  test('decideTask sends the task id as a number; an id that is not one is refused without a call', async () => {
    const id = start();
    const lead = ding.model.instance(id).tasks.find((t) => t.userId === 'lead-wu')!;
    ding.model.execute({ processInstanceId: id, taskId: lead.taskId, actionerUserId: 'lead-wu', result: 'agree' });
    const task = ding.model.instance(id).tasks.find((t) => t.userId === 'dt-assistant' && t.status === 'RUNNING')!;
    await provider().decideTask({ definitionCode: 'PROC-SEQ', instanceCode: id, taskId: String(task.taskId), assistant: 'dt-assistant', action: 'approve', comment: 'ok' });
    assert.equal(task.status, 'COMPLETED');
    const before = ding.calls.length;
    await assert.rejects(provider().decideTask({ definitionCode: 'PROC-SEQ', instanceCode: id, taskId: 'T-1', assistant: 'dt-assistant', action: 'approve', comment: '' }), (e) => e instanceof ProviderError && !e.transient);
    assert.equal(ding.calls.length, before);
  });

  test("createInstance sends the originator's department from 查询用户详情 as deptId, the root department as -1", async () => {
    const [file] = checkPipelines([{ path: 'created.yaml', text: pipelineText }]).files;
    const create = async (originator: string) => {
      const { instanceCode } = await provider().createInstance!(file!.pipeline!, { id: `tk-${originator}`, fields: { title: originator }, originator, openedAt: new Date() });
      const sent = ding.calls.filter((c) => c.method === 'POST' && c.path === '/v1.0/workflow/processInstances').at(-1)!.body as { deptId: unknown };
      return [sent.deptId, ding.model.instance(instanceCode).originatorDeptId];
    };
    assert.deepEqual(await create('dev-li'), [7, 7]);
    assert.deepEqual(await create('dev-root'), [-1, 1]);
    assert.deepEqual(
      ding.calls.filter((c) => c.path === '/topapi/v2/user/get').map((c) => c.body),
      [{ userid: 'dev-li' }, { userid: 'dev-root' }],
    );
  });
});
