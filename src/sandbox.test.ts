import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { ConfigError, loadConfig } from './config.ts';
import { startStack, type TestStack } from './testing/runtime.ts';

const dingtalkOnly = {
  LARK_APP_ID: '',
  DINGTALK_APP_KEY: 'dingappkey',
  DINGTALK_APP_SECRET: 'dingtalk-app-secret',
  DINGTALK_ASSISTANT_USER_ID: 'dt-assistant',
  DINGTALK_TOKEN: 'dingtalk-token',
  DINGTALK_AES_KEY: 'a'.repeat(43),
  DINGTALK_API_BASE_URL: 'http://127.0.0.1:9',
  DINGTALK_OAPI_BASE_URL: 'http://127.0.0.1:9',
};

test('sandbox mode only when no IM is configured at all, and never on a non-loopback HOST', () => {
  assert.equal(loadConfig({}).sandbox, true);
  assert.equal(loadConfig(dingtalkOnly).sandbox, false, 'a DingTalk-only deployment is not a sandbox');
  assert.equal(loadConfig(dingtalkOnly).lark.enabled, false);
  assert.throws(() => loadConfig({ HOST: '0.0.0.0' }), (e: Error) => e instanceof ConfigError && /sandbox mode/.test(e.message) && /HOST=127\.0\.0\.1/.test(e.message));
  assert.throws(() => loadConfig({ HOST: '10.1.2.3' }), ConfigError);
  for (const host of ['127.0.0.1', 'localhost', '::1', '[::1]', '127.0.0.2']) assert.equal(loadConfig({ HOST: host }).sandbox, true, host);
  assert.equal(loadConfig({ ...dingtalkOnly, HOST: '0.0.0.0' }).sandbox, false, 'a configured IM may listen anywhere');
});

describe('a DingTalk-only deployment', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ env: { ...dingtalkOnly, LARK_OPTIONS_TOKEN: '' } });
  });
  after(() => stack.close());

  test('gives an anonymous visitor no operator session, serves no options without a token, and takes no Lark events', async () => {
    const page = await fetch(`${stack.runtime.url}/tickets`, { redirect: 'manual' });
    assert.equal(page.status, 401, 'the sign-in page, not a sandbox operator session');
    assert.equal(page.headers.get('set-cookie'), null);
    assert.equal((await fetch(`${stack.runtime.url}/api/v1/tickets`)).status, 401);
    const options = await fetch(`${stack.runtime.url}/field/admin-permission/roles`, { method: 'POST', body: JSON.stringify({ token: '' }), headers: { 'content-type': 'application/json' } });
    assert.equal(options.status, 401);
    const lark = await fetch(`${stack.runtime.url}/api/v1/lark/callback`, { method: 'POST', body: JSON.stringify({ type: 'event_callback', uuid: 'x', event: {} }), headers: { 'content-type': 'application/json' } });
    assert.equal(lark.status, 404);
    assert.equal(((await lark.json()) as { error: { code: string } }).error.code, 'not_configured');
    assert.equal(stack.lark.calls.length, 0, 'nothing is asked of Lark');
  });
});

describe('sandbox mode', () => {
  let stack: TestStack;
  before(async () => {
    stack = await startStack({ env: { LARK_APP_ID: '' } });
  });
  after(() => stack.close());
  const get = (host: string) =>
    new Promise<{ status: number; cookie?: string[] }>((resolve, reject) => {
      const url = new URL(`${stack.runtime.url}/`);
      request({ host: url.hostname, port: url.port, path: '/', headers: { host } }, (res) => {
        res.resume();
        resolve({ status: res.statusCode!, cookie: res.headers['set-cookie'] });
      })
        .on('error', reject)
        .end();
    });

  test('answers only requests addressed to a loopback name: a rebound domain gets 421 and no operator session', async () => {
    assert.equal(stack.runtime.config.sandbox, true);
    const local = await get(`localhost:${new URL(stack.runtime.url).port}`);
    assert.equal(local.status, 200);
    assert.ok(local.cookie?.some((c) => c.startsWith('tf_session=')), 'the local operator session');
    const rebound = await get(`rebind.attacker.example:${new URL(stack.runtime.url).port}`);
    assert.equal(rebound.status, 421);
    assert.equal(rebound.cookie, undefined);
  });
});
