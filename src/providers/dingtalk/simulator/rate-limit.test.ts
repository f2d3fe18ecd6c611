import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startDingTalkSimulator, type DingTalkSimulator } from './server.ts';

const tokenOf = async (ding: DingTalkSimulator) =>
  ((await (await fetch(`${ding.url}/v1.0/oauth2/accessToken`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ appKey: ding.options.appKey, appSecret: ding.options.appSecret }) })).json()) as { accessToken: string }).accessToken;
const reader = (ding: DingTalkSimulator, token: string) => () => fetch(`${ding.url}/v1.0/workflow/processInstances?processInstanceId=none`, { headers: { 'x-acs-dingtalk-access-token': token } });
const byMobile = (ding: DingTalkSimulator, token: string) => () => fetch(`${ding.url}/topapi/v2/user/getbymobile?access_token=${token}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ mobile: '13800000000' }) }).then((r) => r.json() as Promise<{ errcode: number }>);

test('the per-app limit of each API: the new API answers 403 Forbidden.AccessDenied.QpsLimitForAppkeyAndApi, the old one errcode 90018', async (t) => {
  const ding = await startDingTalkSimulator({ qpsLimit: 5 });
  t.after(() => ding.close());
  const token = await tokenOf(ding);
  const answers = await Promise.all(Array.from({ length: 8 }, reader(ding, token)));
  const limited = answers.filter((r) => r.status === 403);
  assert.equal(limited.length, 3, 'calls beyond 5 in a second are refused');
  assert.equal(((await limited[0]!.json()) as { code: string }).code, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi');
  assert.ok(answers.filter((r) => r.status !== 403).every((r) => r.status === 400), 'the others were served (an unknown instance)');
  const codes = (await Promise.all(Array.from({ length: 7 }, byMobile(ding, token)))).map((r) => r.errcode);
  assert.equal(codes.filter((c) => c === 90018).length, 2);
  await new Promise((r) => setTimeout(r, 1_100));
  assert.notEqual((await reader(ding, token)()).status, 403, 'a second later the API answers again');
});

test('the platform-wide limit of an API: 403 Forbidden.AccessDenied.QpsLimitForApi on the new API, errcode 90002 on the old one', async (t) => {
  const ding = await startDingTalkSimulator();
  t.after(() => ding.close());
  const token = await tokenOf(ding);
  ding.rateLimitNext(1, 'global');
  const res = await reader(ding, token)();
  assert.deepEqual([res.status, ((await res.json()) as { code: string }).code], [403, 'Forbidden.AccessDenied.QpsLimitForApi']);
  ding.rateLimitNext(1, 'global');
  assert.equal((await byMobile(ding, token)()).errcode, 90002);
});

test('a spent monthly quota: 403 Forbidden.AccessDenied.ApiCountLimitForOrg on counted APIs; token and contact APIs are exempt', async (t) => {
  const ding = await startDingTalkSimulator({ quotaRemaining: 2 });
  t.after(() => ding.close());
  const token = await tokenOf(ding);
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await reader(ding, token)()).status);
  assert.deepEqual(statuses, [400, 400, 403], 'two calls left, then refused');
  const refused = (await (await reader(ding, token)()).json()) as { code: string; message: string; requestid: string };
  assert.equal(refused.code, 'Forbidden.AccessDenied.ApiCountLimitForOrg');
  assert.ok(refused.message && refused.requestid, 'the observed error body {code, message, requestid}');
  assert.ok(await tokenOf(ding), 'a token is still handed out');
  assert.equal((await byMobile(ding, token)()).errcode, 60121, 'contact APIs answer (no such user)');
  ding.restoreQuota();
  assert.equal((await reader(ding, token)()).status, 400);
  ding.exhaustQuota();
  assert.equal((await reader(ding, token)()).status, 403);
});
