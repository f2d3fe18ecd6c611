import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startDingTalkSimulator } from './server.ts';

test('the DingTalk simulator limits each API per second: the new API answers 403 QpsLimitForApi, the old one errcode 90018', async (t) => {
  const ding = await startDingTalkSimulator({ qpsLimit: 5 });
  t.after(() => ding.close());
  const { accessToken } = (await (await fetch(`${ding.url}/v1.0/oauth2/accessToken`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appKey: ding.options.appKey, appSecret: ding.options.appSecret }) })).json()) as { accessToken: string };
  const read = () => fetch(`${ding.url}/v1.0/workflow/processInstances?processInstanceId=none`, { headers: { 'x-acs-dingtalk-access-token': accessToken } });
  const answers = await Promise.all(Array.from({ length: 8 }, read));
  const limited = answers.filter((r) => r.status === 403);
  assert.equal(limited.length, 3, 'calls beyond 5 in a second are refused');
  assert.equal(((await limited[0]!.json()) as { code: string }).code, 'Forbidden.AccessDenied.QpsLimitForApi');
  assert.ok(answers.filter((r) => r.status !== 403).every((r) => r.status === 400 || r.status === 404), 'the others were served (an unknown instance)');
  const byMobile = () => fetch(`${ding.url}/topapi/v2/user/getbymobile?access_token=${accessToken}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mobile: '13800000000' }) }).then((r) => r.json() as Promise<{ errcode: number }>);
  const codes = (await Promise.all(Array.from({ length: 7 }, byMobile))).map((r) => r.errcode);
  assert.equal(codes.filter((c) => c === 90018).length, 2);
  await new Promise((r) => setTimeout(r, 1_100));
  assert.notEqual((await read()).status, 403, 'a second later the API answers again');
});
