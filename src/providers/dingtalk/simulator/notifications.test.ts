import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { silentObserver, type ImCallOutcome } from '../../im-health.ts';
import { ProviderError } from '../../provider.ts';
import { DingTalkApi } from '../api.ts';
import { dingTalkProvider, workNotification } from '../provider.ts';
import { startDingTalkSimulator, type DingTalkSimulator } from './server.ts';

const AGENT = 1_000_000_001;

describe('work notifications and terminate on the DingTalk simulator, through our client', () => {
  let ding: DingTalkSimulator;
  let api: DingTalkApi;
  const counted: Array<[string, ImCallOutcome]> = [];
  before(async () => {
    ding = await startDingTalkSimulator({ agentId: AGENT });
    ding.model.addUser('dev-zhang', 'dba-li', 'dt-assistant');
    ding.model.defineProcess({ processCode: 'PROC-1', name: '变更', formComponents: [{ componentType: 'TextField', props: { id: 'TextField-1', label: '标题' } }], activities: [{ activityId: 'act_dba', name: 'DBA', approvers: ['dba-li'] }] });
    ding.model.defineProcess({ processCode: 'PROC-LOCKED', name: '锁定', allowRevoke: false, formComponents: [{ componentType: 'TextField', props: { id: 'TextField-1', label: '标题' } }], activities: [{ activityId: 'act_dba', name: 'DBA', approvers: ['dba-li'] }] });
    api = new DingTalkApi({ appKey: ding.options.appKey, appSecret: ding.options.appSecret, apiBaseUrl: ding.url, oapiBaseUrl: ding.url, observer: { ...silentObserver, call: (a, o) => counted.push([a, o]) } });
  });
  after(() => ding.close());

  const start = (processCode = 'PROC-1') => ding.model.start({ processCode, originatorUserId: 'dev-zhang', formComponentValues: [{ name: '标题', value: 'x' }] }).processInstanceId;
  const reminder = (text: string) => ({ instanceCode: 'I', definitionCode: 'PROC-1', title: '审批提醒 · Approval reminder', text, button: 'Open', dedupeKey: 'k', to: [{ userId: 'dba-li', taskId: '1', links: { mobile: 'https://m.example/1', pc: 'https://pc.example/1' } }] });

  test('asyncsend_v2 answers a task_id; the same content to the same person within a day is not delivered again (the call still succeeds)', async () => {
    const msg = workNotification(reminder('第 1 次提醒'));
    assert.deepEqual(msg, { msgtype: 'oa', oa: { message_url: 'https://m.example/1', pc_message_url: 'https://pc.example/1', head: { bgcolor: 'FFFF9900', text: '审批提醒 · Approval reminder' }, body: { title: '审批提醒 · Approval reminder', content: '第 1 次提醒' } } });
    const first = await api.sendWorkNotification({ agent_id: AGENT, userid_list: 'dba-li,stranger', msg });
    assert.match(first, /^\d+$/);
    await api.sendWorkNotification({ agent_id: AGENT, userid_list: 'dba-li', msg });
    await api.sendWorkNotification({ agent_id: AGENT, userid_list: 'dba-li', msg: workNotification(reminder('第 2 次提醒')) });
    assert.deepEqual(
      ding.notifications.map((n) => [n.delivered, n.dropped]),
      [
        [['dba-li'], [{ userid: 'stranger', why: 'not_in_organisation' }]],
        [[], [{ userid: 'dba-li', why: 'same_content_today' }]],
        [['dba-li'], []],
      ],
    );
    assert.deepEqual(counted.filter(([a]) => a.includes('corpconversation')).map(([, o]) => o), ['ok', 'ok', 'ok']);
    await assert.rejects(api.sendWorkNotification({ agent_id: 42, userid_list: 'dba-li', msg }), (e) => e instanceof ProviderError && e.code === 40035 && !e.transient);
  });

  test('without a link, a text message; a message over 2048 bytes is cut to fit', async () => {
    assert.deepEqual(workNotification({ ...reminder('hello'), to: [{ userId: 'dba-li', taskId: '1' }] }), { msgtype: 'text', text: { content: '审批提醒 · Approval reminder\nhello' } });
    const long = workNotification(reminder('长'.repeat(2000)));
    assert.ok(Buffer.byteLength(JSON.stringify(long)) <= 2048);
    await api.sendWorkNotification({ agent_id: AGENT, userid_list: 'dba-li', msg: long });
  });

  test('the provider reminds only with an agent id; its instance read carries the task links', async () => {
    assert.equal(dingTalkProvider(api, 'dt-assistant').remind, undefined);
    const provider = dingTalkProvider(api, 'dt-assistant', { agentId: AGENT });
    assert.equal(provider.reminderBatch, 100);
    const id = start();
    const read = await provider.readInstance(id, 'PROC-1');
    assert.deepEqual(read.tasks.find((t) => t.pending)?.links, { mobile: `https://aflow.dingtalk.com/dingtalk/mobile/homepage.htm#/approval?procInstId=${id}`, pc: `https://aflow.dingtalk.com/dingtalk/pc/query/pchomepage.htm#/approval?procInstId=${id}` });
  });

  test('terminate: as the system; refused within 15 s of the start, for a finished instance, or when the template does not allow it', async () => {
    const provider = dingTalkProvider(api, 'dt-assistant', { agentId: AGENT });
    const young = start();
    await assert.rejects(provider.endInstance!({ definitionCode: 'PROC-1', instanceCode: young, originator: 'dev-zhang', reason: 'expired' }), (e) => e instanceof ProviderError && e.code === 'aflowProcessInstStatusException');
    const instance = ding.model.instance(young);
    instance.createTime = new Date(Date.now() - 16_000).toISOString();
    await provider.endInstance!({ definitionCode: 'PROC-1', instanceCode: young, originator: 'dev-zhang', reason: 'expired' });
    assert.equal(instance.status, 'TERMINATED');
    await assert.rejects(provider.endInstance!({ definitionCode: 'PROC-1', instanceCode: young, originator: 'dev-zhang', reason: 'expired' }), (e) => e instanceof ProviderError && e.code === 'aflowProcessInstStatusException');
    const locked = start('PROC-LOCKED');
    ding.model.instance(locked).createTime = new Date(Date.now() - 16_000).toISOString();
    await assert.rejects(provider.endInstance!({ definitionCode: 'PROC-LOCKED', instanceCode: locked, originator: 'dev-zhang', reason: 'expired' }), (e) => e instanceof ProviderError && e.code === 'internalError');
    const body = ding.calls.filter((c) => c.path === '/v1.0/workflow/processInstances/terminate')[1]!.body;
    assert.deepEqual(body, { processInstanceId: young, isSystem: true, remark: 'expired', operatingUserId: 'dev-zhang' });
    const raw = async (b: unknown) => {
      const token = ((await (await fetch(`${ding.url}/v1.0/oauth2/accessToken`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appKey: ding.options.appKey, appSecret: ding.options.appSecret }) })).json()) as { accessToken: string }).accessToken;
      const res = await fetch(`${ding.url}/v1.0/workflow/processInstances/terminate`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-acs-dingtalk-access-token': token }, body: JSON.stringify(b) });
      return { status: res.status, code: ((await res.json()) as { code?: string }).code };
    };
    assert.deepEqual(await raw({ processInstanceId: locked }), { status: 400, code: 'invalidInstanceTerminateIsSystem' });
    assert.deepEqual(await raw({ processInstanceId: locked, isSystem: false, operatingUserId: 'dba-li' }), { status: 400, code: 'invalidInstanceTerminateOperatingUserId' });
    assert.deepEqual(await raw({ processInstanceId: 'nope', isSystem: true }), { status: 400, code: 'aflowProcessInstNotExist' });
  });
});
