import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import type { ImObserver } from '../im-health.ts';
import { ProviderError } from '../provider.ts';
import { DingTalkApi } from './api.ts';
import { startDingTalkSimulator, type DingTalkSimulator } from './simulator/server.ts';
import { recordingObserver } from '../../testing/im-observer.ts';

const clientOf = (ding: DingTalkSimulator, observer: ImObserver, extra: { appSecret?: string; now?: () => number } = {}) => new DingTalkApi({ appKey: ding.options.appKey, appSecret: extra.appSecret ?? ding.options.appSecret, apiBaseUrl: ding.url, oapiBaseUrl: ding.url, observer, now: extra.now });
const refusal = async (p: Promise<unknown>): Promise<ProviderError> => {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ProviderError, String(e));
    return e;
  }
  assert.fail('expected a refusal');
};

async function withProcess(t: TestContext) {
  const ding = await startDingTalkSimulator({ qpsLimit: 0 });
  t.after(() => ding.close());
  ding.model.addUser({ userid: 'dev-zhang', mobile: '13900000002', deptIds: [4] });
  ding.model.defineProcess({ processCode: 'PROC-1', name: 'p', formComponents: [{ componentType: 'TextField', props: { id: 'TextField-1', label: '标题' } }], activities: [{ activityId: 'act_1', name: '一', approvers: ['dt-assistant'] }] });
  return ding;
}

test('every outgoing call is counted with a stable name and its outcome (token requests included)', async (t) => {
  const ding = await withProcess(t);
  const r = recordingObserver();
  const api = clientOf(ding, r.observer);
  const id = ding.model.start({ processCode: 'PROC-1', originatorUserId: 'dev-zhang', formComponentValues: [] }).processInstanceId;
  await api.getInstance(id);
  await api.forecast('PROC-1', 'dev-zhang', 4);
  assert.equal(await api.userIdByMobile('13900000002'), 'dev-zhang');
  assert.equal(await api.userIdByMobile('13900000009'), undefined, 'no such user is an answer');
  assert.equal(await api.userDepartment('dev-zhang'), 4);
  await refusal(api.getInstance('nope'));
  ding.rateLimitNext(1);
  const limited = await refusal(api.getInstance(id));
  assert.deepEqual([limited.transient, limited.retryAfterSeconds, limited.code], [true, 1, 'Forbidden.AccessDenied.QpsLimitForAppkeyAndApi']);
  const unreachable = new DingTalkApi({ appKey: 'k', appSecret: 's', apiBaseUrl: 'http://127.0.0.1:1', observer: r.observer });
  assert.equal((await refusal(unreachable.getInstance(id))).transient, true);
  assert.deepEqual(r.calls(), [
    'call v1.0/oauth2/accessToken ok',
    'call v1.0/workflow/processInstances GET ok',
    'call v1.0/workflow/processes/forecast ok',
    'call topapi/v2/user/getbymobile ok',
    'call topapi/v2/user/getbymobile ok',
    'call topapi/v2/user/get ok',
    'call v1.0/workflow/processInstances GET error',
    'call v1.0/workflow/processInstances GET rate_limited',
    'call v1.0/oauth2/accessToken unreachable',
  ]);
  assert.deepEqual(r.others(), []);
});

test('execute sends taskId as a JSON number (Long)', async (t) => {
  const ding = await withProcess(t);
  const api = clientOf(ding, recordingObserver().observer);
  const instance = ding.model.start({ processCode: 'PROC-1', originatorUserId: 'dev-zhang', formComponentValues: [] });
  const task = instance.tasks[0]!;
  await api.execute({ processInstanceId: instance.processInstanceId, taskId: task.taskId, actionerUserId: 'dt-assistant', result: 'agree' });
  const sent = ding.calls.find((c) => c.path === '/v1.0/workflow/processInstances/execute')!.body as { taskId: unknown };
  assert.equal(typeof sent.taskId, 'number');
  assert.equal(instance.status, 'COMPLETED');
});

test('an expired token (400 InvalidAuthentication) is renewed and the call made again', async (t) => {
  const ding = await withProcess(t);
  const r = recordingObserver();
  const api = clientOf(ding, r.observer);
  const id = ding.model.start({ processCode: 'PROC-1', originatorUserId: 'dev-zhang', formComponentValues: [] }).processInstanceId;
  await api.getInstance(id);
  ding.expireTokens();
  assert.equal((await api.getInstance(id)).originatorUserId, 'dev-zhang');
  assert.equal(ding.calls.filter((c) => c.path === '/v1.0/oauth2/accessToken').length, 2);
});

test('the monthly quota (ApiCountLimitForOrg): an hour\'s back-off, said once; said again available on the next successful counted call', async (t) => {
  const ding = await withProcess(t);
  const r = recordingObserver();
  const api = clientOf(ding, r.observer);
  const id = ding.model.start({ processCode: 'PROC-1', originatorUserId: 'dev-zhang', formComponentValues: [] }).processInstanceId;
  ding.exhaustQuota();
  const spent = await refusal(api.getInstance(id));
  assert.deepEqual([spent.transient, spent.retryAfterSeconds, spent.status, spent.code], [true, 3600, 403, 'Forbidden.AccessDenied.ApiCountLimitForOrg']);
  await refusal(api.getInstance(id));
  assert.equal(await api.userDepartment('dev-zhang'), 4, 'contacts are outside the quota');
  assert.equal(r.others().length, 1);
  assert.match(r.others()[0]!, /^quotaExhausted Forbidden\.AccessDenied\.ApiCountLimitForOrg: /);
  ding.restoreQuota();
  await api.getInstance(id);
  await api.getInstance(id);
  assert.deepEqual(r.others().slice(1), ['quotaAvailable']);
  assert.deepEqual(r.calls().filter((c) => c.endsWith('quota_exhausted')), ['call v1.0/workflow/processInstances GET quota_exhausted', 'call v1.0/workflow/processInstances GET quota_exhausted']);
});

test('the old API\'s limit codes: 90018 and 90002 wait a second, 90020 (the monthly quota) an hour', async (t) => {
  let errcode = 90018;
  const oapi = createServer((req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(req.url!.startsWith('/v1.0/oauth2/accessToken') ? { accessToken: 't', expireIn: 7200 } : { errcode, errmsg: 'limited' }));
  });
  await new Promise<void>((r) => oapi.listen(0, '127.0.0.1', r));
  t.after(() => {
    oapi.closeAllConnections();
    oapi.close();
  });
  const url = `http://127.0.0.1:${(oapi.address() as AddressInfo).port}`;
  const r = recordingObserver();
  const api = new DingTalkApi({ appKey: 'k', appSecret: 's', apiBaseUrl: url, oapiBaseUrl: url, observer: r.observer });
  const waits = [];
  for (const code of [90018, 90002, 90020]) {
    errcode = code;
    const e = await refusal(api.userIdByMobile('1'));
    waits.push([e.code, e.transient, e.retryAfterSeconds]);
  }
  assert.deepEqual(waits, [[90018, true, 1], [90002, true, 1], [90020, true, 3600]]);
  assert.deepEqual(r.calls().slice(1), ['call topapi/v2/user/getbymobile rate_limited', 'call topapi/v2/user/getbymobile rate_limited', 'call topapi/v2/user/getbymobile quota_exhausted']);
  assert.equal(r.others().filter((s) => s.startsWith('quotaExhausted')).length, 1);
});

test('a wrong app secret: said once, not retried at once, and costs one token request a minute until it is fixed', async (t) => {
  const ding = await withProcess(t);
  const r = recordingObserver();
  let now = Date.parse('2026-11-25T10:00:00Z');
  const api = clientOf(ding, r.observer, { appSecret: 'rotated-in-the-console', now: () => now });
  const tokenRequests = () => ding.calls.filter((c) => c.path === '/v1.0/oauth2/accessToken').length;
  const first = await refusal(api.getInstance('x'));
  assert.deepEqual([first.transient, first.retryAfterSeconds, first.status, first.code], [true, 60, 400, 'invalidClientIdOrSecret']);
  for (let i = 0; i < 5; i++) {
    now += 10_000;
    const held = await refusal(api.getInstance('x'));
    assert.ok(held.transient && held.retryAfterSeconds! <= 50, 'held without a request');
  }
  assert.equal(tokenRequests(), 1);
  now += 11_000;
  await refusal(api.getInstance('x'));
  assert.equal(tokenRequests(), 2, 'asked again after a minute');
  assert.deepEqual(r.others(), ['credentialsRefused DINGTALK_APP_SECRET invalidClientIdOrSecret: 无效的clientId或者clientSecret'], 'said once');
  ding.setAppSecret('rotated-in-the-console');
  now += 60_000;
  await refusal(api.getInstance('x')); // the instance does not exist: the credentials are fine again
  assert.deepEqual(r.others().slice(1), ['credentialsAccepted']);
  assert.deepEqual(r.calls().filter((c) => c.includes('accessToken')), ['call v1.0/oauth2/accessToken credentials_refused', 'call v1.0/oauth2/accessToken credentials_refused', 'call v1.0/oauth2/accessToken ok']);
});

test('an answer larger than 4 MiB is refused while it is read', async (t) => {
  let written = 0;
  const flood = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    const chunk = Buffer.alloc(64 << 10, 0x20);
    const pump = () => {
      while (written < 200 << 20 && !res.destroyed) {
        written += chunk.length;
        if (!res.write(chunk)) return res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise<void>((r) => flood.listen(0, '127.0.0.1', r));
  t.after(() => (flood.closeAllConnections(), flood.close()));
  const url = `http://127.0.0.1:${(flood.address() as AddressInfo).port}`;
  const { observer, calls } = recordingObserver();
  const api = new DingTalkApi({ appKey: 'k', appSecret: 's', apiBaseUrl: url, oapiBaseUrl: url, observer });
  const e = await refusal(api.getInstance('x'));
  assert.ok(e.transient && /larger than 4194304 bytes/.test(e.message), e.message);
  assert.deepEqual(calls(), ['call v1.0/oauth2/accessToken error']);
  await new Promise((r) => setTimeout(r, 100));
  assert.ok(written < 32 << 20, `${written >> 20} MiB written before the connection closed`);
});
