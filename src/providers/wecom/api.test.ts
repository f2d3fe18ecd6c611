import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import type { ImObserver } from '../im-health.ts';
import { InstanceNotFound, ProviderError } from '../provider.ts';
import { weComTemplate } from '../../testing/wecom.ts';
import { verdictOf, WeComApi } from './api.ts';
import { startWeComSimulator, type WeComSimulator } from './simulator/server.ts';
import { recordingObserver } from '../../testing/im-observer.ts';

const refusal = async (p: Promise<unknown>): Promise<ProviderError> => {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof ProviderError, String(e));
    return e;
  }
  assert.fail('expected a refusal');
};

async function corp(t: TestContext): Promise<WeComSimulator> {
  const sim = await startWeComSimulator();
  t.after(() => sim.close());
  sim.model.addUser({ userid: 'dev-zhang', name: '张', mobile: '13900000002' });
  sim.model.defineTemplate(weComTemplate('TPL-1'));
  return sim;
}
const clientOf = (sim: WeComSimulator, observer: ImObserver, extra: { appSecret?: string; now?: () => number } = {}) => new WeComApi({ corpId: sim.options.corpId, appSecret: extra.appSecret ?? sim.options.appSecret, baseUrl: sim.url, observer, now: extra.now });

test('errcodes as the global error code page says: renew on 40014/42001/41001, credentials 40001/40013, limits 45009 (a minute) and 45033 (a second), -1 busy', () => {
  assert.deepEqual(verdictOf(200, 42001), { outcome: 'error', transient: true, renewToken: true });
  assert.deepEqual(verdictOf(200, 40014), { outcome: 'error', transient: true, renewToken: true });
  assert.equal(verdictOf(200, 40001).credentials, 'WECOM_APP_SECRET');
  assert.equal(verdictOf(200, 40013).credentials, 'WECOM_CORP_ID');
  assert.deepEqual(verdictOf(200, 45009), { outcome: 'rate_limited', transient: true, retryAfterSeconds: 60 });
  assert.deepEqual(verdictOf(200, 45033), { outcome: 'rate_limited', transient: true, retryAfterSeconds: 1 });
  assert.deepEqual(verdictOf(200, -1), { outcome: 'error', transient: true });
  assert.deepEqual(verdictOf(200, 301025), { outcome: 'error', transient: false });
});

test('the token is cached across calls, and renewed once when WeCom says it expired (42001); every call counted', async (t) => {
  const sim = await corp(t);
  const r = recordingObserver();
  const api = clientOf(sim, r.observer);
  await Promise.all([api.templateDetail('TPL-1'), api.templateDetail('TPL-1'), api.templateDetail('TPL-1')]);
  assert.equal(sim.calls.filter((c) => c.path === '/cgi-bin/gettoken').length, 1, 'one gettoken for concurrent calls, then cached');
  sim.expireTokens();
  assert.equal((await api.templateDetail('TPL-1')).controls.length, 12);
  assert.deepEqual(sim.calls.slice(-3).map((c) => `${c.path} ${c.errcode}`), ['/cgi-bin/oa/gettemplatedetail 42001', '/cgi-bin/gettoken 0', '/cgi-bin/oa/gettemplatedetail 0']);
  assert.equal(await api.userIdByMobile('13900000002'), 'dev-zhang');
  assert.equal(await api.userIdByMobile('13900000009'), undefined, '46004: no such member');
  const missing = await refusal(api.approvalDetail('202601010999'));
  assert.ok(missing instanceof InstanceNotFound);
  assert.deepEqual(r.calls(), [
    'call cgi-bin/gettoken ok',
    'call cgi-bin/oa/gettemplatedetail ok',
    'call cgi-bin/oa/gettemplatedetail ok',
    'call cgi-bin/oa/gettemplatedetail ok',
    'call cgi-bin/oa/gettemplatedetail error',
    'call cgi-bin/gettoken ok',
    'call cgi-bin/oa/gettemplatedetail ok',
    'call cgi-bin/user/getuserid ok',
    'call cgi-bin/user/getuserid ok',
    'call cgi-bin/oa/getapprovaldetail error',
  ]);
});

test('rate limits: 45009 waits a minute, 45033 a second; both transient and counted as rate_limited', async (t) => {
  const sim = await corp(t);
  const r = recordingObserver();
  const api = clientOf(sim, r.observer);
  sim.rateLimitNext(1, 45009);
  const minute = await refusal(api.templateDetail('TPL-1'));
  assert.deepEqual([minute.transient, minute.retryAfterSeconds, minute.code], [true, 60, 45009]);
  sim.rateLimitNext(1, 45033);
  const second = await refusal(api.templateDetail('TPL-1'));
  assert.deepEqual([second.transient, second.retryAfterSeconds, second.code], [true, 1, 45033]);
  await api.templateDetail('TPL-1');
  assert.deepEqual(r.calls().slice(1), ['call cgi-bin/oa/gettemplatedetail rate_limited', 'call cgi-bin/oa/gettemplatedetail rate_limited', 'call cgi-bin/oa/gettemplatedetail ok']);
});

test('a wrong secret (40001) is said once, holds calls for a minute without a request, and is retried after it', async (t) => {
  const sim = await corp(t);
  const r = recordingObserver();
  let now = Date.now();
  const api = clientOf(sim, r.observer, { appSecret: 'wrong', now: () => now });
  const first = await refusal(api.templateDetail('TPL-1'));
  assert.deepEqual([first.transient, first.code], [true, 40001]);
  assert.match(first.message, /fix WECOM_APP_SECRET/);
  const held = await refusal(api.templateDetail('TPL-1'));
  assert.ok(held.retryAfterSeconds! > 0 && held.retryAfterSeconds! <= 60);
  assert.equal(sim.calls.filter((c) => c.path === '/cgi-bin/gettoken').length, 1, 'no request while held');
  now += 61_000;
  await refusal(api.templateDetail('TPL-1'));
  assert.equal(sim.calls.filter((c) => c.path === '/cgi-bin/gettoken').length, 2);
  assert.deepEqual(r.others(), ['credentialsRefused WECOM_APP_SECRET 40001 invalid credential'], 'said once');
  sim.setAppSecret('wrong');
  now += 61_000;
  await api.templateDetail('TPL-1');
  assert.deepEqual(r.others().slice(1), ['credentialsAccepted']);
});

test('getapprovalinfo: seconds, a window of at most 31 days, paged by new_cursor; filtered by template and creator', async (t) => {
  const sim = await corp(t);
  const api = clientOf(sim, recordingObserver().observer);
  sim.model.defineTemplate({ ...weComTemplate('TPL-2'), controls: [] });
  const contents = [{ control: 'Text', id: 'Text-1569573760849', value: { text: 't' } }];
  const mine = [];
  for (let i = 0; i < 105; i++) mine.push(await api.applyEvent({ creator_userid: 'dev-zhang', template_id: 'TPL-1', use_template_approver: 1, apply_data: { contents } }));
  await api.applyEvent({ creator_userid: 'mgr-wang', template_id: 'TPL-1', use_template_approver: 1, apply_data: { contents } });
  await api.applyEvent({ creator_userid: 'dev-zhang', template_id: 'TPL-2', use_template_approver: 1, apply_data: { contents: [] } });
  const now = Math.floor(Date.now() / 1000);
  assert.deepEqual(await api.approvalNumbers({ startTime: now - 60, endTime: now + 60, templateId: 'TPL-1', creator: 'dev-zhang' }), mine);
  const tooLong = await refusal(api.approvalNumbers({ startTime: now - 32 * 86_400, endTime: now, templateId: 'TPL-1' }));
  assert.equal(tooLong.code, 301025);
  assert.equal(tooLong.transient, false);
});
