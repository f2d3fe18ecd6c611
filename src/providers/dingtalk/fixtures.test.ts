import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { checkPipelines } from '../../pipeline/check.ts';
import { DingTalkApi } from './api.ts';
import { encryptCallback, callbackSignature } from './crypto.ts';
import { mapDingTalkForm } from './form.ts';
import { dingTalkProvider } from './provider.ts';
import { decodeDingTalkPush } from './push.ts';
import { streamEvent } from './stream.ts';

/** An example body of DingTalk's own pages (testdata/*.json), without its `_source` (the page it is copied from). */
function example(name: string): Record<string, any> {
  const { _source, ...body } = JSON.parse(readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8')) as Record<string, any>;
  assert.match(_source, /^https:\/\/open\.dingtalk\.com\/document\/development\//, `${name} names the page it is copied from`);
  return body;
}

describe("DingTalk's documented examples through our decoders and mappers", () => {
  // A DingTalk that answers every call with the documents' example bodies, and writes down what it was asked.
  const asked: Array<{ path: string; body: Record<string, unknown> }> = [];
  const answers: Record<string, string> = { '/v1.0/workflow/processInstances': 'get-process-instance.json', '/v1.0/workflow/processes/forecast': 'process-forecast.json', '/topapi/v2/user/get': 'user-get.json' };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const path = new URL(req.url!, 'http://x').pathname;
    asked.push({ path, body: chunks.length ? JSON.parse(Buffer.concat(chunks).toString('utf8')) : {} });
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(path === '/v1.0/oauth2/accessToken' ? { accessToken: 'example', expireIn: 7200 } : example(answers[path]!)));
  });
  let api: DingTalkApi;
  before(async () => {
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    api = new DingTalkApi({ appKey: 'k', appSecret: 's', apiBaseUrl: url, oapiBaseUrl: url });
  });
  after(() => {
    server.closeAllConnections();
    server.close();
  });
  const provider = () => dingTalkProvider(api, 'dt-assistant');

  test('the GetProcessInstance example: statuses mapped, the task NEW so not pending, the ticket\'s process code used (the answer has none), root department -1 read as 1', async () => {
    asked.length = 0;
    const instance = await provider().readInstance('ce133dd0', 'PROC-OF-THE-TICKET');
    assert.equal(instance.definitionCode, 'PROC-OF-THE-TICKET');
    assert.equal(instance.status, 'PENDING', 'RUNNING');
    assert.equal(instance.serialNumber, '111');
    assert.deepEqual(instance.applicant, { user_id: 'manager1', department_id: '1' });
    assert.deepEqual(instance.tasks, [{ id: '111', userId: 'manager1', pending: false, nodeKey: '111', nodeName: undefined, links: { mobile: 'https://www.xxxx.com', pc: 'https://www.xxxx.com' } }]);
    const forecast = asked.find((a) => a.path === '/v1.0/workflow/processes/forecast')!;
    assert.deepEqual(forecast.body, { processCode: 'PROC-OF-THE-TICKET', deptId: 1, userId: 'manager1', formComponentValues: [{ name: '组件1', value: '示例值' }] });
  });

  test('the 查询用户详情 example: dept_id_list given as the string "[2,3,4]" and errcode as "0" still gives department 2', async () => {
    assert.equal(await api.userDepartment('zhangsan'), 2);
  });

  test('the bpms_task_change HTTP example: classify reads its numeric taskId as the string id of a finished task', () => {
    const event = provider().classify(example('bpms_task_change.http.json'));
    assert.deepEqual(event, { kind: 'task', instanceCode: 'ce133dd0-5b22-9516-xxxxxxxxxxxx', definitionCode: 'PROC-27BBC5E6-DFFA-4EC3-A1F1-xxx', taskId: '811165', userId: '08058646137', pending: false, status: 'finish:agree' });
  });

  test('the bpms_task_change HTTP example, sealed as a push: decoded under its own eventId', () => {
    const settings = { token: 'token', aesKey: 'a'.repeat(43), appKey: 'dingappkey' };
    const message = JSON.stringify(example('bpms_task_change.http.json'));
    const encrypt = encryptCallback(settings.aesKey, message, settings.appKey);
    const outcome = decodeDingTalkPush({ msg_signature: callbackSignature(settings.token, '1663143335567', 'nonce1', encrypt), timestamp: '1663143335567', nonce: 'nonce1' }, Buffer.from(JSON.stringify({ encrypt })), settings);
    assert.equal(outcome.kind, 'event');
    assert.deepEqual(outcome.kind === 'event' && [outcome.event.eventId, outcome.event.definitionCode, outcome.event.instanceCode], ['c7c7120f2c07419**ebdba0318c8', 'PROC-27BBC5E6-DFFA-4EC3-A1F1-xxx', 'ce133dd0-5b22-9516-xxxxxxxxxxxx']);
  });

  test('the bpms_task_change Stream example, framed as dingtalk-stream delivers it: the same task', () => {
    const e = example('bpms_task_change.stream.json');
    const headers = { appId: 'k', connectionId: 'c', contentType: 'application/json', messageId: 'm', time: String(e.eventBornTime), topic: '*', eventType: e.eventType, eventId: e.eventId, eventBornTime: String(e.eventBornTime), eventCorpId: e.eventCorpId, eventUnifiedAppId: e.eventUnifiedAppId };
    const inbound = streamEvent({ specVersion: '1.0', type: 'EVENT', headers, data: JSON.stringify(e.data) })!;
    assert.equal(inbound.eventId, 'c7c7120f2c07419**ebdba0318c8');
    assert.deepEqual(provider().classify(inbound.payload), provider().classify(example('bpms_task_change.http.json')));
  });

  test('the bpms_instance_change HTTP example: a finished, agreed instance is APPROVED', () => {
    assert.deepEqual(provider().classify(example('bpms_instance_change.http.json')), { kind: 'instance', instanceCode: '9Qgx5QqjR7axMwxxxx', definitionCode: 'Pro-xxx', status: 'APPROVED' });
  });

  test("the create page's example form values map onto typed fields", () => {
    const text = `apiVersion: ticketflow/v1
kind: Pipeline
metadata: { name: examples, version: 1, owner: t }
provider: { type: dingtalk, process_code: PROC-EXAMPLE }
secret_env: TICKETFLOW_SECRET_EXAMPLE
stages:
  check: { node: { activity_id: act_check }, endpoint: https://svc.example.com/check, mode: sync }
fields:
  line: { widget: { label: 单行输入框 }, type: text }
  lines: { widget: { label: 多行输入框 }, type: textarea }
  count: { widget: { label: 数字输入框 }, type: number }
  choice: { widget: { label: 单选框 }, type: option, options: [{ label: 选项1, id: one }, { label: 选项2, id: two }] }
  choices: { widget: { label: 多选框 }, type: options, options: [{ label: 选项1, id: one }, { label: 选项2, id: two }] }
  day: { widget: { label: 日期 }, type: date }
  span: { widget: { label: '["开始时间","结束时间"]' }, type: date_range }
  money: { widget: { label: 金额（元） }, type: amount }
  files: { widget: { label: 附件 }, type: attachments }
  people: { widget: { label: 联系人 }, type: people }
  region: { widget: { label: 省市区 }, type: address }
  depts: { widget: { label: 部门 }, type: departments }
`;
    const [file] = checkPipelines([{ path: 'examples.yaml', text }]).files;
    assert.ok(file?.pipeline, 'the pipeline is valid');
    const now = new Date('2026-11-25T00:00:00Z');
    const { fields, problems } = mapDingTalkForm(file.pipeline, example('create-form-values.json').formComponentValues, now);
    assert.deepEqual(problems, []);
    assert.deepEqual(fields, {
      line: '单行输入框示例',
      lines: '请输入多行文本内容，需要换行时请输入\r\n',
      count: 100,
      choice: 'one',
      choices: ['one', 'two'],
      day: '2021-08-17',
      span: { start: '2019-02-19', end: '2019-02-25' },
      money: { value: 100, currency: 'CNY' },
      files: [{ name: '2644.JPG', url: 'dingtalk://space/163xxxx658/file/643xxxx140', expires_at: '2026-11-25T12:00:00.000Z' }],
      people: [{ user_id: '4525xxxxxxxx77041' }],
      region: '北京,北京市,河东区',
      depts: [{ id: '钉钉通讯录部门1的id' }, { id: '钉钉通讯录部门2的id' }],
    });
  });
});
